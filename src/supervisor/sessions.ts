// Which agent answers and which harness runs a conversation: resolved once per session,
// pinned in history (a `harness` record), re-resolved after `/new` or `/reset`.
import type { Logger } from 'pino';
import type { SwitchboardConfig } from '../config/schema.js';
import { conversationKey } from '../events/room-events.js';
import { HarnessSelectionError, selectHarness, type HarnessSelection } from '../harness/select.js';
import type { HistoryRecord, ThreadStore } from '../storage/types.js';
import type { AgentSpec, Harness } from './harness.js';
import { modelListOf } from '../session/model-refs.js';

export type ResolvedAgent = AgentSpec & { runtime: string; fallback: string };

export interface SessionInfo {
  agent: ResolvedAgent;
  selection: HarnessSelection;
}

/** Distinct infos shared between sessions (almost always one per agent); more are not shared. */
const MAX_SHARED_INFOS = 64;

export class AgentSessions {
  private readonly sessions = new Map<string, SessionInfo>();
  /**
   * Every session of an agent resolves to an equal info (same agent, same choice, same reasons):
   * one shared object instead of ≈ 850 bytes of copies per session, kept for as long as the host runs.
   */
  private readonly shared = new Map<string, SessionInfo>();

  constructor(
    private readonly o: {
      config: SwitchboardConfig;
      baseDir: string;
      harnesses: Map<string, Harness>;
      store: () => ThreadStore;
      write: (session: string, record: HistoryRecord) => void;
      log: Logger;
    },
  ) {}

  /** The conversation key of a post (per participant when so configured). */
  keyOf(m: { room: string; channel: string; thread: string; from: { id: string } }): string {
    return conversationKey(m, this.o.config.sessions.perParticipant);
  }

  agentFor(id: string | undefined): ResolvedAgent {
    const c = this.o.config.agents;
    const listed = id ? c.list.find((a) => a.id === id) : (c.list.find((a) => a.default) ?? undefined);
    if (id && !listed) throw new Error(`unknown agent "${id}"; configured: ${c.list.map((a) => a.id).join(', ') || '(none)'}`);
    const h = { ...c.defaults.embeddedHarness, ...(listed?.embeddedHarness ?? {}) };
    const models = modelListOf(listed?.models ?? c.defaults.models);
    return {
      id: listed?.id ?? 'default',
      model: listed?.model ?? c.defaults.model,
      models: models?.refs,
      modelAliases: models?.aliases ?? {},
      cwd: listed?.cwd ?? c.defaults.cwd ?? this.o.baseDir,
      developerInstructions: listed?.developerInstructions ?? c.defaults.developerInstructions,
      approvers: [...c.defaults.approvers, ...(listed?.approvers ?? [])],
      runtime: h.runtime,
      fallback: h.fallback,
    };
  }

  /** Harness for a session: pinned once chosen; logged as one structured record. */
  async resolve(session: string, agent: ResolvedAgent): Promise<SessionInfo> {
    const known = this.sessions.get(session);
    if (known) return known;
    const pinned = await this.pinnedHarness(session);
    let selection: HarnessSelection;
    try {
      // A configured list's first entry is the agent's default model.
      selection = selectHarness({ runtime: agent.runtime, fallback: agent.fallback, model: agent.model ?? agent.models?.[0], harnesses: this.o.harnesses, pinned });
    } catch (err) {
      if (err instanceof HarnessSelectionError) this.o.log.error({ session, agent: agent.id, candidates: err.candidates }, 'agent harness selection failed');
      throw err;
    }
    const s = selection;
    this.o.log.info(
      { session, agent: agent.id, harness: s.harness, reason: s.reason, runtime: s.runtime, fallback: s.fallback, model: s.model, pinned: s.pinned, candidates: s.candidates },
      'agent harness selected',
    );
    if (!selection.pinned) this.o.write(session, { kind: 'harness', harness: selection.harness, reason: selection.reason });
    const info = this.share({ agent, selection });
    this.sessions.set(session, info);
    return info;
  }

  private share(info: SessionInfo): SessionInfo {
    const key = JSON.stringify(info);
    const known = this.shared.get(key);
    if (known) return known;
    if (this.shared.size < MAX_SHARED_INFOS) this.shared.set(key, info);
    return info;
  }

  private async pinnedHarness(session: string): Promise<string | undefined> {
    const r = await this.o.store().lastOfKind(session, 'harness');
    return r === undefined || r.harness === '(unpinned)' ? undefined : r.harness;
  }

  /** `/model` of another backend: the conversation goes on there (recorded, so a restart keeps it). */
  repin(session: string, agent: ResolvedAgent, harness: string, reason: string): void {
    const selection: HarnessSelection = { harness, reason, runtime: agent.runtime, fallback: agent.fallback, model: agent.model, pinned: true, candidates: [] };
    this.o.log.info({ session, agent: agent.id, harness, reason }, 'conversation moved to another harness');
    this.o.write(session, { kind: 'harness', harness, reason });
    this.sessions.set(session, { agent, selection });
  }

  /** `/new` and `/reset` let the next turn re-resolve the harness. */
  unpin(session: string): void {
    this.sessions.delete(session);
    this.o.write(session, { kind: 'harness', harness: '(unpinned)', reason: 'session reset' });
  }

  info(session: string): SessionInfo | undefined {
    return this.sessions.get(session);
  }

  list(): Array<{ session: string; agent: string; harness: string; reason: string }> {
    return [...this.sessions].map(([session, s]) => ({ session, agent: s.agent.id, harness: s.selection.harness, reason: s.selection.reason }));
  }
}
