// The relay's in-memory history: bounded per room (oldest records drop first), paged like
// the stores (newest page by default, `before`/`after` cursors). seq is server-wide.
import { HistoryRecordSchema, type HistoryRecord, type StoredRecord } from '../storage/types.js';

export interface HistoryFilter {
  channel?: string;
  thread?: string;
  before?: number;
  after?: number;
  limit?: number;
}

export class RelayHistory {
  private seq = 0;
  private readonly rooms = new Map<string, StoredRecord[]>();

  constructor(private readonly perRoom = 10_000) {}

  append(session: string, record: HistoryRecord): StoredRecord {
    const stored = { ...HistoryRecordSchema.parse(record), seq: ++this.seq, session, at: Date.now() } as StoredRecord;
    const room = session.split('/', 1)[0]!;
    let list = this.rooms.get(room);
    if (!list) this.rooms.set(room, (list = []));
    list.push(stored);
    if (list.length > this.perRoom) list.splice(0, list.length - this.perRoom);
    return stored;
  }

  page(room: string, f: HistoryFilter = {}): StoredRecord[] {
    const prefix = [room, f.channel, f.thread].filter(Boolean).join('/');
    const all = (this.rooms.get(room) ?? []).filter(
      (r) => (r.session === prefix || r.session.startsWith(`${prefix}/`)) && (f.before === undefined || r.seq < f.before) && (f.after === undefined || r.seq > f.after),
    );
    if (f.limit === undefined) return all;
    return f.after !== undefined ? all.slice(0, f.limit) : all.slice(Math.max(0, all.length - f.limit));
  }
}
