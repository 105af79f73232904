// ConnectionPool: several app-servers seen by sessions as one connection. A new thread goes
// to the least loaded member that takes new threads; a thread's requests go to the member
// where it is loaded (affinity) for as long as it is loaded there. A member over its limits is
// drained and recycled (machines/pool-member.machine.ts); its threads are unloaded at once —
// sessions are told (a lifecycle event scoped to those threads) and resume them with
// `thread/resume` on whichever member their next message is placed on, but only once the old
// process is gone, so a thread is never loaded in two members at the same time.
import type { InspectionEvent } from 'xstate';
import type { Logger } from 'pino';
import type { Connection, ConnectionLifecycleEvent, ConnectionStatus, RequestOptions } from '../connection/connection.js';
import { RpcTimeoutError } from '../connection/errors.js';
import type { ServerRequestHandler } from '../connection/rpc-engine.js';
import type { ClientMethod, ParamsOf, ResultOf } from '../protocol/client-requests.js';
import type { InboundNotification } from '../protocol/notifications.js';
import { groupRssBytes } from '../metrics/process-rss.js';
import type { SessionConnection, SessionLifecycleEvent } from '../turn/runtime.js';
import { timerClock, type ClockOption, type TimerClock } from '../util/clock.js';
import { PoolMember } from './member.js';
import { placeMember, type PoolLimits } from './policy.js';
import { notLoaded, resultThread, resumeSettings, routeOf, threadOf, unknownThread } from './routing.js';
import { listLoaded, poolStatus, type PoolStatus } from './status.js';
import { PoolListeners } from './listeners.js';
import { ended, poolWideEvent, unplaceable } from './outage.js';

export type { PoolStatus, PoolMemberStatus } from './status.js';

export interface ConnectionPoolOptions {
  /** The pool's name in logs and status (e.g. `codex`). */
  id: string;
  members: Connection[];
  limits: PoolLimits;
  log: Logger;
  clock?: ClockOption;
  inspect?: (ev: InspectionEvent) => void;
  /** Bound on waiting for a member that takes new threads (default 60 s, or the request's own timeout). */
  placeTimeoutMs?: number;
  /** Resident memory of a member's process group (default: /proc). */
  rss?: (pid: number) => Promise<number | undefined>;
}

type Listener = (n: InboundNotification) => void;

/** Threads whose start/resume settings are kept (≈ 300 bytes each). */
const MAX_REMEMBERED = 20_000;
type Call = (m: PoolMember) => Promise<unknown>;

export class ConnectionPool implements SessionConnection {
  readonly id: string;
  readonly members: readonly PoolMember[];
  private readonly byId = new Map<string, PoolMember>();
  /** Thread → the member whose current process has it loaded. */
  private readonly owner = new Map<string, PoolMember>();
  /** Threads of a member that is going away: resolved once its process is gone. */
  private readonly unloading = new Map<string, Promise<void>>();
  /**
   * Members that cannot be recycled (remote app-servers) need not share a CODEX_HOME: a thread
   * lives where it was started, so it is resumed there (its home, kept across reconnects).
   */
  private readonly home = new Map<string, PoolMember>();
  /**
   * How each thread was last started or resumed (bounded, oldest dropped first): a turn for a
   * thread whose member was recycled (a `/codex compact`, a session that has not heard yet)
   * resumes it first, as the session would.
   */
  private readonly settings = new Map<string, Record<string, unknown>>();
  /** Resumes in flight, per thread (a second resume waits for the first). */
  private readonly binding = new Map<string, Promise<unknown>>();
  private readonly listeners: PoolListeners;
  private readonly clock: Required<TimerClock>;
  private readonly log: Logger;
  private readonly placeTimeoutMs: number;
  private started = false;
  private stopping = false;
  /** Every member is out of service and sessions were told (a `degraded` went out). */
  private outage = false;

