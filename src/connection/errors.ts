import type { TransportExit } from '../transport/types.js';
import type { WireError } from '../protocol/wire.js';

/** The server answered with a JSON-RPC error. */
export class RpcError extends Error {
  readonly code: number;
  readonly data: unknown;
  constructor(
    readonly method: string,
    error: WireError,
  ) {
    super(`${method} failed (${error.code}): ${error.message}`);
    this.name = 'RpcError';
    this.code = error.code;
    this.data = error.data;
  }
}

/** No answer within the request's deadline. */
export class RpcTimeoutError extends Error {
  constructor(
    readonly method: string,
    readonly timeoutMs: number,
  ) {
    super(`${method} got no response within ${timeoutMs} ms`);
    this.name = 'RpcTimeoutError';
  }
}

/** The connection went away (or was never there) while the request was pending. */
export class ConnectionLostError extends Error {
  constructor(
    readonly method: string,
    readonly exit: TransportExit | undefined,
    message?: string,
  ) {
    super(
      message ??
        `${method} aborted: connection lost (${exit?.reason ?? 'unknown'})${exit?.stderrTail ? `; stderr: ${exit.stderrTail.slice(-500)}` : ''}`,
    );
    this.name = 'ConnectionLostError';
  }
}

/** Our own params failed their schema: a caller bug, reported before anything is sent. */
export class InvalidParamsError extends Error {
  constructor(
    readonly method: string,
    detail: string,
  ) {
    super(`invalid params for ${method}: ${detail}`);
    this.name = 'InvalidParamsError';
  }
}

/**
 * The connection is degraded (its fast restarts are spent and it retries on a slow schedule)
 * or failed for good: a request fails at once instead of waiting for a server that is not there.
 */
export class ConnectionUnavailableError extends Error {
  constructor(
    readonly reason: string,
    /** When the next retry is due (clock ms); undefined when the connection will not retry. */
    readonly retryAt: number | undefined,
  ) {
    super(`the app-server is unavailable: ${reason}${retryAt !== undefined ? `; next retry at ${new Date(retryAt).toISOString()}` : ''}`);
    this.name = 'ConnectionUnavailableError';
  }
}
