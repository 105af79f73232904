// `joined.pending`: the open approvals this room server saw asked (its event log) and, with
// several nodes, those the shared database lists, which it may never have seen asked (it
// started after the request). A join waits for the database only so long: a slow or
// unreachable one costs a join at most `ms`, then the local list is sent.
import type { Logger } from 'pino';
import type { RoomEvent } from '../events/room-events.js';
import { within } from '../util/clock.js';
import type { RoomBackend } from './protocol.js';
import type { ReplayLog } from './replay.js';

/** The backend's list of the room's open approvals, or [] when it has none to look up, after `ms`, or on a failure (logged). */
export async function lookUpPending(backend: RoomBackend, room: string, limit: number, ms: number, log: Logger | undefined): Promise<RoomEvent[]> {
  let asked: Promise<RoomEvent[]> | undefined;
  try {
    asked = backend.openApprovals?.(room, limit);
  } catch (err) {
    asked = Promise.reject(err);
  }
  if (!asked) return [];
  try {
    const got = await within(asked, ms, 'late' as const);
    if (got !== 'late') return got;
    log?.warn({ room, ms }, 'join sent with only the approvals this server saw asked: the shared database did not answer in time');
  } catch (err) {
    log?.warn({ room, err: (err as Error).message }, 'join sent with only the approvals this server saw asked: the shared database could not be asked');
  }
  return [];
}

/**
 * The local list, then those of the database it lacks, at most `limit`. One the event log saw
 * resolved is left out: the database read may predate the resolution (its row is closed after
 * the room is told), and a client joining now would not get that resolution.
 */
export function joinedPending(replay: ReplayLog, room: string, stored: readonly RoomEvent[], limit: number): RoomEvent[] {
  const list = replay.pending(room);
  const listed = new Set(list.map((e) => (e as { approvalId?: string }).approvalId));
  for (const e of stored) {
    if (e.type !== 'approval.requested' || listed.has(e.approvalId) || replay.resolved(room, e.approvalId)) continue;
    listed.add(e.approvalId);
    list.push(e);
  }
  return list.slice(0, limit);
}
