// What a session says to the room (notices), in one place.
import type { BindingCorruptError } from './bindings.js';
import type { SessionContext } from './types.js';

/** `12:34:56 UTC`: a retry time people can read (the date is today's, near enough). */
const clockTime = (ms: number): string => `${new Date(ms).toISOString().slice(11, 19)} UTC`;

export const texts = {
  queued: (waiting: number) => `A turn is running; your message is queued (${waiting} waiting).`,
  bindFailed: (err: string, waiting: number, bindRetryMs: number) =>
    `Could not open the Codex thread: ${err}. ${waiting ? `Will retry in ${Math.round(bindRetryMs / 1000)} s; ${waiting} message(s) kept.` : ''}`.trim(),
  corruptBinding: (err: Pick<BindingCorruptError, 'detail' | 'movedTo'>) =>
    `The saved thread binding of this conversation is corrupt (${err.detail}); started a new Codex thread.${
      err.movedTo ? ` The old file was kept as ${err.movedTo}.` : ''
    }`,
  resumeFailed: (threadId: string, err: string) => `Started a new Codex thread because resuming thread ${threadId} failed: ${err}`,
  continuing: (threadId: string) => `Continuing Codex thread ${threadId}.`,
  newThread: (threadId: string | undefined) => `Started a new Codex thread ${threadId}.`,
  leftoverSteer: (n: number) => `The turn ended before ${n} message(s) could be added to it; they will run next.`,
  turnCrashed: (err: string) => `The turn failed unexpectedly: ${err}`,
  steerFailed: 'Your message could not be added to the running turn; it will run as the next turn.',
  persistFailed: (err: string) => `Could not save the thread binding (${err}); a host restart may not resume this thread.`,
  nothingToStop: 'Nothing to stop: no turn is running.',
  stopping: (queued: number) => `Stopping the current turn…${queued ? ` ${queued} queued message(s) will run after it.` : ''}`,
  busy: 'A turn is running or messages are waiting; /stop it (or wait) before /new or /reset.',
  reset: 'Cleared the thread binding of this conversation; the next message starts a new Codex thread.',
  /** `/status`: the session's context and its state value. */
  status: (c: Pick<SessionContext, 'threadId' | 'model' | 'current' | 'activeTurnId' | 'queue' | 'settings'>, state: unknown) =>
    [
      `Thread: ${c.threadId ?? 'none yet'}`,
      `Model: ${c.model ?? 'the Codex default'}`,
      `Turn: ${c.current ? `running (turn ${c.activeTurnId ?? 'starting'})` : 'idle'}`,
      `Queued: ${c.queue.length}`,
      `Mode: ${c.settings.busyMode}`,
      `State: ${JSON.stringify(state)}`,
    ].join('\n'),
  /** Once per session and outage; `retryAt` undefined: the connection failed for good. */
  unavailable: (reason: string, retryAt: number | undefined) =>
    retryAt === undefined
      ? `The agent is unavailable: ${reason}. Switchboard will not retry this; fix the cause and restart it. Messages are not run until then.`
      : `The agent is unavailable: ${reason}. Switchboard keeps retrying by itself (next attempt at ${clockTime(retryAt)}); messages sent until it is back are not run.`,
  /** The error of each message refused during an outage. */
  notRun: 'not run: the Codex app-server is unavailable',
  back: 'The agent is back: the Codex app-server is reachable again. Messages sent while it was unavailable were not run; send them again if they still matter.',
  shuttingDown: (waiting: number) => `Switchboard is shutting down; ${waiting} message(s) of this conversation were not run.`,
  attachmentIgnored: (problem: string) => `Attachment ignored: ${problem}`,
  emptyMessage: 'Empty message ignored.',
};
