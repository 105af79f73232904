// The cluster view of `postgres` storage for one node: heartbeats, session leases with a
// fencing epoch, fenced writes and the inbox queue. Every time is the database's `now()`, so
// nodes whose clocks disagree still agree on who holds a lease.
//
// Fencing: a fenced write is one statement that locks the session's lease row FOR SHARE and
// checks node and epoch before writing. A takeover (an UPDATE of that row) waits for the write
// to commit, or, if it committed first, the check sees the new epoch: the write cannot slip in
// after a takeover.
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { FencedWriteError, type ClusterStore, type Lease, type NodeInfo, type QueuedMessage } from '../cluster.js';
import { HistoryRecordSchema, type HistoryRecord, type InboxMessage, type StoredRecord } from '../types.js';
import { EnqueueBatch } from './enqueue-batch.js';
import { inboxRow, type InboxRow } from './rows.js';

const LEASE_COLUMNS = `session, node, epoch, (extract(epoch FROM expires_at) * 1000)::bigint AS expires_ms`;

interface LeaseRow {
  session: string;
  node: string;
  epoch: string;
  expires_ms: string;
}
const leaseOfRow = (r: LeaseRow): Lease => ({ session: r.session, node: r.node, epoch: Number(r.epoch), expiresAt: Number(r.expires_ms) });

export class PostgresClusterStore implements ClusterStore {
  private readonly inbox: EnqueueBatch;

  constructor(
    private readonly pool: Pool,
    readonly node: string,
    private readonly log: Logger | undefined,
  ) {
    this.inbox = new EnqueueBatch(pool);
  }

  async heartbeat(): Promise<void> {
    await this.pool.query('INSERT INTO nodes (node) VALUES ($1) ON CONFLICT (node) DO UPDATE SET heartbeat_at = now()', [this.node]);
  }

  async liveNodes(withinMs: number): Promise<NodeInfo[]> {
    const r = await this.pool.query<{ node: string; started: string; beat: string }>(
      `SELECT node, (extract(epoch FROM started_at) * 1000)::bigint AS started, (extract(epoch FROM heartbeat_at) * 1000)::bigint AS beat
       FROM nodes WHERE heartbeat_at > now() - $1 * interval '1 millisecond' ORDER BY node`,
      [withinMs],
    );
    return r.rows.map((x) => ({ node: x.node, startedAt: Number(x.started), heartbeatAt: Number(x.beat) }));
  }

  async acquire(session: string, ttlMs: number): Promise<Lease | undefined> {
    // Free: epoch 1. Expired, released or another node's after expiry: epoch + 1. Ours and live: kept.
    const r = await this.pool.query<LeaseRow>(
      `INSERT INTO session_leases AS l (session, node, epoch, expires_at) VALUES ($1, $2, 1, now() + $3 * interval '1 millisecond')
       ON CONFLICT (session) DO UPDATE SET
         epoch = CASE WHEN l.node = excluded.node AND l.expires_at > now() THEN l.epoch ELSE l.epoch + 1 END,
         node = excluded.node, expires_at = excluded.expires_at
       WHERE l.expires_at <= now() OR l.node = excluded.node
       RETURNING ${LEASE_COLUMNS}`,
      [session, this.node, ttlMs],
    );
    const row = r.rows[0];
    if (!row) return undefined;
    const lease = leaseOfRow(row);
    this.log?.debug({ session, epoch: lease.epoch }, 'session lease acquired');
    return lease;
  }

  async renew(lease: Lease, ttlMs: number): Promise<Lease> {
    this.own(lease);
    const r = await this.pool.query<LeaseRow>(
      `UPDATE session_leases SET expires_at = now() + $4 * interval '1 millisecond'
       WHERE session = $1 AND node = $2 AND epoch = $3 RETURNING ${LEASE_COLUMNS}`,
      [lease.session, lease.node, lease.epoch, ttlMs],
    );
    if (!r.rows[0]) throw new FencedWriteError(lease, await this.current(this.pool, lease.session));
    return leaseOfRow(r.rows[0]);
  }

  async release(lease: Lease): Promise<void> {
    // The row stays (its epoch must keep growing); only its expiry moves to now.
    await this.pool.query('UPDATE session_leases SET expires_at = now() WHERE session = $1 AND node = $2 AND epoch = $3', [lease.session, lease.node, lease.epoch]);
  }