  constructor(private readonly o: ConnectionPoolOptions) {
    if (o.members.length === 0) throw new Error(`pool ${o.id} has no members`);
    this.id = o.id;
    this.clock = timerClock(o.clock);
    this.log = o.log.child({ pool: o.id });
    this.placeTimeoutMs = o.placeTimeoutMs ?? 60_000;
    this.listeners = new PoolListeners(this.clock, this.log);
    const rss = o.rss ?? groupRssBytes;
    this.members = o.members.map(
      (conn) =>
        new PoolMember({
          conn,
          limits: o.limits,
          clock: this.clock,
          inspect: o.inspect,
          sample: async (m) => {
            if (!m.conn.ready) throw new Error('not ready');
            const pid = m.pid;
            const [bytes, listed] = await Promise.all([pid !== undefined ? rss(pid) : undefined, listLoaded(m.conn, AbortSignal.timeout(5_000)).then((l) => l.length)]);
            return { pid, rssBytes: bytes, listed };
          },
        }),
    );
    for (const m of this.members) {
      this.byId.set(m.id, m);
      m.conn.subscribe('*', (n) => this.dispatch(m, n));
      m.conn.onLifecycle((e) => this.memberLifecycle(m, e));
      m.actor.on('member.recycle', (e) => this.recycle(m, e.reason));
      m.actor.on('member.draining', (e) => this.log.info({ member: m.id, reason: e.reason }, 'pool member drained: no new threads'));
      m.actor.on('member.down', () => {
        if (!this.stopping) this.log.warn({ member: m.id }, 'pool member lost its app-server');
      });
      m.actor.subscribe({ next: () => this.listeners.wake(), error: (err) => this.log.error({ err, member: m.id }, 'pool member actor failed') });
    }
  }

