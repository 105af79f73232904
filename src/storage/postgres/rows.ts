// Rows of the postgres tables as the store types. int8 columns arrive as strings, jsonb as values.
import type { Logger } from 'pino';
import { HistoryRecordSchema, InboxMessageSchema, type InboxEntry, type StoredRecord } from '../types.js';

export interface InboxRow {
  id: string;
  session: string;
  at: string;
  body: unknown;
  client_user_message_id: string;
  turn_id: string | null;
  thread_id: string | null;
  claimed_epoch: string | null;
}

export function inboxRow(row: InboxRow): InboxEntry {
  return {
    id: row.id,
    session: row.session,
    at: Number(row.at),
    message: InboxMessageSchema.parse(row.body),
    clientUserMessageId: row.client_user_message_id,
    ...(row.turn_id != null ? { turnId: row.turn_id } : {}),
    ...(row.thread_id != null ? { threadId: row.thread_id } : {}),
  };
}

/** History rows as records; one that no longer parses is skipped (and logged), as in `dataset`. */
export function recordRows(rows: Array<Record<string, unknown>>, log: Logger | undefined): StoredRecord[] {
  const out: StoredRecord[] = [];
  for (const row of rows) {
    const session = String(row.session);
    const parsed = HistoryRecordSchema.safeParse(row.body);
    if (!parsed.success) {
      log?.warn({ session, seq: Number(row.seq) }, 'unreadable history record skipped');
      continue;
    }
    out.push({ ...parsed.data, seq: Number(row.seq), session, at: Number(row.at) });
  }
  return out;
}
