// A scriptable in-memory `SessionConnection` for unit tests and host development: records
// every request, answers with per-method handlers, and lets the test emit notifications
// (validated exactly like real ones) and lifecycle events.
import type { ConnectionLifecycleEvent, RequestOptions } from '../../src/connection/connection.js';
import { RpcError } from '../../src/connection/errors.js';
import type { ClientMethod, ParamsOf, ResultOf } from '../../src/protocol/client-requests.js';
import { classifyNotification, type InboundNotification } from '../../src/protocol/notifications.js';
import type { SessionConnection } from '../../src/turn/runtime.js';

export type FakeHandler = (params: Record<string, unknown>, opts: RequestOptions) => unknown;

export interface FakeRequest {
  method: string;
  params: Record<string, unknown>;
}

/** A JSON-RPC error as the server would send it. */
export const rpcError = (method: string, message: string, code = -32600): RpcError => new RpcError(method, { code, message });

export class FakeConnection implements SessionConnection {
  readonly requests: FakeRequest[] = [];
  /** Every subscribe/request in order (to check "subscribe before turn/start"). */
  readonly ops: string[] = [];
  readonly restarts: string[] = [];
  readonly withdrawn: Array<{ threadId: string; reason: string }> = [];
  private readonly listeners = new Map<string, Set<(n: InboundNotification) => void>>();
  private readonly lifecycle = new Set<(e: ConnectionLifecycleEvent) => void>();
  private readonly handlers = new Map<string, FakeHandler>();
  private threads = 0;
  private turns = 0;

  constructor() {
    this.on('thread/start', () => ({ thread: { id: `thr_${++this.threads}` } }));
    this.on('thread/resume', (p) => ({ thread: { id: p.threadId } }));
    this.on('turn/start', () => ({ turn: { id: `turn_${++this.turns}`, status: 'inProgress', items: [] } }));
    this.on('turn/steer', (p) => ({ turnId: p.expectedTurnId }));
    this.on('turn/interrupt', () => ({}));
    this.on('model/list', () => ({ data: [model('gpt-5.5'), model('gpt-5.4-mini')], nextCursor: null }));
  }

  /** Answer `method` with `handler` (return a value, a promise, or throw). */
  on(method: string, handler: FakeHandler): this {
    this.handlers.set(method, handler);
    return this;
  }

  /** The last turn id handed out by the default `turn/start` handler. */
  get lastTurnId(): string {
    return `turn_${this.turns}`;
  }

  sent(method: string): Array<Record<string, unknown>> {
    return this.requests.filter((r) => r.method === method).map((r) => r.params);
  }

  async request<M extends ClientMethod>(method: M, params: ParamsOf<M>, opts: RequestOptions = {}): Promise<ResultOf<M>> {
    const p = params as Record<string, unknown>;
    this.requests.push({ method, params: p });
    this.ops.push(`request:${method}`);
    const handler = this.handlers.get(method);
    if (!handler) throw rpcError(method, `fake: no handler for ${method}`, -32601);
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
    const result = await abortable(Promise.resolve().then(() => handler(p, opts)), opts.signal);
    return result as ResultOf<M>;
  }

  subscribe(threadId: string, listener: (n: InboundNotification) => void): () => void {
    this.ops.push(`subscribe:${threadId}`);
    let set = this.listeners.get(threadId);
    if (!set) this.listeners.set(threadId, (set = new Set()));
    set.add(listener);
    return () => {
      set!.delete(listener);
      this.ops.push(`unsubscribe:${threadId}`);
    };
  }

  subscribers(threadId: string): number {
    return this.listeners.get(threadId)?.size ?? 0;
  }

  /** Deliver a notification the way the engine would (validated, routed by threadId). */
  notify(method: string, params: Record<string, unknown>): void {
    const n = classifyNotification(method, params);
    if (n.threadId === undefined) return;
    for (const l of [...(this.listeners.get(n.threadId) ?? [])]) l(n);
  }

  onLifecycle(listener: (e: ConnectionLifecycleEvent) => void): () => void {
    this.lifecycle.add(listener);
    return () => this.lifecycle.delete(listener);
  }

  emitLifecycle(e: ConnectionLifecycleEvent): void {
    for (const l of [...this.lifecycle]) l(e);
  }

  restart(reason: string): void {
    this.restarts.push(reason);
  }

  withdrawServerRequests(threadId: string, reason: string): number {
    this.withdrawn.push({ threadId, reason });
    return 0;
  }
}

function model(name: string): Record<string, unknown> {
  return { id: name, model: name, displayName: name, hidden: false, isDefault: false };
}

function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason ?? new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
      (e: unknown) => (signal.removeEventListener('abort', onAbort), reject(e)),
    );
  });
}

/** Notification payload helpers, shaped like Codex 0.169 sends them. */
export const codex = {
  turnStarted: (threadId: string, turnId: string) => ({ threadId, turn: { id: turnId, status: 'inProgress', items: [], error: null } }),
  turnCompleted: (threadId: string, turnId: string, status = 'completed', error: string | null = null) => ({
    threadId,
    turn: { id: turnId, status, items: [], error: error === null ? null : { message: error, codexErrorInfo: null, additionalDetails: null } },
  }),
  delta: (threadId: string, turnId: string, itemId: string, delta: string) => ({ threadId, turnId, itemId, delta }),
  item: (threadId: string, turnId: string, item: Record<string, unknown>) => ({ threadId, turnId, item }),
  status: (threadId: string, type: string, activeFlags: string[] = []) => ({
    threadId,
    status: type === 'active' ? { type, activeFlags } : { type },
  }),
};
