// Connection: the public face of one app-server. It owns the RPC engine and the transport,
// builds the connection machine over them (`logic`), runs it (or adopts the copy a parent
// spawned) and turns what the machine announces into lifecycle events; callers get typed
// requests, thread subscriptions and status. Deltas never pass through the machine.
import { randomUUID } from 'node:crypto';
import { createActor, toPromise, type Actor, type ActorRefFrom, type InspectionEvent } from 'xstate';
import type { Logger } from 'pino';
import { provideConnection, type ConnectionConfig, type ConnectionLogic } from '../../machines/connection.machine.js';
import { clientRequests, type ClientMethod, type ParamsOf, type ResultOf } from '../protocol/client-requests.js';
import { ErrorCodes, summarize } from '../protocol/wire.js';
import type { InboundNotification } from '../protocol/notifications.js';
import { defaultLogger } from '../log/logger.js';
import { timerClock, waitOn, type ClockOption, type TimerClock } from '../util/clock.js';
import type { TransportExit } from '../transport/types.js';
import { RpcEngine, type ServerRequestHandler } from './rpc-engine.js';
import { handshakeActor, transportActor, type ClientInfo } from './actors.js';
import { ConnectionLostError, ConnectionUnavailableError, InvalidParamsError, RpcError } from './errors.js';
import { transportFactory, type TransportChoice } from './transport-config.js';

export type { TransportConfig } from './transport-config.js';
export type { ClientInfo } from './actors.js';

type InspectionHandler = (ev: InspectionEvent) => void;

export interface ConnectionOptions {
  id?: string;
  transport: TransportChoice;
  log?: Logger;
  clientInfo?: ClientInfo;
  experimentalApi?: boolean;
  /** Default per-request timeout (ms). */
  requestTimeoutMs?: number;
  /** Per-method timeouts; 0 = no control timeout (the call waits on Codex or a human). */
  methodTimeoutsMs?: Partial<Record<string, number>>;
  /** -32001 retries for idempotent calls. */
  overloadRetry?: { attempts: number; baseMs: number; maxMs: number };
  serverRequestBackstopMs?: number;
  machine?: Partial<ConnectionConfig>;
  /** Replace the machine (tests provide fake actors this way); default: `provideConnection` over this connection's handles. */
  machineOverride?: ConnectionLogic;
  /**
   * Do not create an actor: a parent (the supervisor) spawns `logic` with `connectionInput()`
   * and hands the child to `adopt()`.
   */
  spawnedByParent?: boolean;
  /** XState inspection (tracing); off unless given. */
  inspect?: InspectionHandler;
  /**
   * Time, timers and jitter: the machine's failure window and `after` delays, request
   * deadlines, the backstop and retry sleeps. Default: the system's; missing parts too.
   */
  clock?: ClockOption;
}

type ConnectionActorRef = ActorRefFrom<ConnectionLogic>;

export type ConnectionLifecycleEvent =
  | { type: 'ready'; version: string | undefined; restarts: number }
  | { type: 'lost'; exit: TransportExit }
  /** The fast restarts are spent: requests fail at once until it recovers (retried at `retryAt`). */
  | { type: 'degraded'; reason: string; since: number; attempt: number; retryAt: number }
  /** Back after an outage (a `ready` follows). */
  | { type: 'recovered'; outageMs: number; attempts: number }
  | { type: 'failed'; error: string }
  | { type: 'stopped' };

export interface ConnectionStatus {
  id: string;
  state: string;
  transport: string;
  serverVersion: string | undefined;
  userAgent: string | undefined;
  pid: number | undefined;
  restarts: number;
  pending: number;
  pendingServerRequests: number;
  malformed: number;
  lateResponses: number;
  invalidNotifications: number;
  lastExit: string | undefined;
  error: string | undefined;
  warning: string | undefined;
  /** While degraded: since when, how many slow retries, why, and when the next one is due (ms since the epoch). */
  outage: { since: number; attempts: number; reason: string; retryAt: number } | undefined;
}

export interface RequestOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

type NotificationListener = (n: InboundNotification) => void;

/** Turn/start and anything waiting on a person are not cut by the control timeout. */
const DEFAULT_METHOD_TIMEOUTS: Record<string, number> = { 'turn/start': 0, 'review/start': 0 };

