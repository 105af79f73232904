// When a pool as a whole is out of service: facts about its members that sessions must hear
// as they would hear them from one connection (failed for good, or degraded and retrying).
import type { ConnectionLifecycleEvent } from '../connection/connection.js';
import { ConnectionLostError, ConnectionUnavailableError } from '../connection/errors.js';
import type { PoolMember } from './member.js';

export const ended = (m: PoolMember): boolean => m.ended;

/** Gone for good, or retrying slowly after its fast restarts were spent. */
export const outOfService = (m: PoolMember): boolean => m.ended || m.outage !== undefined;

/**
 * The event every session must hear after member event `e`, if `e` left the whole pool out of
 * service: `failed`/`stopped` when every member has ended, else a `degraded` naming the member
 * that retries first.
 */
export function poolWideEvent(members: readonly PoolMember[], e: ConnectionLifecycleEvent, now: number): ConnectionLifecycleEvent | undefined {
  if (!members.every(outOfService)) return undefined;
  if (members.every(ended)) return e.type === 'failed' || e.type === 'stopped' ? e : undefined;
  if (e.type !== 'degraded' && e.type !== 'failed') return undefined;
  const first = poolOutage(members)!;
  return { type: 'degraded', reason: first.reason, since: now, attempt: 0, retryAt: first.retryAt };
}

/** Why a new thread cannot wait for a member (each has ended or is retrying slowly), if so. */
export function unplaceable(method: string, poolId: string, members: readonly PoolMember[]): Error | undefined {
  if (members.every(ended)) return new ConnectionLostError(method, undefined, `${method}: every app-server of pool ${poolId} has stopped`);
  const first = poolOutage(members);
  return first && new ConnectionUnavailableError(`every app-server of pool ${poolId} is retrying (${first.reason})`, first.retryAt);
}

/** The pool's outage, when every member is out of service and some retry: the first retry due. */
export function poolOutage(members: readonly PoolMember[]): { reason: string; retryAt: number } | undefined {
  if (!members.every(outOfService)) return undefined;
  return members.flatMap((m) => (m.outage ? [m.outage] : [])).sort((a, b) => a.retryAt - b.retryAt)[0];
}
