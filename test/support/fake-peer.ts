// In-memory app-server peer for unit tests: no process, fully scripted, synchronous-ish.
import type { Transport, TransportExit, TransportFactory, TransportHandlers } from '../../src/transport/types.js';
import { TransportError } from '../../src/transport/types.js';

export interface PeerScript {
  /** Answer a client frame; return a frame (or frames) to send back, or nothing. */
  onFrame?: (msg: Record<string, unknown>, peer: FakePeer) => unknown;
  userAgent?: string;
  /** Fail the open with this exit instead of connecting. */
  refuseOpen?: TransportExit;
  /** Never answer initialize. */
  hangInitialize?: boolean;
}

export class FakePeer {
  handlers: TransportHandlers | undefined;
  readonly received: Array<Record<string, unknown>> = [];
  opens = 0;
  closed = false;

  constructor(private readonly script: PeerScript = {}) {}

  /** From now on every open fails with `exit` (the server is down), or succeeds again (undefined). */
  refuseOpens(exit: TransportExit | undefined): void {
    this.script.refuseOpen = exit;
  }

  readonly factory: TransportFactory = async (handlers) => {
    this.opens++;
    if (this.script.refuseOpen) throw new TransportError(this.script.refuseOpen);
    this.handlers = handlers;
    this.closed = false;
    const transport: Transport = {
      pid: 4242,
      description: 'fake-peer',
      send: (text) => {
        if (this.closed) return;
        const msg = JSON.parse(text) as Record<string, unknown>;
        this.received.push(msg);
        queueMicrotask(() => this.respond(msg));
      },
      close: async () => this.crash({ kind: 'closed', retryable: false, intentional: true, reason: 'closed by Switchboard' }),
    };
    return transport;
  };

  private respond(msg: Record<string, unknown>): void {
    if (msg.method === 'initialize') {
      if (this.script.hangInitialize) return;
      this.push({ id: msg.id, result: { userAgent: this.script.userAgent ?? 'fake/0.169.0 (test)' } });
      return;
    }
    const out = this.script.onFrame?.(msg, this);
    if (out === undefined) return;
    for (const frame of Array.isArray(out) ? out : [out]) this.push(frame);
  }

  push(frame: unknown): void {
    if (this.closed || !this.handlers) return;
    this.handlers.onLine(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  crash(exit: TransportExit = { kind: 'exit', code: 1, signal: null, retryable: true, reason: 'fake peer crashed' }): void {
    if (this.closed || !this.handlers) return;
    this.closed = true;
    this.handlers.onClose(exit);
  }
}
