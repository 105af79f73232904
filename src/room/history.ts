// History pages for the room protocol: the newest page first, older pages by a `before`
// cursor (a record seq). The backend pages; the result is re-checked here so an older or
// simpler backend can never hand a client more than a page, or the oldest page.
import type { StoredRecord } from '../storage/types.js';
import type { RoomBackend } from './protocol.js';

export interface Page {
  records: StoredRecord[];
  /** Cursor for the next older page, when there may be one. */
  before?: number;
}

export async function historyPage(backend: RoomBackend, room: string, filter: { channel?: string; thread?: string }, before: number | undefined, limit: number): Promise<Page> {
  if (limit <= 0) return { records: [] };
  const got = await backend.history(room, { ...filter, ...(before !== undefined ? { before } : {}), limit });
  let records = before !== undefined ? got.filter((r) => r.seq < before) : got;
  if (records.length > limit) records = records.slice(-limit);
  return records.length === limit && records[0] ? { records, before: records[0].seq } : { records };
}
