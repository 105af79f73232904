// What a `room_events` row and its NOTIFY carry, and how a reader takes them back. Both come
// from the shared database, written by any node, so they are checked before a room sees them:
// a row's body is the JSON array of one published batch (an older node wrote one event object
// per row: still read), a payload is `<seq>:<node>` (an older node sent only `<seq>`).
import { z } from 'zod';
import type { RoomEvent } from '../events/room-events.js';

/** Room events per row at most: a node publishes at most this many per batch, a longer row is not read. */
export const MAX_EVENTS_PER_ROW = 500;
/** A longer node name is left out of the payload (PostgreSQL refuses a payload of 8000 bytes or more). */
const MAX_PAYLOAD_NODE_BYTES = 1_000;

const EventShape = z.looseObject({ type: z.string().min(1).max(100), session: z.string().min(1).max(1000), at: z.number() });
const Payload = z.string().max(8_000).regex(/^\d{1,19}:[\s\S]+$/);

/** The events of a row's body in order, and how many were of an unexpected shape; undefined for a row over the bound. */
export function rowEvents(body: unknown): { events: RoomEvent[]; skipped: number } | undefined {
  const items = Array.isArray(body) ? body : [body];
  if (items.length > MAX_EVENTS_PER_ROW) return undefined;
  const events: RoomEvent[] = [];
  for (const item of items) {
    const e = EventShape.safeParse(item);
    if (e.success) events.push(e.data as unknown as RoomEvent);
  }
  return { events, skipped: items.length - events.length };
}

/** The row's `session`: the batch's conversation when it has one only, else '*' (readers go by each event's own). */
export function rowSession(events: readonly RoomEvent[]): string {
  const first = events[0]?.session ?? '*';
  return events.every((e) => e.session === first) ? first : '*';
}

/** What follows `<seq>:` in the payload: the node, or null (payload `<seq>` only) when its name is too long for it. */
export function payloadNode(node: string): string | null {
  return Buffer.byteLength(node) <= MAX_PAYLOAD_NODE_BYTES ? node : null;
}

/** The node a NOTIFY payload names, or undefined (an older node's `<seq>`, or anything else). */
export function publisherOf(payload: string | undefined): string | undefined {
  const p = Payload.safeParse(payload);
  return p.success ? p.data.slice(p.data.indexOf(':') + 1) : undefined;
}
