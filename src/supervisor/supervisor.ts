// The embedding API: one object a host creates, starts, feeds and watches.
import { Subject, type Observable } from 'rxjs';
import { createActor, type Actor, type InspectionEvent } from 'xstate';
import { z } from 'zod';
import type { Logger } from 'pino';
import { supervisorMachine } from '../../machines/supervisor.machine.js';
import { ConfigError, loadConfig, redactedConfig, type LoadedConfig } from '../config/load.js';
import type { SwitchboardConfig, SwitchboardConfigInput } from '../config/schema.js';
import { conversationKeyString, type RoomEvent } from '../events/room-events.js';
import { HarnessSelectionError, selectHarness, type HarnessSelection } from '../harness/select.js';
import { Hooks } from '../hooks/hooks.js';
import { createLogger } from '../log/logger.js';
import { DatasetStore } from '../storage/dataset.js';
import { MemoryStore } from '../storage/memory.js';
import type { HistoryRecord, InboxMessage, StoredRecord, ThreadStore } from '../storage/types.js';
import type { ApprovalAudit } from '../approvals/types.js';
import type { DynamicTool, ToolCallResult } from '../approvals/tools.js';
import { CodexHarness } from './codex-harness.js';
import type { AgentSpec, Harness } from './harness.js';
import { recordOf } from './history.js';
import { supervisorRuntimes } from './runtime.js';
import { processRegistry } from '../process/registry.js';
import { runSupervisorCommand } from './commands.js';
import { summarize } from '../protocol/wire.js';

const VERSION = '0.1.0';
let supervisorCount = 0;

const name = z.string().min(1).max(200).regex(/^[^/\s]+$/, 'no slashes or spaces');
export const PostSchema = z.strictObject({
  room: name,
  channel: name.default('chat'),
  thread: name.default('main'),
  from: z.strictObject({ id: z.string().min(1), name: z.string().optional() }),
  text: z.string().min(1, 'text must not be empty'),
  attachments: z.array(z.record(z.string(), z.unknown())).optional(),
  /** Which configured agent answers; default: the default agent. */
  agent: z.string().optional(),
});
export type PostInput = z.input<typeof PostSchema>;

export type DynamicToolSpec = DynamicTool;

export interface SupervisorOptions {
  log?: Logger;
  /** Extra harnesses (their ids are the `runtime` / `fallback` values). */
  harnesses?: Harness[];
  /** Read switchboard.config.json and SWITCHBOARD_* variables too (the CLI does). */
  env?: NodeJS.ProcessEnv;
  file?: string;
  /** Base directory for relative paths in the config (default: cwd). */
  baseDir?: string;
  /** Use this store instead of the configured one. */
  store?: ThreadStore;
  /** XState inspection for every actor (e.g. `createTracer(file)`); off unless given. */
  inspect?: (ev: InspectionEvent) => void;
}

interface SessionInfo {
  agent: AgentSpec;
  selection: HarnessSelection;
}

export class Supervisor {
  /** Stable across runs (traces compare), unique within the process. */
  readonly id = `supervisor-${++supervisorCount}`;
  readonly config: SwitchboardConfig;
  readonly warnings: string[];
  readonly hooks: Hooks;
  readonly log: Logger;
  readonly actor: Actor<typeof supervisorMachine>;
  private readonly subject = new Subject<RoomEvent>();
  readonly events$: Observable<RoomEvent> = this.subject.asObservable();
  private readonly auditSubject = new Subject<ApprovalAudit>();
  readonly audit$: Observable<ApprovalAudit> = this.auditSubject.asObservable();
  private readonly harnesses = new Map<string, Harness>();
  readonly codex: CodexHarness;
  private store: ThreadStore | undefined;
  private readonly sessions = new Map<string, SessionInfo>();
  private readonly writeChains = new Map<string, Promise<unknown>>();
  /** Inbox entries per session not yet taken by a turn: [id, postedAt]. */
  private readonly inbox = new Map<string, Array<{ id: string; at: number }>>();
  private readonly baseDir: string;

