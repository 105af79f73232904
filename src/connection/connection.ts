// Connection: the public face of one app-server. It runs the connection machine and owns
// the RPC engine; callers get typed requests, thread subscriptions and status.
import { randomUUID } from 'node:crypto';
import { createActor, type ActorRefFrom, type InspectionEvent } from 'xstate';

type InspectionHandler = (ev: InspectionEvent) => void;
import type { Logger } from 'pino';
import { connectionMachine, type ConnectionConfig } from '../../machines/connection.machine.js';
import { clientRequests, type ClientMethod, type ParamsOf, type ResultOf } from '../protocol/client-requests.js';
import { ErrorCodes, summarize } from '../protocol/wire.js';
import type { InboundNotification } from '../protocol/notifications.js';
import { defaultLogger } from '../log/logger.js';
import type { TransportExit, TransportFactory } from '../transport/types.js';
import { stdioTransport } from '../transport/stdio.js';
import { websocketTransport } from '../transport/websocket.js';
import { RpcEngine, type ServerRequestHandler } from './rpc-engine.js';
import { connectionRuntimes, type ClientInfo } from './runtime.js';
import { ConnectionLostError, InvalidParamsError, RpcError } from './errors.js';
import { DEFAULT_APP_SERVER_ARGS, resolveCodexCommand } from './codex-command.js';

export type TransportConfig =
  | {
      kind: 'stdio';
      command?: string;
      args?: string[];
      env?: Record<string, string | undefined>;
      cwd?: string;
      closeGraceMs?: number;
      killGraceMs?: number;
    }
  | { kind: 'websocket'; url: string; authToken?: string; headers?: Record<string, string>; heartbeatMs?: number };

export interface ConnectionOptions {
  id?: string;
  transport: TransportConfig | { kind: 'custom'; open: TransportFactory; description?: string };
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
  /** Replace the machine (tests provide fake actors this way). */
  machineOverride?: typeof connectionMachine;
  /**
   * Do not create an actor: a parent (the supervisor) spawns the connection machine with
   * `connectionInput()` and hands the child to `adopt()`.
   */
  spawnedByParent?: boolean;
  /** XState inspection (tracing); off unless given. */
  inspect?: InspectionHandler;
}

type ConnectionActorRef = ActorRefFrom<typeof connectionMachine>;

