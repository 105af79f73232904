// `switchboard simulate SCENARIO [--trace FILE] [--record] [--json]`.
// Exit codes: 0 the scenario passed, 1 it diverged (or the run failed), 2 the scenario file
// is unreadable or invalid (the zod problems are printed with their paths).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { formatDivergence, runScenario, summarize, type RunResult } from './runner.js';
import { parseScenarioText, ScenarioError, type Scenario } from './scenario.js';
import { recordScenario } from './record.js';

export interface SimulateOptions {
  /** Write a JSON Lines trace of the run (of the replay, with --record). */
  trace?: string;
  /** Play the room side against the real app-server, write `<name>.recorded.json`, replay it. */
  record?: boolean;
  /** Print the result as JSON on stdout. */
  json?: boolean;
}

export interface SimulateOutput {
  line(text: string): void;
  error(text: string): void;
}

/** Where `--record` writes: next to the scenario, `x.json` → `x.recorded.json`. */
export function recordedPath(file: string): string {
  const dir = path.dirname(file);
  const base = path.basename(file).replace(/\.json$/i, '');
  return path.join(dir, `${base}.recorded.json`);
}

export async function simulateCommand(file: string, opts: SimulateOptions, out: SimulateOutput): Promise<number> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    out.error(`cannot read scenario ${file}: ${(err as Error).message}`);
    return 2;
  }
  let scenario: Scenario;
  try {
    scenario = parseScenarioText(text, file);
  } catch (err) {
    if (err instanceof ScenarioError) {
      out.error(err.message);
      return 2;
    }
    throw err;
  }

  let target: unknown = scenario;
  if (opts.record) {
    try {
      const recording = await recordScenario({
        plan: scenario,
        appServer: { ...(process.env.SWITCHBOARD_CODEX_COMMAND ? { command: process.env.SWITCHBOARD_CODEX_COMMAND } : {}) },
      });
      const dest = recordedPath(file);
      writeFileSync(dest, `${JSON.stringify(recording.scenario, null, 2)}\n`);
      if (!opts.json) out.line(`recorded ${recording.tap.filter((t) => t.kind === 'in' || t.kind === 'out').length} frames and ${recording.events.length} room events → ${dest}`);
      target = recording.scenario;
    } catch (err) {
      out.error(`recording failed: ${(err as Error).message}`);
      return 1;
    }
  }

  let result: RunResult;
  try {
    result = await runScenario(target, opts.trace ? { trace: opts.trace } : {});
  } catch (err) {
    out.error(`simulation failed: ${(err as Error)?.stack ?? String(err)}`);
    return 1;
  }
  if (opts.json) {
    out.line(
      JSON.stringify({
        ok: result.ok,
        name: result.name,
        ...(result.divergence ? { divergence: { ...result.divergence, text: formatDivergence(result.divergence, result.name) } } : {}),
        events: result.events,
        finalStates: result.finalStates,
        virtualMs: result.virtualMs,
        ...(result.trace ? { trace: result.trace } : {}),
      }),
    );
  } else if (result.ok) {
    out.line(summarize(result));
    if (result.trace) out.line(`trace → ${result.trace}`);
  } else {
    out.error(summarize(result));
  }
  return result.ok ? 0 : 1;
}