  constructor(loaded: LoadedConfig, private readonly options: SupervisorOptions = {}) {
    this.config = loaded.config;
    this.warnings = loaded.warnings;
    this.baseDir = options.baseDir ?? process.cwd();
    this.log = (options.log ?? createLogger({ level: this.config.log.level })).child({ supervisor: this.id });
    for (const w of this.warnings) this.log.warn({ warning: w }, 'configuration warning');
    this.hooks = new Hooks(this.log);
    this.codex = new CodexHarness({
      config: this.config,
      sink: (e) => this.onEvent(e),
      log: this.log,
      baseDir: this.baseDir,
      onAudit: (a) => this.auditSubject.next(a),
      clientVersion: VERSION,
      inspect: options.inspect,
    });
    this.harnesses.set('codex', this.codex);
    for (const h of options.harnesses ?? []) {
      if (this.harnesses.has(h.id)) throw new Error(`harness id "${h.id}" is registered twice`);
      this.harnesses.set(h.id, h);
    }
    supervisorRuntimes.register(this.id, {
      startHarnesses: (getChild, signal) => this.startHarnesses(getChild, signal),
      stopHarnesses: () => this.stopHarnesses(),
      onChildDone: (child) => this.log.warn({ child }, 'connection actor ended'),
    });
    const connections = [...this.harnesses.values()].flatMap((h) => h.connections?.() ?? []);
    this.actor = createActor(supervisorMachine, { id: this.id, input: { supervisorId: this.id, connections }, ...(options.inspect ? { inspect: options.inspect } : {}) });
    this.actor.subscribe({ error: (err) => this.log.error({ err }, 'supervisor actor error') });
  }

  /** Start: open storage, start harnesses (fails early when a forced runtime cannot serve), replay the inbox. */
  async start(): Promise<void> {
    if (this.actor.getSnapshot().status === 'active' && this.actor.getSnapshot().value !== 'idle') return;
    this.actor.start();
    const done = new Promise<void>((resolve, reject) => {
      const sub = this.actor.subscribe((s) => {
        if (s.value === 'running') {
          sub.unsubscribe();
          resolve();
        } else if (s.status === 'done') {
          sub.unsubscribe();
          reject(new Error(`Switchboard failed to start: ${s.context.error ?? 'stopped'}`));
        }
      });
    });
    this.actor.send({ type: 'START' });
    await done;
    await this.replayInbox();
  }

  private async startHarnesses(getChild: Parameters<Harness['start']>[0], signal: AbortSignal): Promise<void> {
    const orphans = processRegistry.reapOrphans();
    if (orphans.length) this.log.warn({ pids: orphans }, 'killed processes left behind by a Switchboard host that died');
    this.store = this.options.store ?? (await this.openStore());
    const d = this.config.agents.defaults.embeddedHarness;
    const forced = new Set([d.runtime, ...this.config.agents.list.map((a) => a.embeddedHarness?.runtime ?? d.runtime)].filter((r) => r !== 'auto'));
    const fallbacks = new Set([d.fallback, ...this.config.agents.list.map((a) => a.embeddedHarness?.fallback ?? d.fallback)]);
    for (const [id, h] of this.harnesses) {
      try {
        await h.start(getChild, signal);
      } catch (err) {
        const msg = (err as Error).message;
        // A forced runtime with no fallback must fail early; otherwise we run without it.
        if (forced.has(id) && fallbacks.has('none')) throw new Error(`harness "${id}" is required (runtime ${id}, fallback none) but cannot start: ${msg}`);
        this.log.warn({ harness: id, err: msg }, 'harness unavailable; continuing with the others');
      }
    }
    for (const id of forced) {
      if (!this.harnesses.has(id) && fallbacks.has('none')) throw new Error(`runtime "${id}" is configured with fallback none, but no harness "${id}" is registered`);
    }
  }

  private async openStore(): Promise<ThreadStore> {
    const s = this.config.storage;
    if (s.kind === 'dataset') {
      const { resolve } = await import('node:path');
      return DatasetStore.open(resolve(this.baseDir, s.path), this.log);
    }
    return new MemoryStore(s.kind);
  }

  private async stopHarnesses(): Promise<void> {
    for (const h of [...this.harnesses.values()].reverse()) {
      try {
        await h.stop();
      } catch (err) {
        this.log.error({ err, harness: h.id }, 'harness stop failed');
      }
    }
    await Promise.all(this.writeChains.values());
    await this.store?.close();
  }

