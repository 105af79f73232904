// Pure decisions of the session machine (no IO): which bind errors mean what.
import { ConnectionLostError, RpcError, RpcTimeoutError } from '../connection/errors.js';
import { ErrorCodes } from '../protocol/wire.js';
import { BindingCorruptError } from './bindings.js';

const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The connection, not Codex, is the problem: retry later rather than give up a thread. */
export function isTransient(err: unknown): boolean {
  if (err instanceof ConnectionLostError || err instanceof RpcTimeoutError) return true;
  if (err instanceof RpcError) return err.code === ErrorCodes.overloaded || /active writer/i.test(err.message);
  const msg = errorMessage(err);
  // "already has an active writer": the previous app-server still holds the thread; it is
  // going away, so resume again shortly instead of forking the conversation.
  return /not ready|aborted|connection (is )?(stopped|failed|lost)|active writer/i.test(msg);
}

/** The stored binding exists but cannot be used (the store moved it aside). */
export const isCorruptBinding = (err: unknown): err is BindingCorruptError => err instanceof BindingCorruptError;

/** What the room and the log are told about an unusable binding file. */
export function corruptBindingFacts(err: unknown): { message: string; detail: string; movedTo: string | undefined } {
  if (err instanceof BindingCorruptError) return { message: err.message, detail: err.detail, movedTo: err.movedTo };
  return { message: errorMessage(err), detail: errorMessage(err), movedTo: undefined };
}
