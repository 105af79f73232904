// P3's fakes: a fast in-process app-server connection, the codex harness's session side over
// it (built exactly like CodexHarness's managers), and a thread store that keeps nothing.
import path from 'node:path';
import type { Logger } from 'pino';
import type { Supervisor } from '../src/supervisor/supervisor.js';
import { SessionManager } from '../src/session/manager.js';
import { resolveApprovalSettings } from '../src/approvals/settings.js';
import { codexModelName, type AgentSpec, type Harness, type HarnessMessage } from '../src/supervisor/harness.js';
import { classifyNotification, type InboundNotification } from '../src/protocol/notifications.js';
import { MemoryStore } from '../src/storage/memory.js';
import type { HistoryRecord, StoredRecord } from '../src/storage/types.js';
import type { RoomEventSink } from '../src/events/room-events.js';
import type { SessionConnection } from '../src/turn/runtime.js';
import type { ConnectionLifecycleEvent } from '../src/connection/connection.js';
import type { Attachment } from '../src/turn/translate.js';

/** How long the fake app-server takes to run a turn (0: the next event-loop turn). */
const TURN_MS = Number(process.env.P3_TURN_MS ?? 0);

/**
 * A minimal fast fake app-server: thread/start → a thread id; turn/start → a turn id, then
 * (next macrotask) turn/started, one agent message delta, item/completed, turn/completed to
 * the thread's subscribers, as validated notifications. It keeps nothing per session but the
 * live subscriptions.
 */
export class FakeAppServer implements SessionConnection {
  private readonly listeners = new Map<string, Set<(n: InboundNotification) => void>>();
  private readonly lifecycle = new Set<(e: ConnectionLifecycleEvent) => void>();
  private threads = 0;
  private turns = 0;
  requests = 0;
  async request(method: string, params: unknown): Promise<never> {
    this.requests++;
    const p = params as { threadId?: string; expectedTurnId?: string };
    switch (method) {
      case 'thread/start':
        return { thread: { id: `thr_${++this.threads}` } } as never;
      case 'thread/resume':
        return { thread: { id: p.threadId } } as never;
      case 'turn/start': {
        const turnId = `turn_${++this.turns}`;
        const threadId = p.threadId!;
        if (this.held) this.held.push([threadId, turnId]);
        else if (TURN_MS > 0) setTimeout(() => this.play(threadId, turnId), TURN_MS);
        else setImmediate(() => this.play(threadId, turnId));
        return { turn: { id: turnId, status: 'inProgress', items: [] } } as never;
      }
      case 'turn/steer':
        return { turnId: p.expectedTurnId } as never;
      case 'turn/interrupt':
        return {} as never;
      default:
        throw new Error(`fake app-server: no handler for ${method}`);
    }
  }
  /** Turns started while held: they all run (and complete) on `release()`. */
  held: Array<[string, string]> | undefined;
  hold(): void {
    this.held = [];
  }
  release(): number {
    const turns = this.held ?? [];
    this.held = undefined;
    for (const [threadId, turnId] of turns) setImmediate(() => this.play(threadId, turnId));
    return turns.length;
  }
  private play(threadId: string, turnId: string): void {
    const turn = { id: turnId, status: 'inProgress', items: [], error: null };
    this.notify('turn/started', { threadId, turn });
    this.notify('item/agentMessage/delta', { threadId, turnId, itemId: 'msg_1', delta: 'Hello' });
    this.notify('item/completed', { threadId, turnId, item: { type: 'agentMessage', id: 'msg_1', text: 'Hello' } });
    this.notify('turn/completed', { threadId, turn: { ...turn, status: 'completed' } });
  }
  private notify(method: string, params: Record<string, unknown>): void {
    const note = classifyNotification(method, params);
    const set = this.listeners.get(params.threadId as string);
    if (set) for (const l of [...set]) l(note);
  }
  subscribe(threadId: string, listener: (n: InboundNotification) => void): () => void {
    let set = this.listeners.get(threadId);
    if (!set) this.listeners.set(threadId, (set = new Set()));
    set.add(listener);
    return () => {
      set!.delete(listener);
      if (set!.size === 0 && this.listeners.get(threadId) === set) this.listeners.delete(threadId);
    };
  }
  onLifecycle(listener: (e: ConnectionLifecycleEvent) => void): () => void {
    this.lifecycle.add(listener);
    return () => this.lifecycle.delete(listener);
  }
  restart(): void {}
  withdrawServerRequests(): number {
    return 0;
  }
}

/**
 * The codex harness's session side over the fake connection: `manager()` is
 * `CodexHarness.manager` with the connection swapped.
 */
export class FakeCodexHarness implements Harness {
  readonly id = 'p3-fake';
  readonly managers = new Map<string, SessionManager>();
  sb!: Supervisor;
  /** performance.now() when the session's first `manager.post` returned (actor started). */
  spawnedAt = 0;
  managerMs = 0;
  constructor(
    readonly conn: FakeAppServer,
    readonly log: Logger,
    private readonly hibernate: boolean,
  ) {}
  available() {
    return { ok: true as const };
  }
  supports() {
    return { ok: true, reason: 'bench' };
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {
    await Promise.all([...this.managers.values()].map((m) => m.stop({ interrupt: true })));
  }
  manager(agent: AgentSpec, sink: RoomEventSink): SessionManager {
    let m = this.managers.get(agent.id);
    if (m) return m;
    const cfg = this.sb.config;
    const a = cfg.appServer;
    const s = resolveApprovalSettings(a.mode, { approvalPolicy: a.approvalPolicy, sandbox: a.sandbox, approvalsReviewer: a.approvalsReviewer, reviewer: cfg.approvals.reviewer });
    const router = this.sb.codex.router;
    m = new SessionManager({
      id: `sessions:p3:${agent.id}`,
      connection: this.conn,
      sink,
      bindingDir: path.join(this.sb.statePaths.bindingsDir, agent.id),
      approvals: router,
      tools: () => router.tools.specs(),
      log: this.log,
      perParticipant: cfg.sessions.perParticipant,
      settings: {
        cwd: agent.cwd,
        model: codexModelName(agent.model),
        approvalPolicy: s.approvalPolicy,
        sandbox: s.sandbox,
        approvalsReviewer: s.approvalsReviewer,
        developerInstructions: agent.developerInstructions,
        busyMode: cfg.sessions.onMessageDuringTurn,
        watchdogMs: cfg.sessions.idleWatchdogSeconds * 1000,
        modelDiscoveryMs: a.discovery.enabled ? a.discovery.timeoutMs : 1,
      },
      hibernate: this.hibernate,
    });
    this.managers.set(agent.id, m);
    return m;
  }
  post(agent: AgentSpec, msg: HarnessMessage, sink: RoomEventSink): void {
    const m = this.manager(agent, sink);
    const t0 = performance.now();
    m.post({ ...msg, attachments: msg.attachments as Attachment[] | undefined });
    this.spawnedAt = performance.now();
    this.managerMs = this.spawnedAt - t0;
  }
  status(): Record<string, unknown> {
    return { sessions: [...this.managers.values()].reduce((k, m) => k + m.status().sessions.length, 0) };
  }
}

/** A disk-like thread store: durable inbox and history are not kept on the heap. */
export class CountingStore extends MemoryStore {
  appended = 0;
  override async append(session: string, record: HistoryRecord): Promise<StoredRecord> {
    this.appended++;
    return { ...record, seq: this.appended, session, at: Date.now() } as StoredRecord;
  }
  override async history() {
    return [];
  }
}
