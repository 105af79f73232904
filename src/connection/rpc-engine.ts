// The JSON-RPC engine of one connection: request/response correlation, notification
// routing and the server-request guarantee. Plain code, not an actor: every inbound
// frame passes through here, and a machine transition per frame would cap throughput.
import type { Logger } from 'pino';
import {
  decodeFrame,
  encodeError,
  encodeNotification,
  encodeRequest,
  encodeResult,
  ErrorCodes,
  type Frame,
  type RequestId,
} from '../protocol/wire.js';
import { classifyNotification, type InboundNotification } from '../protocol/notifications.js';
import {
  failClosedAnswer,
  isServerRequestMethod,
  serverRequestSchemas,
  validateServerAnswer,
  type ServerRequestAnswer,
} from '../protocol/server-requests.js';
import { summarize } from '../protocol/wire.js';
import { preview } from '../log/redact.js';
import type { Transport, TransportExit } from '../transport/types.js';
import { systemClock, unrefTimer, type TimerClock } from '../util/clock.js';
import { ConnectionLostError, RpcError, RpcTimeoutError } from './errors.js';

export interface ServerRequest {
  id: RequestId;
  method: string;
  params: Record<string, unknown>;
  threadId: string | undefined;
  /** Aborted when the request is withdrawn: resolved elsewhere, turn ended, connection lost. */
  signal: AbortSignal;
}

/** Returns the answer, or undefined to let the fail-closed default answer. */
export type ServerRequestHandler = (req: ServerRequest) => Promise<ServerRequestAnswer | undefined> | ServerRequestAnswer | undefined;

export interface EngineOptions {
  log: Logger;
  /** Safety net: a server request still unanswered after this long gets the fail-closed answer. */
  serverRequestBackstopMs: number;
  onNotification: (n: InboundNotification) => void;
  onMalformed?: (reason: string) => void;
  /** Timers for request deadlines and the backstop (default: the system's). */
  clock?: Pick<TimerClock, 'setTimeout' | 'clearTimeout'>;
}

interface Pending {
  method: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: unknown;
  cleanup: () => void;
}

interface PendingServerRequest {
  method: string;
  threadId: string | undefined;
  controller: AbortController;
  backstop: unknown;
}

export interface EngineStats {
  pending: number;
  pendingServerRequests: number;
  malformed: number;
  lateResponses: number;
  invalidNotifications: number;
  serverRequestsAnswered: number;
  serverRequestsFailClosed: number;
}

export class RpcEngine {
  private transport: Transport | undefined;
  private nextId = 1;
  private readonly pending = new Map<RequestId, Pending>();
  private readonly serverPending = new Map<string, PendingServerRequest>();
  private handler: ServerRequestHandler | undefined;
  readonly stats: EngineStats = {
    pending: 0,
    pendingServerRequests: 0,
    malformed: 0,
    lateResponses: 0,
    invalidNotifications: 0,
    serverRequestsAnswered: 0,
    serverRequestsFailClosed: 0,
  };

  private readonly timers: Pick<TimerClock, 'setTimeout' | 'clearTimeout'>;

  constructor(private readonly opts: EngineOptions) {
    this.timers = opts.clock ?? systemClock;
  }

  get attached(): boolean {
    return this.transport !== undefined;
  }

  attach(transport: Transport): void {
    this.transport = transport;
  }

  isAttachedTo(transport: Transport): boolean {
    return this.transport === transport;
  }