  /** Graceful stop: interrupt turns (bounded), deny pending approvals, stop app-servers. */
  async stop(): Promise<void> {
    const snap = this.actor.getSnapshot();
    if (snap.status !== 'active') return;
    const done = new Promise<void>((resolve) => {
      const sub = this.actor.subscribe((s) => {
        if (s.status === 'done') {
          sub.unsubscribe();
          resolve();
        }
      });
    });
    this.actor.send({ type: 'STOP' });
    if (snap.value === 'idle') this.actor.stop();
    else await done;
    this.subject.complete();
    this.auditSubject.complete();
    supervisorRuntimes.unregister(this.id);
  }

  private agentFor(id: string | undefined): AgentSpec & { runtime: string; fallback: string } {
    const c = this.config.agents;
    const listed = id ? c.list.find((a) => a.id === id) : (c.list.find((a) => a.default) ?? undefined);
    if (id && !listed) throw new Error(`unknown agent "${id}"; configured: ${c.list.map((a) => a.id).join(', ') || '(none)'}`);
    const h = { ...c.defaults.embeddedHarness, ...(listed?.embeddedHarness ?? {}) };
    return {
      id: listed?.id ?? 'default',
      model: listed?.model ?? c.defaults.model,
      models: listed?.models ?? c.defaults.models,
      cwd: listed?.cwd ?? c.defaults.cwd ?? this.baseDir,
      developerInstructions: listed?.developerInstructions ?? c.defaults.developerInstructions,
      approvers: [...c.defaults.approvers, ...(listed?.approvers ?? [])],
      runtime: h.runtime,
      fallback: h.fallback,
    };
  }

  /** Hand over a room message. Validated (throws a readable error); durable before it returns. */
  async post(input: PostInput): Promise<{ session: string }> {
    const parsed = PostSchema.safeParse(input);
    if (!parsed.success) throw new Error(`invalid post: ${summarize(parsed.error)}`);
    const msg = parsed.data;
    if (this.actor.getSnapshot().value !== 'running') throw new Error('Switchboard is not running: call start() first');
    const session = this.sessionKey(msg);
    const inboxMsg: InboxMessage = { room: msg.room, channel: msg.channel, thread: msg.thread, from: msg.from, text: msg.text, attachments: msg.attachments };
    const entry = await this.store!.enqueue(session, inboxMsg);
    await this.dispatch(session, inboxMsg, entry.id, msg.agent);
    return { session };
  }

  private sessionKey(m: { room: string; channel: string; thread: string; from: { id: string } }): string {
    const base = conversationKeyString(m);
    return this.config.sessions.perParticipant ? `${base}/@${m.from.id}` : base;
  }

  private async dispatch(session: string, msg: InboxMessage, inboxId: string, agentId?: string, replay = false): Promise<void> {
    const agent = this.agentFor(agentId);
    const from = { id: msg.from.id, name: msg.from.name ?? msg.from.id };
    const text = msg.text.trim();
    if (text.startsWith('/')) {
      const handled = await runSupervisorCommand(this, { session, agent, text, from, msg });
      if (handled) {
        await this.store!.ack(inboxId);
        return;
      }
    }
    // A replayed inbox message was recorded when it was first posted.
    if (!replay) this.write(session, { kind: 'message', role: 'user', author: { id: from.id, name: msg.from.name }, text: msg.text });
    let info: SessionInfo;
    try {
      info = await this.resolveSession(session, agent);
    } catch (err) {
      await this.store!.ack(inboxId);
      this.notice(session, 'error', (err as Error).message);
      return;
    }
    const queue = this.inbox.get(session) ?? [];
    queue.push({ id: inboxId, at: Date.now() });
    this.inbox.set(session, queue);
    const built = await this.hooks.run('before_prompt_build', { session, from, prompt: msg.text });
    this.hooks.emit('llm_input', { session, threadId: '', turnId: undefined, input: [{ type: 'text', text: built.prompt }], model: agent.model });
    await this.harnesses.get(info.selection.harness)!.post(info.agent, { ...msg, from, text: built.prompt }, (e) => this.onEvent(e));
  }