export class Connection {
  readonly id: string;
  /** The connection machine wired to this connection's engine, transport and clock: what a parent spawns. */
  readonly logic: ConnectionLogic;
  private actorRef: ConnectionActorRef | undefined;
  /** The actor this connection created itself (not spawnedByParent); started by `start()`. */
  private own: Actor<ConnectionLogic> | undefined;
  private started = false;
  /** Why the machine ended (failed or stopped), once it has. */
  private ended: string | undefined;
  private readonly engine: RpcEngine;
  private readonly log: Logger;
  private readonly byThread = new Map<string, Set<NotificationListener>>();
  private readonly everything = new Set<NotificationListener>();
  private readonly lifecycle = new Set<(e: ConnectionLifecycleEvent) => void>();
  private readonly description: string;
  /** Time and randomness for the machine (failure window, jitter) and for request deadlines and retries. */
  private readonly clock: Required<TimerClock>;

  constructor(private readonly options: ConnectionOptions) {
    this.id = options.id ?? `conn-${randomUUID().slice(0, 8)}`;
    this.log = (options.log ?? defaultLogger()).child({ connection: this.id });
    this.clock = timerClock(options.clock);
    this.engine = new RpcEngine({
      log: this.log,
      clock: this.clock,
      serverRequestBackstopMs: options.serverRequestBackstopMs ?? 60 * 60 * 1000,
      onNotification: (n) => this.route(n),
    });
    const { open, description } = transportFactory(options.transport, this.log, (bytes) => {
      this.engine.stats.malformed++;
      this.log.warn({ bytes }, 'oversized line skipped');
    });
    this.description = description;
    this.logic =
      options.machineOverride ??
      provideConnection({
        transport: transportActor({ engine: this.engine, open, log: this.log }),
        handshake: handshakeActor({
          engine: this.engine,
          clientInfo: options.clientInfo ?? { name: 'switchboard', title: 'Switchboard', version: '0.1.0' },
          experimentalApi: options.experimentalApi ?? false,
        }),
        clock: this.clock,
      });
    if (!options.spawnedByParent) {
      this.own = createActor(this.logic, { id: this.id, input: this.connectionInput(), clock: this.clock, ...(options.inspect ? { inspect: options.inspect } : {}) });
      this.bind(this.own);
    }
  }

  /** Input for spawning `logic` elsewhere. */
  connectionInput(): { connectionId: string; config: ConnectionOptions['machine'] } {
    return { connectionId: this.id, config: this.options.machine };
  }

  /** Take over a connection machine a parent spawned from `logic` (it is already running, in `idle`). */
  adopt(ref: ConnectionActorRef): void {
    if (this.actorRef) throw new Error(`connection ${this.id} already has an actor`);
    this.started = true;
    this.bind(ref);
  }

  get actor(): ConnectionActorRef {
    if (!this.actorRef) throw new Error(`connection ${this.id} has no actor yet (spawnedByParent without adopt)`);
    return this.actorRef;
  }

  private bind(ref: ConnectionActorRef): void {
    this.actorRef = ref;
    let last = '';
    ref.subscribe({
      next: (snap) => {
        const state = this.stateName();
        if (state === last) return;
        this.log.info({ from: last || 'idle', to: state, version: snap.context.version, restarts: snap.context.restarts }, 'connection state');
        last = state;
      },
      error: (err) => this.log.error({ err }, 'connection actor error'),
    });
    ref.on('connection.ready', (e) => {
      if (e.warning) this.log.warn({ warning: e.warning }, 'app-server version accepted by warn-only policy');
      this.emit({ type: 'ready', version: e.version, restarts: e.restarts });
    });
    ref.on('connection.lost', (e) => {
      this.log.warn({ exit: e.exit }, 'app-server connection lost');
      this.emit({ type: 'lost', exit: e.exit });
    });
    ref.on('connection.degraded', (e) => {
      this.log.warn({ reason: e.reason, attempt: e.attempt, retryInMs: e.retryInMs }, 'app-server unavailable: connection degraded, retrying');
      this.emit({ type: 'degraded', reason: e.reason, since: e.since, attempt: e.attempt, retryAt: e.retryAt });
    });
    ref.on('connection.recovered', (e) => {
      const outageMs = Math.max(0, this.clock.now() - e.since);
      this.log.info({ outageMs, attempts: e.attempts }, 'app-server connection recovered');
      this.emit({ type: 'recovered', outageMs, attempts: e.attempts });
    });
    ref.on('connection.failed', (e) => {
      this.ended = e.reason;
      this.log.error({ error: e.reason, retryable: e.retryable }, 'connection failed');
      this.emit({ type: 'failed', error: e.reason });
    });
    ref.on('connection.stopped', () => {
      this.ended = 'connection stopped';
      this.emit({ type: 'stopped' });
    });
  }

