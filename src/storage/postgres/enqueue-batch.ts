// Group commit of inbox enqueues. One INSERT per posted message was the most expensive
// statement per message of a cluster; posts made in one turn of the event loop, and those made
// while a batch is in flight, go in one statement instead (at most one in flight). The SQL text is
// the same whatever the batch size (arrays through unnest), so it is prepared once per connection.
// Each caller's promise still resolves with its own row (or rejects with its own error) once the
// statement committed, exactly as a single enqueue would.
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { QueuedMessage } from '../cluster.js';
import { InboxMessageSchema, type InboxMessage } from '../types.js';
import { Grouped } from './grouped.js';
import { inboxRow, type InboxRow } from './rows.js';

// Rows go in call order (position is a bigserial, assigned as the ordered SELECT yields them). A
// client id already queued, or twice in this batch, is skipped by the upsert: every input row is
// joined to the row with its id, the one inserted now or the one already there (the inserted rows
// are invisible to the statement's own snapshot, so the two sides never hold the same id).
const INSERT = {
  name: 'inbox-enqueue-batch',
  text: `WITH input AS (
      SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::jsonb[], $5::uuid[]) WITH ORDINALITY AS u(id, session, at, body, cid, ord)),
    ins AS (
      INSERT INTO inbox (id, session, at, body, client_user_message_id)
      SELECT id, session, at, body, cid FROM input ORDER BY ord
      ON CONFLICT (client_user_message_id) DO NOTHING RETURNING *)
    SELECT u.ord, r.* FROM input u LEFT JOIN (
      SELECT * FROM ins UNION ALL SELECT * FROM inbox WHERE client_user_message_id = ANY($5::uuid[])
    ) r ON r.client_user_message_id = u.cid`,
};

// A re-post racing one from another node: the loser's snapshot predates the winner's row.
const READ_BACK = {
  name: 'inbox-enqueue-read-back',
  text: `SELECT u.ord, i.* FROM unnest($1::uuid[]) WITH ORDINALITY AS u(cid, ord) JOIN inbox i ON i.client_user_message_id = u.cid`,
};

type Row = InboxRow & { ord: string };

interface Waiter {
  id: string;
  session: string;
  at: number;
  body: string;
  clientUserMessageId: string;
  resolve: (m: QueuedMessage) => void;
  reject: (err: unknown) => void;
}

export class EnqueueBatch extends Grouped<Waiter> {
  constructor(private readonly pool: Pool) {
    super();
  }

  /** A re-post with the same `clientUserMessageId` returns the message already queued. */
  async enqueue(session: string, message: InboxMessage, clientUserMessageId: string = randomUUID()): Promise<QueuedMessage> {
    // Invalid input is refused here, before it can join (and fail) a batch.
    const body = JSON.stringify(InboxMessageSchema.parse(message));
    return new Promise((resolve, reject) => this.push({ id: randomUUID(), session, at: Date.now(), body, clientUserMessageId, resolve, reject }));
  }

  protected async commit(batch: Waiter[]): Promise<void> {
    // A failure rejects the batch (Grouped: bad data from one caller is retried in halves).
    const { rows } = await this.pool.query<Row>({
      ...INSERT,
      values: [batch.map((w) => w.id), batch.map((w) => w.session), batch.map((w) => w.at), batch.map((w) => w.body), batch.map((w) => w.clientUserMessageId)],
    });
    const found = byOrd(rows);
    const missing = batch.flatMap((_, i) => (found.has(i) ? [] : [i]));
    let readBackError: unknown;
    if (missing.length) {
      try {
        const r = await this.pool.query<Row>({ ...READ_BACK, values: [missing.map((i) => batch[i]!.clientUserMessageId)] });
        for (const row of r.rows) found.set(missing[Number(row.ord) - 1]!, row);
      } catch (err) {
        readBackError = err;
      }
    }
    batch.forEach((w, i) => {
      const row = found.get(i);
      // Not inserted now and no longer in the inbox: it was queued before and is done with.
      if (!row) return w.reject(readBackError ?? new Error(`message ${w.clientUserMessageId} was queued and is already done with`));
      try {
        w.resolve({ ...inboxRow(row), clientUserMessageId: row.client_user_message_id, reclaimed: row.claimed_epoch !== null });
      } catch (err) {
        w.reject(err);
      }
    });
  }
}

/** Rows by input index (ordinality is 1-based); a LEFT JOIN miss (no inbox row) is left out. */
function byOrd(rows: Row[]): Map<number, Row> {
  const m = new Map<number, Row>();
  for (const r of rows) if (r.id !== null) m.set(Number(r.ord) - 1, r);
  return m;
}
