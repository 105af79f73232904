// Group commit of history appends outside any lease (a single node's, or a post's own record on
// the node that accepted it): one INSERT per batch (grouped.ts). Records come out with seqs in
// call order, so a conversation's records keep the order they were appended in.
import type { Pool } from 'pg';
import type { HistoryRecord, StoredRecord } from '../types.js';
import { Grouped } from './grouped.js';

interface Waiter {
  session: string;
  record: HistoryRecord;
  at: number;
  resolve: (r: StoredRecord) => void;
  reject: (err: unknown) => void;
}

const INSERT = {
  name: 'switchboard_history_append_batch',
  text: `INSERT INTO history (session, at, kind, body)
    SELECT session, at, kind, body FROM unnest($1::text[], $2::bigint[], $3::text[], $4::jsonb[]) WITH ORDINALITY AS a(session, at, kind, body, ord)
    ORDER BY ord RETURNING seq`,
};

export class AppendBatch extends Grouped<Waiter> {
  constructor(private readonly pool: Pool) {
    super();
  }

  /** `record` must be valid already (HistoryRecordSchema): one bad record would fail its whole batch. */
  append(session: string, record: HistoryRecord, at: number): Promise<StoredRecord> {
    return new Promise((resolve, reject) => this.push({ session, record, at, resolve, reject }));
  }

  protected async commit(batch: Waiter[]): Promise<void> {
    const r = await this.pool.query<{ seq: string }>({
      ...INSERT,
      values: [batch.map((w) => w.session), batch.map((w) => w.at), batch.map((w) => w.record.kind), batch.map((w) => JSON.stringify(w.record))],
    });
    // Seqs were drawn in input order (the ordered SELECT feeds the insert).
    const seqs = r.rows.map((x) => Number(x.seq)).sort((a, b) => a - b);
    batch.forEach((w, i) => w.resolve({ ...w.record, seq: seqs[i]!, session: w.session, at: w.at }));
  }
}