  /** The state as `status().state` shows it: `idle`, `running.ready`, `backoff`, ... */
  private stateName(): string {
    const v = this.actor.getSnapshot().value;
    return typeof v === 'string' ? v : Object.entries(v).map(([k, s]) => `${k}.${String(s)}`)[0]!;
  }

  private emit(e: ConnectionLifecycleEvent): void {
    for (const l of this.lifecycle) {
      try {
        l(e);
      } catch (err) {
        this.log.error({ err }, 'lifecycle listener threw');
      }
    }
  }

  private route(n: InboundNotification): void {
    if (n.threadId !== undefined) {
      const set = this.byThread.get(n.threadId);
      if (set) for (const l of set) l(n);
    }
    for (const l of this.everything) l(n);
  }

  /** Start; resolves when ready, rejects with the reason when the connection fails or is degraded (it keeps retrying then). */
  async start(signal?: AbortSignal): Promise<void> {
    if (!this.started) {
      this.started = true;
      this.own?.start();
    }
    this.actor.send({ type: 'START' });
    await this.waitForReady(signal);
  }

  /** Graceful stop: close stdin, SIGTERM, SIGKILL; resolves when the server is gone. */
  async stop(): Promise<void> {
    if (!this.started || this.actor.getSnapshot().status !== 'active') return;
    const done = toPromise(this.actor);
    this.actor.send({ type: 'STOP' });
    await done;
  }

  /** Force a restart (an escalation when the server stops answering). */
  restart(reason: string): void {
    this.log.warn({ reason }, 'restart requested');
    this.actor.send({ type: 'RESTART', reason });
  }

  /**
   * A planned restart that is not a failure (a pool member unloading its threads): the
   * process is replaced without counting towards the failure budget.
   */
  recycle(reason: string): void {
    this.log.info({ reason }, 'recycling the app-server');
    this.actor.send({ type: 'RECYCLE', reason });
  }

  /** Ready to carry requests: the machine's `ready` tag (which implies the engine is attached, see the chart). */
  get ready(): boolean {
    return this.actor.getSnapshot().hasTag('ready');
  }

  /**
   * Resolves when ready; rejects when the machine ends (failed/stopped), at once while it is
   * degraded (ConnectionUnavailableError), on timeout or abort.
   */
  async waitForReady(signal?: AbortSignal, timeoutMs?: number): Promise<void> {
    const snap = await waitOn(this.clock, this.actor, (s) => s.hasTag('ready') || s.status !== 'active' || s.context.outage !== undefined, {
      timeout: timeoutMs || Infinity,
      ...(signal ? { signal } : {}),
    }).catch((err: unknown) => {
      if (signal?.aborted) throw signal.reason ?? new Error('aborted');
      if (err instanceof Error && err.message.startsWith('Timeout of')) throw new Error(`connection not ready within ${timeoutMs} ms`);
      throw err;
    });
    if (snap.hasTag('ready')) return;
    const outage = snap.context.outage;
    if (outage && snap.status === 'active') throw new ConnectionUnavailableError(outage.reason, outage.retryAt);
    throw new Error(snap.context.error ?? this.ended ?? 'connection ended');
  }

