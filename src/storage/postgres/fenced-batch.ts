// Group commit of one node's fenced writes (history appends, turn ids, acks, claims). Every
// fenced write used to be its own statement: about eight round trips per message, and as much
// PostgreSQL CPU per message as the node's own. Writes made in one event-loop turn, and those
// made while a batch is in flight, go in ONE statement whatever the conversations: it locks their
// lease rows FOR SHARE, and writes only for (session, epoch) pairs still current, so the fencing
// is the same as one statement per write (a takeover waits for the batch, or the batch sees the
// new epoch). Each caller's promise settles with its own result, or its own FencedWriteError.
// The statement text is constant (arrays, not a VALUES list per size): prepared once per connection.
import type { Pool } from 'pg';
import { FencedWriteError, type Lease, type QueuedMessage } from '../cluster.js';
import type { HistoryRecord, StoredRecord } from '../types.js';
import { Grouped, MAX_BATCH } from './grouped.js';
import { inboxRow, type InboxRow } from './rows.js';

type Settle<T> = { resolve: (v: T) => void; reject: (e: unknown) => void };
type Op =
  | ({ kind: 'append'; lease: Lease; record: HistoryRecord; at: number } & Settle<StoredRecord>)
  | ({ kind: 'take'; lease: Lease; id: string; turnId: string; threadId: string | null } & Settle<void>)
  | ({ kind: 'ack'; lease: Lease; id: string } & Settle<void>)
  | ({ kind: 'claim'; lease: Lease } & Settle<QueuedMessage | undefined>);
type Input<K extends Op['kind']> = Omit<Extract<Op, { kind: K }>, 'kind' | 'resolve' | 'reject'>;

// $1 sessions, $2 epochs (the leases the batch writes under), $3 node; then per kind its arrays.
// Lease rows are locked in session order, as a batch of acquires locks them (acquire-batch.ts):
// two statements locking several rows in different orders could deadlock.
// Data-modifying CTEs do not see each other's rows: a take never touches a row this batch acks
// (it would race the delete), and a claim never picks one.
const SQL = `WITH lease AS (SELECT session, node, epoch FROM session_leases WHERE session = ANY($1::text[]) ORDER BY session FOR SHARE),
ok AS (SELECT x.session, x.epoch FROM unnest($1::text[], $2::bigint[]) AS x(session, epoch)
  JOIN lease l ON l.session = x.session AND l.node = $3 AND l.epoch = x.epoch),
ins AS (INSERT INTO history (session, at, kind, body)
  SELECT a.session, a.at, a.kind, a.body FROM unnest($4::text[], $5::bigint[], $6::bigint[], $7::text[], $8::jsonb[]) WITH ORDINALITY AS a(session, epoch, at, kind, body, ord)
  WHERE (a.session, a.epoch) IN (SELECT session, epoch FROM ok) ORDER BY a.ord RETURNING seq, session),
tk AS (UPDATE inbox i SET turn_id = t.turn_id, thread_id = t.thread_id
  FROM unnest($9::text[], $10::bigint[], $11::uuid[], $12::text[], $13::text[]) AS t(session, epoch, id, turn_id, thread_id)
  WHERE i.id = t.id AND i.session = t.session AND t.id <> ALL($16::uuid[]) AND (t.session, t.epoch) IN (SELECT session, epoch FROM ok) RETURNING i.id),
ak AS (DELETE FROM inbox i USING unnest($14::text[], $15::bigint[], $16::uuid[]) AS k(session, epoch, id)
  WHERE i.id = k.id AND i.session = k.session AND (k.session, k.epoch) IN (SELECT session, epoch FROM ok) RETURNING i.id),
nx AS (SELECT n.id, n.claimed_epoch AS previous_epoch, c.epoch FROM unnest($17::text[], $18::bigint[]) AS c(session, epoch)
  CROSS JOIN LATERAL (SELECT id, claimed_epoch FROM inbox WHERE session = c.session AND (claimed_epoch IS NULL OR claimed_epoch < c.epoch)
    AND id <> ALL($16::uuid[]) ORDER BY position LIMIT 1 FOR UPDATE SKIP LOCKED) n
  WHERE (c.session, c.epoch) IN (SELECT session, epoch FROM ok)),
cl AS (UPDATE inbox i SET claimed_by = $3, claimed_epoch = nx.epoch, claimed_at = now() FROM nx WHERE i.id = nx.id RETURNING i.*, nx.previous_epoch)
SELECT (SELECT coalesce(json_agg(json_build_array(session, node, epoch)), '[]') FROM lease) AS leases,
  (SELECT coalesce(json_agg(json_build_array(seq, session) ORDER BY seq), '[]') FROM ins) AS seqs,
  (SELECT coalesce(json_agg(cl), '[]') FROM cl) AS claimed,
  (SELECT count(*) FROM tk) + (SELECT count(*) FROM ak) AS touched`;