  /** The transport is gone: every pending call fails now, every server request is withdrawn. */
  detach(exit: TransportExit): void {
    this.transport = undefined;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.cleanup();
      p.reject(new ConnectionLostError(p.method, exit));
    }
    for (const [key, s] of this.serverPending) {
      this.serverPending.delete(key);
      this.timers.clearTimeout(s.backstop);
      s.controller.abort(new ConnectionLostError(s.method, exit));
    }
    this.syncCounts();
  }

  setServerRequestHandler(handler: ServerRequestHandler | undefined): void {
    this.handler = handler;
  }

  request(method: string, params: unknown, timeoutMs: number | undefined, signal?: AbortSignal): Promise<unknown> {
    const transport = this.transport;
    if (!transport) return Promise.reject(new ConnectionLostError(method, undefined, `${method}: connection is not open`));
    if (signal?.aborted) return Promise.reject(signal.reason ?? new Error('aborted'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        if (this.pending.delete(id)) {
          p.cleanup();
          this.syncCounts();
          reject(signal!.reason ?? new Error(`${method} aborted`));
        }
      };
      const p: Pending = {
        method,
        resolve,
        reject,
        timer: undefined,
        cleanup: () => {
          if (p.timer !== undefined) this.timers.clearTimeout(p.timer);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      if (timeoutMs !== undefined && timeoutMs > 0) {
        p.timer = this.timers.setTimeout(() => {
          if (this.pending.delete(id)) {
            p.cleanup();
            this.syncCounts();
            reject(new RpcTimeoutError(method, timeoutMs));
          }
        }, timeoutMs);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, p);
      this.syncCounts();
      transport.send(encodeRequest(id, method, params));
    });
  }

  notify(method: string, params?: unknown): void {
    this.transport?.send(encodeNotification(method, params));
  }

  /** Withdraw pending server requests of a thread (its turn ended). */
  withdrawThread(threadId: string, reason: string): number {
    let n = 0;
    for (const [key, s] of this.serverPending) {
      if (s.threadId !== threadId) continue;
      this.serverPending.delete(key);
      this.timers.clearTimeout(s.backstop);
      s.controller.abort(new Error(reason));
      n++;
    }
    this.syncCounts();
    return n;
  }

  /** Hot path: one inbound frame. Never throws. */
  handleLine(text: string): void {
    const decoded = decodeFrame(text);
    if (!decoded.ok) {
      this.stats.malformed++;
      this.opts.log.warn({ reason: decoded.reason, line: preview(text) }, 'malformed frame skipped');
      this.opts.onMalformed?.(decoded.reason);
      return;
    }
    this.handleFrame(decoded.frame);
  }

  handleFrame(frame: Frame): void {
    switch (frame.kind) {
      case 'notification':
        return this.handleNotification(frame.method, frame.params);
      case 'response':
        return this.settle(frame.id, (p) => p.resolve(frame.result));
      case 'error':
        if (frame.id === null) {
          this.opts.log.warn({ error: frame.error }, 'server error without id');
          return;
        }
        return this.settle(frame.id, (p) => p.reject(new RpcError(p.method, frame.error)));
      case 'request':
        return this.handleServerRequest(frame.id, frame.method, frame.params);
    }
  }

  private settle(id: RequestId, fn: (p: Pending) => void): void {
    // Our ids are numbers; a peer that echoes them as strings is still matched.
    const key = typeof id === 'string' && /^\d+$/.test(id) ? Number(id) : id;
    const p = this.pending.get(key);
    if (!p) {
      this.stats.lateResponses++;
      this.opts.log.info({ id }, 'late or unknown response dropped');
      return;
    }
    this.pending.delete(key);
    p.cleanup();
    this.syncCounts();
    fn(p);
  }

  private handleNotification(method: string, params: unknown): void {
    const n = classifyNotification(method, params);
    if (!n.valid) {
      this.stats.invalidNotifications++;
      this.opts.log.warn({ method, problem: n.problem }, 'notification failed its schema; delivered raw');
    }
    if (method === 'serverRequest/resolved') {
      const rid = (n.params as { requestId?: unknown }).requestId;
      if (rid !== undefined) this.withdraw(String(rid), 'resolved by the server');
    }
    try {
      this.opts.onNotification(n);
    } catch (err) {
      this.opts.log.error({ err, method }, 'notification subscriber threw');
    }
  }

  private withdraw(key: string, reason: string): void {
    const s = this.serverPending.get(key);
    if (!s) return;
    this.serverPending.delete(key);
    this.timers.clearTimeout(s.backstop);
    s.controller.abort(new Error(reason));
    this.syncCounts();
  }

  private handleServerRequest(id: RequestId, method: string, rawParams: unknown): void {
    const log = this.opts.log;
    if (!isServerRequestMethod(method)) {
      log.warn({ id, method }, 'unknown server request: answered method-not-found');
      this.answer(id, method, failClosedAnswer(method), true);
      return;
    }
    const parsed = serverRequestSchemas[method].safeParse(rawParams ?? {});
    if (!parsed.success) {
      log.warn({ id, method, problem: summarize(parsed.error) }, 'server request with invalid params: denied');
      this.answer(id, method, failClosedAnswer(method, 'request could not be understood'), true);
      return;
    }
    const params = (parsed.data ?? {}) as Record<string, unknown>;
    const threadId = typeof params.threadId === 'string' ? params.threadId : typeof params.conversationId === 'string' ? params.conversationId : undefined;
    const key = String(id);
    if (this.serverPending.has(key)) {
      // Ids must be unique while pending; answer the duplicate closed rather than guess.
      this.answer(id, method, failClosedAnswer(method, 'duplicate request id'), true);
      return;
    }
    const controller = new AbortController();
    const backstop = this.timers.setTimeout(() => {
      if (this.serverPending.delete(key)) {
        this.syncCounts();
        controller.abort(new Error('backstop timeout'));
        log.warn({ id, method }, 'server request unanswered at backstop: fail-closed');
        this.answer(id, method, failClosedAnswer(method, 'no decision in time'), true);
      }
    }, this.opts.serverRequestBackstopMs);
    unrefTimer(backstop);
    this.serverPending.set(key, { method, threadId, controller, backstop });
    this.syncCounts();

    const finish = (answer: ServerRequestAnswer | undefined, failClosed: boolean, why?: string): void => {
      if (!this.serverPending.delete(key)) return; // withdrawn or already answered
      this.timers.clearTimeout(backstop);
      this.syncCounts();
      if (answer === undefined) {
        this.answer(id, method, failClosedAnswer(method, why), true);
        return;
      }
      const problem = validateServerAnswer(method, answer);
      if (problem) {
        log.error({ id, method, problem }, 'handler answer has the wrong shape: fail-closed instead');
        this.answer(id, method, failClosedAnswer(method, 'invalid answer'), true);
        return;
      }
      this.answer(id, method, answer, failClosed);
    };

    const handler = this.handler;
    if (!handler) {
      finish(undefined, true, 'no reviewer is attached');
      return;
    }
    let result: ReturnType<ServerRequestHandler>;
    try {
      result = handler({ id, method, params, threadId, signal: controller.signal });
    } catch (err) {
      log.error({ err, id, method }, 'server request handler threw: fail-closed');
      finish(undefined, true, 'reviewer failed');
      return;
    }
    Promise.resolve(result).then(
      (answer) => finish(answer, answer === undefined),
      (err) => {
        log.error({ err, id, method }, 'server request handler rejected: fail-closed');
        finish(undefined, true, 'reviewer failed');
      },
    );
  }

  private answer(id: RequestId, method: string, answer: ServerRequestAnswer, failClosed: boolean): void {
    this.stats.serverRequestsAnswered++;
    if (failClosed) this.stats.serverRequestsFailClosed++;
    const t = this.transport;
    if (!t) return;
    t.send('error' in answer ? encodeError(id, answer.error) : encodeResult(id, answer.result));
    this.opts.log.debug({ id, method, failClosed }, 'server request answered');
  }

  private syncCounts(): void {
    this.stats.pending = this.pending.size;
    this.stats.pendingServerRequests = this.serverPending.size;
  }
}

export { ErrorCodes };
