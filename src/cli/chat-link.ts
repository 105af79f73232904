// The connection of `switchboard chat` to the room server: open a WebSocket, send the join,
// wait for `joined`, and say what a failure means — refused (a credential the server will
// not take: never retried), a usage error, or transient (retried with backoff).
import WebSocket from 'ws';
import { obj, str, type Json } from './chat-render.js';

/** Close codes of the room protocol (see the room server). */
export const Close = {
  badJoin: 4400,
  unauthorized: 4401,
  forbidden: 4403,
  slowConsumer: 4408,
  conflict: 4409,
  tooMany: 4429,
  shuttingDown: 1001,
} as const;

export type Failure =
  /** The credential or the room was refused: exit 3, no retry. */
  | { kind: 'refused'; text: string }
  /** The join itself is wrong (bad frame, wrong room): exit 2, no retry. */
  | { kind: 'usage'; text: string }
  /** Unreachable, dropped, shutting down, rate limited: try again later. */
  | { kind: 'transient'; text: string; retryAfterMs?: number; unreachable?: boolean };

export interface Joined {
  ws: WebSocket;
  frame: Json;
  /** Frames that raced the `joined` frame; handled right after it. */
  early: string[];
}

export interface LinkTimeouts {
  connectMs: number;
  joinMs: number;
}

export const DEFAULT_TIMEOUTS: LinkTimeouts = { connectMs: 10_000, joinMs: 15_000 };

/** What a close code (with its reason) means for the client. */
export function classifyClose(code: number, reason: string): Failure {
  const why = reason || `connection closed (code ${code})`;
  if (code === Close.unauthorized || code === Close.forbidden) return { kind: 'refused', text: `join refused: ${why}` };
  if (code === Close.conflict) return { kind: 'refused', text: `join refused: ${why}` };
  if (code === Close.badJoin) return { kind: 'usage', text: `join refused: ${why}` };
  if (code === Close.shuttingDown) return { kind: 'transient', text: `the room server shut down${reason ? `: ${reason}` : ''}` };
  return { kind: 'transient', text: `connection to the room server lost (code ${code}${reason ? `: ${reason}` : ''})` };
}

function describeOpenError(err: Error): string {
  const errno = (err as NodeJS.ErrnoException).code;
  if (errno === 'ECONNREFUSED') return 'connection refused (is the room server running?)';
  return err.message || errno || String(err);
}

/** Open, join, and wait for the answer. Never throws. */
export async function connectAndJoin(url: string, join: Json, t: LinkTimeouts = DEFAULT_TIMEOUTS): Promise<Joined | Failure> {
  let ws: WebSocket;
  try {
    ws = new WebSocket(url, { handshakeTimeout: t.connectMs });
  } catch (err) {
    return { kind: 'usage', text: `cannot connect to ${url}: ${(err as Error).message}` };
  }
  ws.on('error', () => {}); // every error is followed by a close that says what happened
  const opened = await new Promise<Error | undefined>((resolve) => {
    const onOpen = () => settle(undefined);
    const onError = (err: Error) => settle(err);
    const onClose = (code: number, reason: Buffer) => settle(new Error(`closed (${code}${String(reason) ? `: ${String(reason)}` : ''})`));
    const settle = (r: Error | undefined) => {
      ws.off('open', onOpen).off('error', onError).off('close', onClose);
      resolve(r);
    };
    ws.on('open', onOpen).on('error', onError).on('close', onClose);
  });
  if (opened) {
    ws.terminate();
    // An HTTP 403 at the upgrade (Origin refused) or 401 is a refusal, not a transient failure.
    const status = /Unexpected server response: (\d+)/.exec(opened.message)?.[1];
    if (status === '401' || status === '403') return { kind: 'refused', text: `join refused: the server answered HTTP ${status}` };
    return { kind: 'transient', text: `cannot connect to ${url}: ${describeOpenError(opened)}`, unreachable: true };
  }

  const early: string[] = [];
  const result = await new Promise<Joined | Failure>((resolve) => {
    const timer = setTimeout(() => done({ kind: 'transient', text: `no answer to the join from ${url}` }), t.joinMs);
    let settled = false;
    const done = (r: Joined | Failure) => {
      settled = true;
      clearTimeout(timer);
      // On success the message listener stays: frames right behind `joined` (a resume's missed
      // events arrive in the same packet) are kept in `early` until the session takes over.
      if (!('ws' in r)) ws.removeAllListeners('message');
      ws.removeAllListeners('close');
      resolve(r);
    };
    ws.on('message', (data) => {
      const text = String(data);
      if (settled) return void early.push(text);
      let frame: Json | undefined;
      try {
        frame = obj(JSON.parse(text));
      } catch {
        frame = undefined;
      }
      if (frame?.type === 'joined') done({ ws, frame, early });
      else if (frame?.type === 'error') done(joinError(frame));
      else early.push(text);
    });
    ws.once('close', (code, reason) => done(classifyClose(code, String(reason))));
    ws.send(JSON.stringify(join));
  });
  if (!('ws' in result)) ws.terminate();
  return result;
}

function joinError(frame: Json): Failure {
  const text = `join failed: ${str(frame.error) ?? 'unknown error'}`;
  const code = str(frame.code);
  if (code === 'rate_limited' || code === 'too_many') {
    const after = typeof frame.retryAfterMs === 'number' && frame.retryAfterMs >= 0 ? frame.retryAfterMs : undefined;
    return { kind: 'transient', text, retryAfterMs: after };
  }
  if (code === 'unauthorized' || code === 'forbidden') return { kind: 'refused', text };
  return { kind: 'usage', text };
}

export interface Backoff {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { baseMs: 250, capMs: 10_000 };

/**
 * The wait before attempt `n` (0-based): capped exponential with jitter (half fixed, half
 * random), so many clients dropped by one restart do not all come back at the same instant.
 */
export function backoffDelay(n: number, b: Backoff = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const ceiling = Math.min(b.capMs, b.baseMs * 2 ** Math.min(n, 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}