  async leaseOf(session: string): Promise<Lease | undefined> {
    const r = await this.pool.query<LeaseRow>(`SELECT ${LEASE_COLUMNS} FROM session_leases WHERE session = $1`, [session]);
    return r.rows[0] ? leaseOfRow(r.rows[0]) : undefined;
  }

  /** Grouped with this node's other posts of the same moment into one statement (enqueue-batch.ts). */
  enqueue(session: string, message: InboxMessage, clientUserMessageId?: string): Promise<QueuedMessage> {
    return this.inbox.enqueue(session, message, clientUserMessageId);
  }

  async claim(lease: Lease): Promise<QueuedMessage | undefined> {
    // SKIP LOCKED: a message another claimer is taking is passed over, never handed out twice.
    const [row] = await this.fenced<InboxRow & { previous_epoch: string | null }>(
      lease,
      `next AS (
         SELECT id, claimed_epoch FROM inbox WHERE session = $1 AND (claimed_epoch IS NULL OR claimed_epoch < $3) AND EXISTS (SELECT 1 FROM ok)
         ORDER BY position LIMIT 1 FOR UPDATE SKIP LOCKED),
       w AS (
         UPDATE inbox i SET claimed_by = $2, claimed_epoch = $3, claimed_at = now() FROM next WHERE i.id = next.id
         RETURNING i.*, next.claimed_epoch AS previous_epoch)`,
    );
    if (!row) return undefined;
    return { ...inboxRow(row), clientUserMessageId: row.client_user_message_id, reclaimed: row.previous_epoch !== null };
  }

  async append(lease: Lease, record: HistoryRecord): Promise<StoredRecord> {
    const rec = HistoryRecordSchema.parse(record);
    const at = Date.now();
    const [row] = await this.fenced<{ seq: number }>(lease, `w AS (INSERT INTO history (session, at, kind, body) SELECT $1, $4, $5, $6 FROM ok RETURNING seq)`, [at, rec.kind, JSON.stringify(rec)]);
    return { ...rec, seq: Number(row!.seq), session: lease.session, at };
  }

  async take(lease: Lease, id: string, turnId: string, threadId: string | undefined): Promise<void> {
    await this.fenced(lease, `w AS (UPDATE inbox SET turn_id = $5, thread_id = $6 WHERE id = $4 AND session = $1 AND EXISTS (SELECT 1 FROM ok) RETURNING id)`, [id, turnId, threadId ?? null]);
  }

  async ack(lease: Lease, id: string): Promise<void> {
    await this.fenced(lease, `w AS (DELETE FROM inbox WHERE id = $4 AND session = $1 AND EXISTS (SELECT 1 FROM ok) RETURNING id)`, [id]);
  }

  /**
   * One statement: lock the lease row FOR SHARE, check node and epoch (`ok` has a row when
   * current), run `w` (which must write only when `ok` has a row). A single statement holds the
   * lock only while the server runs it: a node paused between two round trips cannot hold a
   * transaction open and stall the takeover. $1 session, $2 node, $3 epoch, then `params`.
   * Other tables of the conversation (pending approvals) are written through it too.
   */
  async fenced<R>(lease: Lease, writes: string, params: unknown[] = []): Promise<R[]> {
    this.own(lease);
    const r = await this.pool.query<{ node: string | null; epoch: string | null; current: boolean; rows: R[] }>(
      `WITH lease AS (SELECT node, epoch FROM session_leases WHERE session = $1 FOR SHARE),
         ok AS (SELECT 1 FROM lease WHERE node = $2 AND epoch = $3),
         ${writes}
       SELECT (SELECT node FROM lease) AS node, (SELECT epoch FROM lease) AS epoch, EXISTS (SELECT 1 FROM ok) AS current,
         (SELECT coalesce(json_agg(w), '[]'::json) FROM w) AS rows`,
      [lease.session, lease.node, lease.epoch, ...params],
    );
    const out = r.rows[0]!;
    if (!out.current) throw new FencedWriteError(lease, out.node === null ? undefined : { node: out.node, epoch: Number(out.epoch) });
    return out.rows;
  }

  private own(lease: Lease): void {
    if (lease.node !== this.node) throw new Error(`lease of node ${lease.node} used by node ${this.node}`);
  }

  private async current(q: Pool, session: string): Promise<{ node: string; epoch: number } | undefined> {
    const r = await q.query<{ node: string; epoch: string }>('SELECT node, epoch FROM session_leases WHERE session = $1', [session]);
    return r.rows[0] ? { node: r.rows[0].node, epoch: Number(r.rows[0].epoch) } : undefined;
  }
}
