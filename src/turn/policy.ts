// Pure decisions and texts of the turn machine (no IO): which errors mean what, how to say it.
import { ConnectionLostError, RpcError } from '../connection/errors.js';

export const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));

const THREAD_NOT_LOADED = /thread not found|not loaded|no such thread/i;

/**
 * Codex never took the turn: the thread was not loaded, or the connection died before
 * `turn/start` was answered. The session resumes the thread and retries the message once.
 */
export const turnNotTaken = (err: unknown): boolean =>
  err instanceof ConnectionLostError || (err instanceof RpcError && THREAD_NOT_LOADED.test(err.message));

/** `turn/interrupt` right after `turn/start`: the turn may not be active in Codex yet (0.169.0). */
export const interruptTooEarly = (err: unknown): boolean => err instanceof RpcError && /no active turn/i.test(err.message);

export function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