  /** Harness for a session: pinned once chosen; logged as one structured record. */
  async resolveSession(session: string, agent: AgentSpec & { runtime: string; fallback: string }): Promise<SessionInfo> {
    const known = this.sessions.get(session);
    if (known) return known;
    const pinned = await this.pinnedHarness(session);
    let selection: HarnessSelection;
    try {
      selection = selectHarness({ runtime: agent.runtime, fallback: agent.fallback, model: agent.model, harnesses: this.harnesses, pinned });
    } catch (err) {
      if (err instanceof HarnessSelectionError) this.log.error({ session, agent: agent.id, candidates: err.candidates }, 'agent harness selection failed');
      throw err;
    }
    this.log.info({ session, agent: agent.id, harness: selection.harness, reason: selection.reason, runtime: selection.runtime, fallback: selection.fallback, model: selection.model, pinned: selection.pinned, candidates: selection.candidates }, 'agent harness selected');
    if (!selection.pinned) this.write(session, { kind: 'harness', harness: selection.harness, reason: selection.reason });
    const info = { agent, selection };
    this.sessions.set(session, info);
    return info;
  }

  private async pinnedHarness(session: string): Promise<string | undefined> {
    const history = await this.store!.history(session);
    for (let i = history.length - 1; i >= 0; i--) {
      const r = history[i]!;
      if (r.kind === 'harness') return r.harness === '(unpinned)' ? undefined : r.harness;
    }
    return undefined;
  }

  /** `/new` and `/reset` let the next turn re-resolve the harness. */
  unpin(session: string): void {
    this.sessions.delete(session);
    this.write(session, { kind: 'harness', harness: '(unpinned)', reason: 'session reset' });
  }

  sessionInfo(session: string): SessionInfo | undefined {
    return this.sessions.get(session);
  }

  harness(id: string): Harness | undefined {
    return this.harnesses.get(id);
  }

  notice(session: string, level: 'info' | 'warning' | 'error', text: string): void {
    this.onEvent({ type: 'notice', session, at: Date.now(), level, text });
  }

  /** Every room event passes here: history, hooks, inbox acks, then the host. */
  private onEvent(e: RoomEvent): void {
    const rec = recordOf(e);
    if (rec) this.write(e.session, rec);
    switch (e.type) {
      case 'message.completed':
        this.hooks.emit('llm_output', { session: e.session, threadId: '', turnId: e.turnId, text: e.text });
        break;
      case 'tool.completed':
        this.hooks.emit('after_tool_call', { session: e.session, turnId: e.turnId, toolId: e.toolId, kind: e.kind, data: e.data });
        break;
      case 'turn.started':
        this.ackInbox(e.session, e.at);
        if (this.config.storage.kind === 'codex') this.nameCodexThread(e.session, e.threadId);
        break;
      case 'turn.completed':
      case 'turn.failed':
      case 'turn.interrupted':
        // In steer mode, messages posted during the turn went into it.
        if (this.config.sessions.onMessageDuringTurn === 'steer') this.ackInbox(e.session, e.at);
        this.hooks.emit('agent_end', {
          session: e.session,
          threadId: e.threadId ?? '',
          turnId: e.turnId ?? '',
          status: e.type.slice('turn.'.length),
          error: e.type === 'turn.failed' ? e.error : undefined,
        });
        break;
    }
    try {
      this.subject.next(e);
    } catch (err) {
      this.log.error({ err }, 'events$ subscriber threw');
    }
  }

  private readonly namedThreads = new Set<string>();

  /** `codex` storage: Codex keeps the thread; name it after the conversation so it can be found. */
  private nameCodexThread(session: string, threadId: string): void {
    if (this.namedThreads.has(threadId)) return;
    this.namedThreads.add(threadId);
    this.codex.connection
      .request('thread/name/set', { threadId, name: session })
      .catch((err: unknown) => this.log.warn({ err: (err as Error).message, threadId }, 'thread/name/set failed'));
  }

  /** `codex` storage: `/reset` archives the thread the conversation leaves behind. */
  async archiveCodexThread(threadId: string): Promise<void> {
    if (this.config.storage.kind !== 'codex') return;
    await this.codex.connection.request('thread/archive', { threadId }).catch((err: unknown) => this.log.warn({ err: (err as Error).message, threadId }, 'thread/archive failed'));
  }

