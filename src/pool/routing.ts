// Which member of a pool a request goes to, by method: pure facts about the protocol.
import { RpcError } from '../connection/errors.js';
import { ErrorCodes } from '../protocol/wire.js';

/**
 * - `place`:  loads a new thread → the least loaded accepting member
 * - `resume`: loads a known thread → where it is loaded, else placed like a new one
 * - `work`:   runs a turn on a loaded thread → its member, which counts as busy until `turn/completed`
 * - `thread`: about one thread → its member if loaded, else any member
 * - `any`:    not about a thread → any ready member
 */
export type Route = 'place' | 'resume' | 'work' | 'thread' | 'any';

const PLACE = new Set(['thread/start', 'thread/fork']);
const WORK = new Set(['turn/start', 'review/start', 'thread/compact/start']);

export function routeOf(method: string, threadId: string | undefined): Route {
  if (PLACE.has(method)) return 'place';
  if (method === 'thread/resume') return 'resume';
  if (WORK.has(method)) return 'work';
  return threadId !== undefined ? 'thread' : 'any';
}

/** The thread a request is about (`params.threadId`), if any. */
export function threadOf(params: unknown): string | undefined {
  const id = (params as { threadId?: unknown } | null | undefined)?.threadId;
  return typeof id === 'string' ? id : undefined;
}

/** The thread a `thread/start|resume|fork` result names. */
export function resultThread(result: unknown): string | undefined {
  const id = (result as { thread?: { id?: unknown } } | null | undefined)?.thread?.id;
  return typeof id === 'string' ? id : undefined;
}

/**
 * A turn for a thread no member has loaded (its member was recycled or went away). Worded as
 * Codex words it, so the session resumes the thread and runs the message again.
 */
export function notLoaded(method: string, threadId: string): RpcError {
  return new RpcError(method, { code: ErrorCodes.invalidRequest, message: `thread not loaded: ${threadId} is loaded in no app-server of the pool` });
}

/** Codex has no such thread (its rollout is in another app-server's CODEX_HOME). */
export const unknownThread = (err: unknown): boolean => err instanceof RpcError && /no rollout found|thread not found/i.test(err.message);

/** The settings of `thread/start|resume` that `thread/resume` takes (what the pool keeps to resume a thread itself). */
const RESUME_SETTINGS = ['model', 'modelProvider', 'serviceTier', 'cwd', 'approvalPolicy', 'approvalsReviewer', 'sandbox', 'config', 'baseInstructions', 'developerInstructions'];

export function resumeSettings(params: unknown): Record<string, unknown> {
  const p = (params ?? {}) as Record<string, unknown>;
  return Object.fromEntries(RESUME_SETTINGS.filter((k) => p[k] !== undefined).map((k) => [k, p[k]]));
}
