// Codex actions that run as a turn of the conversation instead of user input: a review
// (`review/start`) and a compaction (`thread/compact/start`). The session queues them like
// messages, so they never overlap a turn, and the turn machine follows them like any turn.
import type { ReviewTarget } from '../protocol/client-requests.js';
import type { InboundNotification } from '../protocol/notifications.js';
import type { SessionConnection } from './runtime.js';

export type { ReviewTarget };

export type TurnAction = { type: 'review'; target: ReviewTarget } | { type: 'compact' };

/**
 * `thread/compact/start` answers `{}` before the compaction runs; the turn it runs as is known
 * only from `turn/started`, so the thread is watched from before the request is sent.
 */
export function startCompaction(conn: SessionConnection, threadId: string, signal: AbortSignal): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const onAbort = () => {
      off();
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    const unsubscribe = conn.subscribe(threadId, (n: InboundNotification) => {
      const id = n.method === 'turn/started' ? (n.params.turn as { id?: unknown } | undefined)?.id : undefined;
      if (typeof id !== 'string') return;
      off();
      resolve(id);
    });
    const off = () => {
      unsubscribe();
      signal.removeEventListener('abort', onAbort);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    conn.request('thread/compact/start', { threadId }, { signal }).catch((err: unknown) => {
      off();
      reject(err);
    });
  });
}