  /** Start every member; resolves when all are ready, rejects naming the first that fails. */
  async start(signal?: AbortSignal): Promise<void> {
    if (!this.started) for (const m of this.members) m.actor.start();
    this.started = true;
    await Promise.all(
      this.members.map((m) =>
        m.conn.start(signal).catch((err: unknown) => {
          throw new Error(`app-server ${m.id}: ${(err as Error).message}`);
        }),
      ),
    );
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.members.map((m) => m.conn.stop()));
    for (const m of this.members) m.actor.stop();
  }

  get ready(): boolean {
    return this.members.some((m) => m.conn.ready);
  }

  request<M extends ClientMethod>(method: M, params: ParamsOf<M>, opts: RequestOptions = {}): Promise<ResultOf<M>> {
    return this.route(method, params, opts, (m) => m.conn.request(method, params, opts)) as Promise<ResultOf<M>>;
  }

  /** Raw request (the /codex passthroughs), routed like a typed one. */
  requestRaw(method: string, params: unknown, opts: RequestOptions = {}): Promise<unknown> {
    return this.route(method, params, opts, (m) => m.conn.requestRaw(method, params, opts));
  }

  subscribe(threadId: string, listener: Listener): () => void {
    return this.listeners.subscribe(threadId, listener);
  }

  onLifecycle(listener: (e: SessionLifecycleEvent) => void): () => void {
    return this.listeners.onLifecycle(listener);
  }

  /** Restart the member of `threadId` (an interrupt nobody confirmed); without a thread, every member. */
  restart(reason: string, threadId?: string): void {
    const m = threadId !== undefined ? this.owner.get(threadId) : undefined;
    for (const target of m ? [m] : this.members) target.conn.restart(reason);
  }

  withdrawServerRequests(threadId: string, reason: string): number {
    return this.members.reduce((n, m) => n + m.conn.withdrawServerRequests(threadId, reason), 0);
  }

  setServerRequestHandler(handler: ServerRequestHandler | undefined): void {
    for (const m of this.members) m.conn.setServerRequestHandler(handler);
  }

  /** The member a thread is loaded in, if any. */
  memberOf(threadId: string): string | undefined {
    return this.owner.get(threadId)?.id;
  }

  /** Every member's own `thread/loaded/list` (tests and diagnostics; members not ready are skipped). */
  async loadedLists(timeoutMs = 5_000): Promise<Array<{ member: string; threads: string[] }>> {
    const ready = this.members.filter((m) => m.conn.ready);
    return Promise.all(ready.map(async (m) => ({ member: m.id, threads: await listLoaded(m.conn, AbortSignal.timeout(timeoutMs)) })));
  }

  status(): PoolStatus {
    return poolStatus(this.id, this.members);
  }

  // ---- routing

  private route(method: string, params: unknown, opts: RequestOptions, call: Call): Promise<unknown> {
    const threadId = threadOf(params);
    switch (routeOf(method, threadId)) {
      case 'place':
        return this.remember(params, this.bind(method, opts, call));
      case 'resume':
        return threadId === undefined ? call(this.anyMember()) : this.remember(params, this.resume(method, threadId, opts, call));
      case 'work':
        return threadId === undefined ? call(this.anyMember()) : this.work(method, threadId, call);
      case 'thread':
        return call(this.owner.get(threadId!) ?? this.anyMember());
      default:
        return call(this.anyMember());
    }
  }

  /** A thread is resumed where it is loaded; else, once no process has it any more, where it is placed. */
  private async resume(method: string, threadId: string, opts: RequestOptions, call: Call): Promise<unknown> {
    for (;;) {
      const owner = this.owner.get(threadId);
      if (owner) return this.tracked(owner, call);
      const pending = this.binding.get(threadId) ?? this.unloading.get(threadId);
      if (!pending) break;
      await pending.catch(() => undefined);
    }
    const run = this.o.limits.recyclable ? this.bind(method, opts, call) : this.resumeAtHome(method, threadId, opts, call);
    this.binding.set(threadId, run);
    const forget = () => {
      if (this.binding.get(threadId) === run) this.binding.delete(threadId);
    };
    run.then(forget, forget);
    return run;
  }

  /** A remote pool's thread: at its home; unknown here (Switchboard restarted), each member in placement order. */
  private async resumeAtHome(method: string, threadId: string, opts: RequestOptions, call: Call): Promise<unknown> {
    const home = this.home.get(threadId);
    if (home) return this.bind(method, opts, call, home);
    const order = [...this.members].sort((a, b) => Number(b.accepting) - Number(a.accepting) || a.load().loaded - b.load().loaded);
    let last: unknown;
    for (const m of order) {
      try {
        return await this.bind(method, opts, call, m);
      } catch (err) {
        if (!unknownThread(err)) throw err;
        last = err;
      }
    }
    throw last;
  }

  /** Load a thread on the placed member (or `target`); it counts there from the moment of placement. */
  private async bind(method: string, opts: RequestOptions, call: Call, target?: PoolMember): Promise<unknown> {
    const m = target ?? (await this.placement(method, opts));
    const generation = m.generation;
    m.actor.send({ type: 'THREAD.PLACED' });
    m.actor.send({ type: 'WORK.STARTED' });
    let bound: string | undefined;
    try {
      const result = await call(m);
      bound = resultThread(result);
      return result;
    } finally {
      // An answer from a process that has gone since is not a loaded thread.
      if (m.generation === generation) {
        if (bound !== undefined) this.record(m, bound);
        else m.actor.send({ type: 'THREAD.RELEASED' });
        m.actor.send({ type: 'WORK.ENDED' });
      }
    }
  }

  private record(m: PoolMember, threadId: string): void {
    const previous = this.owner.get(threadId);
    if (previous && previous !== m) this.log.error({ threadId, member: m.id, also: previous.id }, 'a thread was loaded in two pool members');
    m.threads.add(threadId);
    this.owner.set(threadId, m);
    if (!this.o.limits.recyclable) this.home.set(threadId, m);
  }

  private remember(params: unknown, bound: Promise<unknown>): Promise<unknown> {
    return bound.then((result) => {
      const id = resultThread(result);
      if (id !== undefined) {
        this.settings.delete(id);
        this.settings.set(id, resumeSettings(params));
        if (this.settings.size > MAX_REMEMBERED) this.settings.delete(this.settings.keys().next().value!);
      }
      return result;
    });
  }

  /** A turn on a loaded thread: its member is busy until `turn/completed` (or the request fails). */
  private async work(method: string, threadId: string, call: Call): Promise<unknown> {
    let m = this.owner.get(threadId);
    const settings = this.settings.get(threadId);
    if (!m && settings) {
      await this.request('thread/resume', { ...settings, threadId, excludeTurns: true } as never);
      m = this.owner.get(threadId);
    }
    if (!m) throw notLoaded(method, threadId);
    const generation = m.generation;
    const first = !m.turns.has(threadId);
    if (first) {
      m.turns.add(threadId);
      m.actor.send({ type: 'WORK.STARTED' });
    }
    try {
      return await call(m);
    } catch (err) {
      if (first && m.generation === generation) this.endWork(m, threadId);
      throw err;
    }
  }

  /** Any other request on a member: busy while in flight. */
  private async tracked(m: PoolMember, call: Call): Promise<unknown> {
    const generation = m.generation;
    m.actor.send({ type: 'WORK.STARTED' });
    try {
      return await call(m);
    } finally {
      if (m.generation === generation) m.actor.send({ type: 'WORK.ENDED' });
    }
  }

  private endWork(m: PoolMember, threadId: string): void {
    if (m.turns.delete(threadId)) m.actor.send({ type: 'WORK.ENDED' });
  }

  /** The member a new thread goes to, waiting (bounded) while none takes new threads. */
  private async placement(method: string, opts: RequestOptions): Promise<PoolMember> {
    const timeoutMs = opts.timeoutMs ?? this.placeTimeoutMs;
    const deadline = this.clock.now() + timeoutMs;
    for (;;) {
      const id = placeMember(this.members.map((m) => m.load()));
      if (id !== undefined) return this.byId.get(id)!;
      // No member to wait for (each ended, or retrying slowly): fail at once as one connection would.
      const refused = unplaceable(method, this.id, this.members);
      if (refused) throw refused;
      const left = deadline - this.clock.now();
      if (left <= 0) throw new RpcTimeoutError(method, timeoutMs);
      await this.listeners.changed(left, opts.signal);
    }
  }

  /** A ready member for a request about no thread in particular: the least loaded. */
  private anyMember(): PoolMember {
    const ready = this.members.filter((m) => m.conn.ready);
    if (ready.length === 0) return this.members.find((m) => !ended(m)) ?? this.members[0]!;
    return ready.reduce((a, b) => (b.load().loaded < a.load().loaded ? b : a));
  }

  // ---- members coming and going

  private dispatch(m: PoolMember, n: InboundNotification): void {
    if (n.method === 'turn/completed' && n.threadId !== undefined) this.endWork(m, n.threadId);
    this.listeners.notify(n);
  }

  private memberLifecycle(m: PoolMember, e: ConnectionLifecycleEvent): void {
    if (e.type === 'recovered') return; // a `ready` follows
    if (e.type === 'ready') {
      m.ended = false;
      m.outage = undefined;
      m.pid = m.conn.status().pid;
      m.actor.send({ type: 'CONNECTION.READY', pid: m.pid });
      // Back from a pool-wide outage: every thread was unloaded, sessions hear the pool is back.
      if (this.outage) {
        this.outage = false;
        this.emit(e);
      }
      this.listeners.wake();
      return;
    }
    if (e.type === 'failed' || e.type === 'stopped') m.ended = true;
    if (e.type === 'degraded') m.outage = { reason: e.reason, retryAt: e.retryAt };
    const { threads, gone } = m.processLost();
    m.actor.send({ type: m.ended ? 'CONNECTION.ENDED' : 'CONNECTION.LOST' });
    if (threads.length > 0) this.unloaded(threads, gone, e);
    // Every member out of service concerns every thread: gone for good, or an outage.
    const wide = this.stopping ? undefined : poolWideEvent(this.members, e, this.clock.now());
    if (wide) {
      if (wide.type === 'degraded') this.outage = true;
      this.emit(wide);
    }
    this.listeners.wake();
  }

  /** The member drained or idle: unload its threads now, restart its process. */
  private recycle(m: PoolMember, reason: string): void {
    this.log.info({ member: m.id, reason, threads: m.threads.size }, 'recycling a pool member');
    const gone = m.nextExit();
    const threads = m.unload();
    this.unloaded(threads, gone, { type: 'lost', exit: { kind: 'closed', retryable: true, intentional: true, reason: `app-server recycled (${reason})` } });
    m.conn.recycle(reason);
  }

  /** Threads no member has any more: their sessions are told; they load again once `gone` resolves. */
  private unloaded(threads: string[], gone: Promise<void>, e: ConnectionLifecycleEvent): void {
    for (const t of threads) {
      this.owner.delete(t);
      this.unloading.set(t, gone);
    }
    void gone.then(() => {
      for (const t of threads) if (this.unloading.get(t) === gone) this.unloading.delete(t);
    });
    this.emit({ ...e, threads: new Set(threads) });
  }

  private emit(e: SessionLifecycleEvent): void {
    this.listeners.emit(e);
  }
}