  private ackInbox(session: string, before: number): void {
    const q = this.inbox.get(session);
    if (!q) return;
    const taken = q.filter((x) => x.at <= before);
    this.inbox.set(session, q.filter((x) => x.at > before));
    for (const t of taken) void this.store?.ack(t.id).catch((err: unknown) => this.log.error({ err }, 'inbox ack failed'));
  }

  /** History writes, in order per session, through the before_message_write hook. */
  write(session: string, record: HistoryRecord): void {
    const prev = this.writeChains.get(session) ?? Promise.resolve();
    const next = prev
      .then(async () => {
        const out = await this.hooks.run('before_message_write', { session, record });
        if (out.block) return;
        await this.store?.append(session, out.record);
      })
      .catch((err: unknown) => this.log.error({ err, session }, 'history write failed'));
    this.writeChains.set(session, next);
    void next.then(() => {
      if (this.writeChains.get(session) === next) this.writeChains.delete(session);
    });
  }

  /** Wait until history writes queued so far are durable. */
  async flush(): Promise<void> {
    await Promise.all(this.writeChains.values());
  }

  async history(room: string, filter: { channel?: string; thread?: string } = {}): Promise<StoredRecord[]> {
    await this.flush();
    const prefix = [room, filter.channel, filter.thread].filter(Boolean).join('/');
    return this.store ? this.store.historyByPrefix(prefix) : [];
  }

  private async replayInbox(): Promise<void> {
    const pending = await this.store!.pending();
    for (const e of pending) {
      this.log.info({ session: e.session, inbox: e.id }, 'delivering a message accepted before a restart');
      await this.dispatch(e.session, e.message, e.id, undefined, true);
    }
  }

  decide(input: { approvalId: string; by: string; decision: string; content?: unknown; room?: string }): { ok: true } | { ok: false; reason: string } {
    // Transports may add fields of their own (the room server adds `room`): pass only the decision.
    const d = { approvalId: input.approvalId, by: input.by, decision: input.decision, ...(input.content !== undefined ? { content: input.content } : {}) };
    for (const h of this.harnesses.values()) {
      if (!h.decide) continue;
      const r = h.decide(d);
      if (r.ok || !/unknown approval|no such approval|not found/i.test(r.reason)) return r;
    }
    return { ok: false, reason: `unknown approval "${d.approvalId}"` };
  }

  /** A dynamic tool Codex may call (`item/tool/call`); results pass the tool_result hook. */
  registerTool(tool: DynamicToolSpec): () => void {
    return this.codex.registerTool({
      ...tool,
      execute: async (args, ctx) => {
        const raw = await tool.execute(args, ctx);
        const result: ToolCallResult = typeof raw === 'string' ? { contentItems: [{ type: 'inputText', text: raw }], success: true } : raw;
        if (!this.hooks.has('tool_result')) return result;
        const out = await this.hooks.run('tool_result', { session: this.sessionOfThread(ctx.threadId) ?? ctx.threadId, turnId: ctx.turnId, tool: tool.name, arguments: args, result });
        return out.result as ToolCallResult;
      },
    });
  }

  private sessionOfThread(threadId: string): string | undefined {
    for (const { agent, status } of this.codex.allSessions()) {
      void agent;
      if (status?.threadId === threadId) return status.session;
    }
    return undefined;
  }

  status(): Record<string, unknown> {
    const snap = this.actor.getSnapshot();
    return {
      id: this.id,
      state: snap.value,
      error: snap.context.error,
      config: redactedConfig(this.config),
      warnings: this.warnings,
      harnesses: Object.fromEntries([...this.harnesses].map(([id, h]) => [id, h.status()])),
      sessions: [...this.sessions].map(([session, s]) => ({ session, agent: s.agent.id, harness: s.selection.harness, reason: s.selection.reason })),
      hookFailures: this.hooks.failures,
    };
  }
}

/** Create a supervisor from a config object; throws a ConfigError naming every bad field. */
export function createSupervisor(config: SwitchboardConfigInput = {}, options: SupervisorOptions = {}): Supervisor {
  // The object is the configuration; a file and the environment are read only when asked.
  const loaded = loadConfig({ env: options.env ?? {}, file: options.file ?? false, flags: config as Record<string, unknown> });
  return new Supervisor(loaded, options);
}

export { ConfigError };