  /**
   * Typed request. Params are validated before sending; the call waits for the connection
   * to be ready (within its timeout); idempotent calls are retried on -32001 with backoff.
   */
  async request<M extends ClientMethod>(method: M, params: ParamsOf<M>, opts: RequestOptions = {}): Promise<ResultOf<M>> {
    const spec = clientRequests[method];
    const checked = spec.params.safeParse(params);
    if (!checked.success) throw new InvalidParamsError(method, summarize(checked.error));
    const timeoutMs = opts.timeoutMs ?? this.options.methodTimeoutsMs?.[method] ?? DEFAULT_METHOD_TIMEOUTS[method] ?? this.options.requestTimeoutMs ?? 60_000;
    const deadline = timeoutMs > 0 ? this.clock.now() + timeoutMs : undefined;
    const retry = this.options.overloadRetry ?? { attempts: 4, baseMs: 200, maxMs: 5_000 };
    for (let attempt = 0; ; attempt++) {
      if (!this.ready) await this.waitForReady(opts.signal, deadline ? Math.max(1, deadline - this.clock.now()) : undefined);
      const remaining = deadline ? Math.max(1, deadline - this.clock.now()) : undefined;
      try {
        const raw = await this.engine.request(method, params, remaining, opts.signal);
        const parsed = spec.result.safeParse(raw);
        if (!parsed.success) {
          this.log.warn({ method, problem: summarize(parsed.error) }, 'response failed its schema; returned raw');
          return raw as ResultOf<M>;
        }
        return parsed.data as ResultOf<M>;
      } catch (err) {
        const overloaded = err instanceof RpcError && err.code === ErrorCodes.overloaded;
        if (!overloaded || !spec.idempotent || attempt >= retry.attempts) throw err;
        const delay = Math.min(retry.maxMs, retry.baseMs * 2 ** attempt) * (0.5 + this.clock.random() * 0.5);
        if (deadline && this.clock.now() + delay > deadline) throw err;
        this.log.info({ method, attempt: attempt + 1, delay: Math.round(delay) }, 'server overloaded; retrying');
        await sleep(this.clock, delay, opts.signal);
      }
    }
  }

  /** Raw request for methods outside our schema table (the /codex passthroughs). */
  requestRaw(method: string, params: unknown, opts: RequestOptions = {}): Promise<unknown> {
    if (!this.ready) return Promise.reject(new ConnectionLostError(method, undefined, `${method}: connection is not ready`));
    return this.engine.request(method, params, opts.timeoutMs ?? this.options.requestTimeoutMs ?? 60_000, opts.signal);
  }

  notify(method: string, params?: unknown): void {
    this.engine.notify(method, params);
  }

  /** Notifications of one thread; '*' for all. Returns an unsubscribe function. */
  subscribe(threadId: string, listener: NotificationListener): () => void {
    if (threadId === '*') {
      this.everything.add(listener);
      return () => this.everything.delete(listener);
    }
    let set = this.byThread.get(threadId);
    if (!set) this.byThread.set(threadId, (set = new Set()));
    set.add(listener);
    return () => {
      set!.delete(listener);
      if (set!.size === 0) this.byThread.delete(threadId);
    };
  }

  onLifecycle(listener: (e: ConnectionLifecycleEvent) => void): () => void {
    this.lifecycle.add(listener);
    return () => this.lifecycle.delete(listener);
  }

  setServerRequestHandler(handler: ServerRequestHandler | undefined): void {
    this.engine.setServerRequestHandler(handler);
  }

  withdrawServerRequests(threadId: string, reason: string): number {
    return this.engine.withdrawThread(threadId, reason);
  }

  status(): ConnectionStatus {
    const ctx = this.actor.getSnapshot().context;
    const s = this.engine.stats;
    return {
      id: this.id,
      state: this.stateName(),
      transport: this.description,
      serverVersion: ctx.version,
      userAgent: ctx.userAgent,
      pid: ctx.pid,
      restarts: ctx.restarts,
      pending: s.pending,
      pendingServerRequests: s.pendingServerRequests,
      malformed: s.malformed,
      lateResponses: s.lateResponses,
      invalidNotifications: s.invalidNotifications,
      lastExit: ctx.lastExit?.reason,
      error: ctx.error,
      warning: ctx.warning,
      outage: ctx.outage && { since: ctx.outage.since, attempts: ctx.outage.attempts, reason: ctx.outage.reason, retryAt: ctx.outage.retryAt },
    };
  }
}

function sleep(clock: TimerClock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = clock.setTimeout(() => (signal?.removeEventListener('abort', onAbort), resolve()), ms);
    const onAbort = (): void => (clock.clearTimeout(t), reject(signal?.reason ?? new Error('aborted')));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
