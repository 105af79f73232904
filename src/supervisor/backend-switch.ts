// `/model` and `/models` across backends (when the llm backend is enabled): a ref of the other
// backend re-pins the conversation to it (a `harness` record, so a restart keeps it) and the
// new backend then takes `/model NAME` itself. The room thread's stored history is the
// conversation's memory, so the llm backend sends what Codex answered, and Codex is given
// (`thread/inject_items`) what the llm backend answered while it was away.
import type { Logger } from 'pino';
import type { AgentSpec, Harness } from './harness.js';
import type { CommandContext, CommandHost } from './commands.js';
import type { CodexHarness } from './codex-harness.js';
import type { LlmHarness } from '../llm/harness.js';
import type { AgentSessions } from './sessions.js';
import type { StoredRecord } from '../storage/types.js';
import { backendOf, bareModelName, type Backend } from '../session/model-refs.js';
import { catchUpCodex } from './codex-catch-up.js';
import type { ModelList } from '../room/protocol.js';

/** A configured alias names a ref of the agent's list (the first whose model it is). */
function refOf(agent: AgentSpec, typed: string): string {
  const lower = typed.trim().toLowerCase();
  const name = Object.entries(agent.modelAliases ?? {}).find(([a]) => a.toLowerCase() === lower)?.[1];
  if (name === undefined) return typed.trim();
  return agent.models?.find((r) => bareModelName(r).toLowerCase() === name.toLowerCase()) ?? name;
}

export interface BackendSwitchDeps {
  codex: CodexHarness;
  llm: LlmHarness;
  harnesses: ReadonlyMap<string, Harness>;
  sessions: AgentSessions;
  /** A session's stored history, queued writes durable first. */
  history: (session: string) => Promise<StoredRecord[]>;
  notice: (session: string, level: 'info' | 'warning' | 'error', text: string) => void;
  log: Logger;
  llmEnabled: boolean;
}

export class BackendSwitch {
  constructor(private readonly d: BackendSwitchDeps) {}

  /** True when handled here; false: the session's (possibly new) harness takes the command. */
  async command(sb: Pick<CommandHost, 'sessionInfo' | 'resolveSession'>, c: CommandContext, cmd: 'model' | 'models', arg: string): Promise<boolean> {
    if (!this.d.llmEnabled) return false;
    const info = sb.sessionInfo(c.session) ?? (await sb.resolveSession(c.session, c.agent).catch(() => undefined));
    const backend = info?.selection.harness;
    if (cmd === 'models') {
      this.d.notice(c.session, 'info', await this.listing(c, backend));
      return true;
    }
    if (arg.trim() === '') return false;
    const ref = refOf(c.agent, arg);
    const target = backendOf(ref, true);
    if (!target || target === backend) return false;
    const unknown = await this.unknownOn(c.agent, target, ref);
    if (unknown) {
      this.d.notice(c.session, 'warning', unknown);
      return true;
    }
    if (this.busy(c, backend)) {
      this.d.notice(c.session, 'warning', `A turn is running or queued on the ${backend} backend: wait for it to end (or /stop it), then switch.`);
      return true;
    }
    const avail = this.d.harnesses.get(target)?.available() ?? { ok: false, reason: `harness "${target}" is not registered` };
    if (!avail.ok) {
      this.d.notice(c.session, 'warning', `Cannot switch to the ${target} backend: ${avail.reason}.`);
      return true;
    }
    // Back to Codex: its thread is first given what it missed.
    const problem = target === 'codex' ? await catchUpCodex(this.d.codex, c.agent, c.session, await this.d.history(c.session), this.d.log) : undefined;
    if (problem) this.d.notice(c.session, 'warning', problem);
    this.d.sessions.repin(c.session, c.agent, target, `/model ${ref}`);
    this.d.notice(c.session, 'info', `This conversation now runs on the ${target} backend, with this room thread's history.`);
    return false;
  }

  /**
   * The agent's models for the room's picker and `switchboard models`: Codex's catalog, and with
   * the llm backend enabled its models first, Codex's as `codex/NAME` (what `/model` takes).
   */
  async modelList(agent: AgentSpec): Promise<ModelList> {
    const codex = await this.d.codex.catalogFor(agent).list();
    if (!this.d.llmEnabled) return codex;
    const llm = this.d.llm.models(agent);
    const def = agent.model ?? agent.models?.[0];
    const llmModels = llm.names().map((model) => ({ model, isDefault: model === def }));
    const codexModels = codex.models.map((m) => ({ ...m, model: `codex/${m.model}`, isDefault: `codex/${m.model}` === def || (m.isDefault && !llmModels.some((x) => x.isDefault)) }));
    return { ...codex, models: [...llmModels, ...codexModels] };
  }

  /** The model the conversation's next llm turn uses (for `/status`). */
  llmModel(c: Pick<CommandContext, 'agent' | 'session'>): string {
    return this.d.llm.modelOf(c.agent, c.session);
  }

  /** Moving mid-turn would leave the running turn's answer out of what the other backend is given. */
  private busy(c: CommandContext, backend: string | undefined): boolean {
    if (backend === 'llm') return this.d.llm.busy(c.session);
    if (backend !== 'codex') return false;
    const s = this.d.codex.sessionManager(c.agent).sessionStatus(c.session);
    return !!s && (s.turnRunning || s.queued > 0);
  }

  /** The conversation's current model on its backend, for listings. */
  private currentModel(c: CommandContext, backend: string | undefined): string | undefined {
    if (backend === 'llm') return this.d.llm.modelOf(c.agent, c.session);
    if (backend === 'codex') return this.d.codex.sessionManager(c.agent).sessionStatus(c.session)?.model;
    return undefined;
  }

  private async listing(c: CommandContext, backend: string | undefined): Promise<string> {
    const current = this.currentModel(c, backend);
    const llmLines = this.d.llm.models(c.agent).names().map((r) => `- ${r} (llm)${backend === 'llm' && r === current ? ' [current]' : ''}`);
    const codex = await this.d.codex.catalogFor(c.agent).list();
    const codexLines = codex.models.map((m) => `- codex/${m.model} (codex)${backend === 'codex' && m.model === current ? ' [current]' : ''}`);
    const note = codex.source === 'fallback' ? `\n(Codex list: fallback${codex.note ? `, ${codex.note}` : ''})` : '';
    return `Models (this conversation runs on ${backend ?? 'no backend yet'}):\n${[...llmLines, ...codexLines].join('\n')}${note}\nPlain names are the llm backend's; codex/NAME and openai/NAME are Codex's.`;
  }

  /** Does the target backend know the model? Undefined when it does, else why not. */
  private async unknownOn(agent: AgentSpec, target: Backend, ref: string): Promise<string | undefined> {
    if (target === 'llm') {
      const models = this.d.llm.models(agent);
      return models.find(ref) ? undefined : `Unknown model "${ref}". Available on the llm backend: ${models.names().join(', ')}.`;
    }
    const catalog = this.d.codex.catalogFor(agent);
    if (await catalog.find(ref)) return undefined;
    return `Unknown model "${ref}". Available on Codex: ${(await catalog.list()).models.map((m) => `codex/${m.model}`).join(', ')}.`;
  }
}