interface Result {
  leases: Array<[string, string, number | string]>;
  seqs: Array<[number | string, string]>;
  claimed: Array<InboxRow & { previous_epoch: string | number | null }>;
}

export class FencedBatch extends Grouped<Op> {
  constructor(
    private readonly pool: Pool,
    private readonly node: string,
  ) {
    super();
  }

  append(op: Input<'append'>): Promise<StoredRecord> {
    return new Promise((resolve, reject) => this.push({ ...op, kind: 'append', resolve, reject }));
  }
  take(op: Input<'take'>): Promise<void> {
    return new Promise((resolve, reject) => this.push({ ...op, kind: 'take', resolve, reject }));
  }
  ack(op: Input<'ack'>): Promise<void> {
    return new Promise((resolve, reject) => this.push({ ...op, kind: 'ack', resolve, reject }));
  }
  claim(op: Input<'claim'>): Promise<QueuedMessage | undefined> {
    return new Promise((resolve, reject) => this.push({ ...op, kind: 'claim', resolve, reject }));
  }

  /** The next batch: in order, at most MAX_BATCH, one claim per session (a second waits for the next). */
  protected override next(): Op[] {
    const batch: Op[] = [];
    const rest: Op[] = [];
    const claiming = new Set<string>();
    for (const op of this.queue) {
      if (batch.length >= MAX_BATCH) rest.push(op);
      else if (op.kind === 'claim' && claiming.has(op.lease.session)) rest.push(op);
      else {
        if (op.kind === 'claim') claiming.add(op.lease.session);
        batch.push(op);
      }
    }
    this.queue = rest;
    return batch;
  }

  protected async commit(batch: Op[]): Promise<void> {
    const pairs = new Map<string, Lease>();
    for (const op of batch) pairs.set(`${op.lease.epoch}:${op.lease.session}`, op.lease);
    const a = batch.filter((o): o is Extract<Op, { kind: 'append' }> => o.kind === 'append');
    const t = batch.filter((o): o is Extract<Op, { kind: 'take' }> => o.kind === 'take');
    const k = batch.filter((o): o is Extract<Op, { kind: 'ack' }> => o.kind === 'ack');
    const c = batch.filter((o): o is Extract<Op, { kind: 'claim' }> => o.kind === 'claim');
    const leases = [...pairs.values()];
    const r = await this.pool.query<Result>({
      name: 'switchboard_fenced_batch_1',
      text: SQL,
      values: [
        leases.map((l) => l.session),
        leases.map((l) => l.epoch),
        this.node,
        a.map((o) => o.lease.session),
        a.map((o) => o.lease.epoch),
        a.map((o) => o.at),
        a.map((o) => o.record.kind),
        a.map((o) => JSON.stringify(o.record)),
        t.map((o) => o.lease.session),
        t.map((o) => o.lease.epoch),
        t.map((o) => o.id),
        t.map((o) => o.turnId),
        t.map((o) => o.threadId),
        k.map((o) => o.lease.session),
        k.map((o) => o.lease.epoch),
        k.map((o) => o.id),
        c.map((o) => o.lease.session),
        c.map((o) => o.lease.epoch),
      ],
    });
    const out = r.rows[0]!;
    const current = new Map(out.leases.map(([session, node, epoch]) => [session, { node, epoch: Number(epoch) }]));
    const fenced = (lease: Lease): FencedWriteError | undefined => {
      const now = current.get(lease.session);
      return now && now.node === this.node && now.epoch === lease.epoch ? undefined : new FencedWriteError(lease, now);
    };
    // Seqs per session in order: the batch inserted a session's records in the order they came.
    const seqs = new Map<string, number[]>();
    for (const [seq, session] of out.seqs) (seqs.get(session) ?? seqs.set(session, []).get(session)!).push(Number(seq));
    const claimed = new Map(out.claimed.map((row) => [row.session, row]));
    for (const op of batch) {
      const err = fenced(op.lease);
      if (err) {
        op.reject(err);
        continue;
      }
      if (op.kind === 'append') {
        const seq = seqs.get(op.lease.session)?.shift();
        if (seq === undefined) op.reject(new Error(`history record of "${op.lease.session}" not written`));
        else op.resolve({ ...op.record, seq, session: op.lease.session, at: op.at });
      } else if (op.kind === 'claim') {
        const row = claimed.get(op.lease.session);
        op.resolve(row ? { ...inboxRow(row), clientUserMessageId: row.client_user_message_id, reclaimed: row.previous_epoch !== null } : undefined);
      } else op.resolve();
    }
  }
}
