// Startup policy: every harness is started; one that cannot start is skipped with a warning,
// unless its runtime is forced with fallback `none` — then Switchboard fails early. Kept out
// of the supervisor chart because it is a rule over the configured agents, not a state.
import type { Logger } from 'pino';
import type { SwitchboardConfig } from '../config/schema.js';
import type { Harness } from './harness.js';

export async function startHarnesses(
  harnesses: ReadonlyMap<string, Harness>,
  config: SwitchboardConfig,
  getChild: Parameters<Harness['start']>[0],
  signal: AbortSignal,
  log: Logger,
): Promise<void> {
  const d = config.agents.defaults.embeddedHarness;
  const forced = new Set([d.runtime, ...config.agents.list.map((a) => a.embeddedHarness?.runtime ?? d.runtime)].filter((r) => r !== 'auto'));
  const fallbacks = new Set([d.fallback, ...config.agents.list.map((a) => a.embeddedHarness?.fallback ?? d.fallback)]);
  for (const [id, h] of harnesses) {
    try {
      await h.start(getChild, signal);
    } catch (err) {
      const msg = (err as Error).message;
      // A forced runtime with no fallback must fail early; otherwise we run without it.
      if (forced.has(id) && fallbacks.has('none')) throw new Error(`harness "${id}" is required (runtime ${id}, fallback none) but cannot start: ${msg}`);
      log.warn({ harness: id, err: msg }, 'harness unavailable; continuing with the others');
    }
  }
  for (const id of forced) {
    if (!harnesses.has(id) && fallbacks.has('none')) throw new Error(`runtime "${id}" is configured with fallback none, but no harness "${id}" is registered`);
  }
}

/** Harnesses in reverse start order; a failing stop is logged and the others still stop. */
export async function stopHarnesses(harnesses: ReadonlyMap<string, Harness>, log: Logger): Promise<void> {
  for (const h of [...harnesses.values()].reverse()) {
    try {
      await h.stop();
    } catch (err) {
      log.error({ err, harness: h.id }, 'harness stop failed');
    }
  }
}

/**
 * Every configured `runtime` (but `auto`) and `fallback` (but `none`) names a registered harness:
 * `SWITCHBOARD_FALLBACK=pi` on a host without a `pi` harness is an error, not a silent no-op.
 */
export function checkHarnessIds(config: SwitchboardConfig, ids: readonly string[]): void {
  const d = config.agents.defaults.embeddedHarness;
  const uses = [
    { where: 'agents.defaults.embeddedHarness', ...d },
    ...config.agents.list.map((a, i) => ({ where: `agents.list[${i}].embeddedHarness`, runtime: a.embeddedHarness?.runtime ?? d.runtime, fallback: a.embeddedHarness?.fallback ?? d.fallback })),
  ];
  for (const u of uses) {
    if (u.runtime !== 'auto' && !ids.includes(u.runtime)) throw new Error(`${u.where}.runtime "${u.runtime}" is not a harness: write auto, ${ids.join(' or ')}`);
    if (u.fallback !== 'none' && !ids.includes(u.fallback)) throw new Error(`${u.where}.fallback "${u.fallback}" is not a harness: write none, ${ids.join(' or ')} (SWITCHBOARD_FALLBACK sets the default)`);
  }
}

/** Beside `codex`: the llm backend and the host's harnesses, each id once; then every configured id must be one of them. */
export function registerHarnesses(harnesses: Map<string, Harness>, more: readonly Harness[], config: SwitchboardConfig): void {
  for (const h of more) {
    if (harnesses.has(h.id)) throw new Error(`harness id "${h.id}" is registered twice`);
    harnesses.set(h.id, h);
  }
  checkHarnessIds(config, [...harnesses.keys()]);
}
