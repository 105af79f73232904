// The cluster view of `postgres` storage for one node: heartbeats, session leases with a
// fencing epoch, fenced writes and the inbox queue. Every time is the database's `now()`, so
// nodes whose clocks disagree still agree on who holds a lease.
//
// Fencing: a fenced write is one statement (a batch of them: fenced-batch.ts) that locks the session's lease row FOR SHARE and
// checks node and epoch before writing. A takeover (an UPDATE of that row) waits for the write
// to commit, or, if it committed first, the check sees the new epoch: the write cannot slip in
// after a takeover.
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { FencedWriteError, type ClusterStore, type Lease, type NodeInfo, type QueuedMessage } from '../cluster.js';
import { HistoryRecordSchema, type HistoryRecord, type InboxMessage, type StoredRecord } from '../types.js';
import { AcquireBatch } from './acquire-batch.js';
import { EnqueueBatch } from './enqueue-batch.js';
import { FencedBatch } from './fenced-batch.js';
import type { GroupedStats } from './grouped.js';
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
  /** Claims, history appends, turn ids and acks: one statement per batch (fenced-batch.ts). */
  readonly batch: FencedBatch;
  /** Lease acquires: one statement per batch (acquire-batch.ts). */
  private readonly leases: AcquireBatch;
  /** Posts: one statement per batch (enqueue-batch.ts). */
  private readonly inbox: EnqueueBatch;

  constructor(
    private readonly pool: Pool,
    readonly node: string,
    private readonly log: Logger | undefined,
  ) {
    this.batch = new FencedBatch(pool, node);
    this.leases = new AcquireBatch(pool, node);
    this.inbox = new EnqueueBatch(pool);
  }

  /** Statements and writes of this node's grouped writers (a copy: for metrics). */
  groupedStats(): { fenced: GroupedStats; acquire: GroupedStats; enqueue: GroupedStats } {
    return { fenced: { ...this.batch.stats }, acquire: { ...this.leases.stats }, enqueue: { ...this.inbox.stats } };
  }

  /** Messages in the shared queue, every node's. */
  async queueDepth(): Promise<number> {
    const r = await this.pool.query<{ n: string }>('SELECT count(*) AS n FROM inbox');
    return Number(r.rows[0]!.n);
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
    // Free: epoch 1; otherwise always epoch + 1. Callers acquire only a lease they do not hold in
    // memory, so a live row of this node id is a restarted process's or one lost here: taken at once
    // (no wait for the TTL), but under a new epoch, so the old one's writes are fenced and the
    // messages it claimed are reclaimed (and checked against the Codex thread), not stuck. Grouped.
    const lease = await this.leases.acquire(session, ttlMs);
    if (lease) this.log?.debug({ session, epoch: lease.epoch }, 'session lease acquired');
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

  /** The oldest message of the session not claimed at this epoch (SKIP LOCKED: never handed out twice). Grouped. */
  async claim(lease: Lease): Promise<QueuedMessage | undefined> {
    this.own(lease);
    return this.batch.claim({ lease });
  }

  async append(lease: Lease, record: HistoryRecord): Promise<StoredRecord> {
    this.own(lease);
    return this.batch.append({ lease, record: HistoryRecordSchema.parse(record), at: Date.now() });
  }

  async take(lease: Lease, id: string, turnId: string, threadId: string | undefined): Promise<void> {
    this.own(lease);
    return this.batch.take({ lease, id, turnId, threadId: threadId ?? null });
  }

  async ack(lease: Lease, id: string): Promise<void> {
    this.own(lease);
    return this.batch.ack({ lease, id });
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