export type ConnectionLifecycleEvent =
  | { type: 'ready'; version: string | undefined; restarts: number }
  | { type: 'lost'; exit: TransportExit }
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
  private actorRef: ConnectionActorRef | undefined;
  private readonly engine: RpcEngine;
  private readonly log: Logger;
  private readonly byThread = new Map<string, Set<NotificationListener>>();
  private readonly everything = new Set<NotificationListener>();
  private readonly lifecycle = new Set<(e: ConnectionLifecycleEvent) => void>();
  private readonly description: string;
  private lastState = 'idle';

  constructor(private readonly options: ConnectionOptions) {
    this.id = options.id ?? `conn-${randomUUID().slice(0, 8)}`;
    this.log = (options.log ?? defaultLogger()).child({ connection: this.id });
    this.engine = new RpcEngine({
      log: this.log,
      serverRequestBackstopMs: options.serverRequestBackstopMs ?? 60 * 60 * 1000,
      onNotification: (n) => this.route(n),
    });
    const { open, description } = this.transportFactory();
    this.description = description;
    connectionRuntimes.register(this.id, {
      engine: this.engine,
      open,
      log: this.log,
      clientInfo: options.clientInfo ?? { name: 'switchboard', title: 'Switchboard', version: '0.1.0' },
      experimentalApi: options.experimentalApi ?? false,
      onPid: (pid) => pid === undefined || this.log.info({ pid }, 'app-server started'),
      onClosed: (exit) => {
        if (!exit.intentional) this.emit({ type: 'lost', exit });
      },
    });
    if (!options.spawnedByParent) {
      this.bind(createActor(options.machineOverride ?? connectionMachine, { id: this.id, input: this.connectionInput(), ...(options.inspect ? { inspect: options.inspect } : {}) }));
    }
  }

  /** Input for spawning this connection's machine elsewhere. */
  connectionInput(): { connectionId: string; config: ConnectionOptions['machine'] } {
    return { connectionId: this.id, config: this.options.machine };
  }

  /** Take over a connection machine a parent spawned (it is already running, in `idle`). */
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
    ref.subscribe({
      next: (snap) => this.onSnapshot(snap),
      error: (err) => this.log.error({ err }, 'connection actor error'),
    });
  }

  private transportFactory(): { open: TransportFactory; description: string } {
    const t = this.options.transport;
    if (t.kind === 'custom') return { open: t.open, description: t.description ?? 'custom' };
    if (t.kind === 'websocket') {
      return {
        open: websocketTransport({ url: t.url, authToken: t.authToken, headers: t.headers, heartbeatMs: t.heartbeatMs, log: this.log }),
        description: t.url,
      };
    }
    const command = resolveCodexCommand(t.command);
    const args = t.args ?? DEFAULT_APP_SERVER_ARGS;
    return {
      open: stdioTransport({
        command,
        args,
        env: t.env,
        cwd: t.cwd,
        closeGraceMs: t.closeGraceMs,
        killGraceMs: t.killGraceMs,
        log: this.log,
        onOversizeLine: (bytes) => {
          this.engine.stats.malformed++;
          this.log.warn({ bytes }, 'oversized line skipped');
        },
      }),
      description: `${command} ${args.join(' ')}`,
    };
  }

  private stateName(): string {
    const v = this.actor.getSnapshot().value;
    return typeof v === 'string' ? v : Object.entries(v).map(([k, s]) => `${k}.${String(s)}`)[0]!;
  }

  private onSnapshot(snap: ReturnType<ConnectionActorRef['getSnapshot']>): void {
    const state = this.stateName();
    if (state === this.lastState) return;
    const prev = this.lastState;
    this.lastState = state;
    const ctx = snap.context;
    this.log.info({ from: prev, to: state, version: ctx.version, restarts: ctx.restarts }, 'connection state');
    if (state === 'running.ready') {
      if (ctx.warning) this.log.warn({ warning: ctx.warning }, 'app-server version accepted by warn-only policy');
      this.emit({ type: 'ready', version: ctx.version, restarts: ctx.restarts });
    } else if (state === 'failed') {
      this.log.error({ error: ctx.error }, 'connection failed');
      this.emit({ type: 'failed', error: ctx.error ?? 'connection failed' });
      connectionRuntimes.unregister(this.id);
    } else if (state === 'stopped') {
      this.emit({ type: 'stopped' });
      connectionRuntimes.unregister(this.id);
    } else if (state === 'backoff' && ctx.lastExit && prev.startsWith('running')) {
      this.log.warn({ exit: ctx.lastExit }, 'app-server connection lost; restarting');
    }
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

  /** Start; resolves when ready, rejects with the reason when the connection fails. */
  private started = false;

  async start(signal?: AbortSignal): Promise<void> {
    if (!this.started) {
      this.started = true;
      (this.actor as unknown as { start(): void }).start();
    }
    this.actor.send({ type: 'START' });
    await this.waitForReady(signal);
  }

  /** Graceful stop: close stdin, SIGTERM, SIGKILL; resolves when the server is gone. */
  async stop(): Promise<void> {
    if (!this.started) {
      connectionRuntimes.unregister(this.id);
      return;
    }
    if (this.actor.getSnapshot().status !== 'active') return;
    const done = new Promise<void>((resolve) => {
      const sub = this.actor.subscribe((s) => {
        if (s.status === 'done') {
          sub.unsubscribe();
          resolve();
        }
      });
    });
    this.actor.send({ type: 'STOP' });
    await done;
  }

  /** Force a restart (an escalation when the server stops answering). */
  restart(reason: string): void {
    this.log.warn({ reason }, 'restart requested');
    this.actor.send({ type: 'RESTART', reason });
  }

  /**
   * Ready to carry requests: the machine is in running.ready and the engine still has its
   * transport (the engine lets go synchronously when the server dies, a moment before the
   * machine processes the close).
   */
  get ready(): boolean {
    return this.stateName() === 'running.ready' && this.engine.attached;
  }

  waitForReady(signal?: AbortSignal, timeoutMs?: number): Promise<void> {
    const state = this.stateName();
    if (this.ready) return Promise.resolve();
    if (state === 'failed' || state === 'stopped') {
      return Promise.reject(new Error(this.actor.getSnapshot().context.error ?? `connection is ${state}`));
    }
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const cleanup = (): void => {
        off();
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        cleanup();
        reject(signal?.reason ?? new Error('aborted'));
      };
      const off = this.onLifecycle((e) => {
        if (e.type === 'ready') {
          cleanup();
          resolve();
        } else if (e.type === 'failed' || e.type === 'stopped') {
          cleanup();
          reject(new Error(e.type === 'failed' ? e.error : 'connection stopped'));
        }
      });
      if (timeoutMs) timer = setTimeout(() => (cleanup(), reject(new Error(`connection not ready within ${timeoutMs} ms`))), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
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
    const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : undefined;
    const retry = this.options.overloadRetry ?? { attempts: 4, baseMs: 200, maxMs: 5_000 };
    for (let attempt = 0; ; attempt++) {
      if (!this.ready) await this.waitForReady(opts.signal, deadline ? Math.max(1, deadline - Date.now()) : undefined);
      const remaining = deadline ? Math.max(1, deadline - Date.now()) : undefined;
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
        const delay = Math.min(retry.maxMs, retry.baseMs * 2 ** attempt) * (0.5 + Math.random() * 0.5);
        if (deadline && Date.now() + delay > deadline) throw err;
        this.log.info({ method, attempt: attempt + 1, delay: Math.round(delay) }, 'server overloaded; retrying');
        await sleep(delay, opts.signal);
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
    };
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => (signal?.removeEventListener('abort', onAbort), resolve()), ms);
    const onAbort = (): void => (clearTimeout(t), reject(signal?.reason ?? new Error('aborted')));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
