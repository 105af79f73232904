// Group commit of lease acquires (grouped.ts): a node's scan takes several conversations at once,
// and other nodes race it for the same ones; one upsert per batch instead of one per session,
// a lost race costing a row, not a round trip. Sessions go in sorted order, so two nodes'
// batches lock lease rows in the same order and never deadlock; a session asked twice in one
// batch waits for the next (an upsert cannot touch a row twice).
import type { Pool } from 'pg';
import type { Lease } from '../cluster.js';
import { Grouped, MAX_BATCH } from './grouped.js';

interface Waiter {
  session: string;
  ttlMs: number;
  resolve: (l: Lease | undefined) => void;
  reject: (err: unknown) => void;
}

// Free: epoch 1; otherwise always epoch + 1 (see PostgresClusterStore.acquire). `open_approvals`:
// approvals an earlier driver left open, which the new one must close (ClusterApprovals.tookOver).
const ACQUIRE = {
  name: 'switchboard_lease_acquire_batch',
  text: `INSERT INTO session_leases AS l (session, node, epoch, expires_at)
    SELECT a.session, $2, 1, now() + a.ttl * interval '1 millisecond' FROM unnest($1::text[], $3::bigint[]) AS a(session, ttl) ORDER BY a.session
    ON CONFLICT (session) DO UPDATE SET epoch = l.epoch + 1, node = excluded.node, expires_at = excluded.expires_at
    WHERE l.expires_at <= now() OR l.node = excluded.node
    RETURNING l.session, l.node, l.epoch, (extract(epoch FROM l.expires_at) * 1000)::bigint AS expires_ms,
      EXISTS (SELECT 1 FROM approval_pending p WHERE p.session = l.session AND p.closed_at IS NULL) AS open_approvals`,
};

interface Row {
  session: string;
  node: string;
  epoch: string;
  expires_ms: string;
  open_approvals: boolean;
}

export class AcquireBatch extends Grouped<Waiter> {
  constructor(
    private readonly pool: Pool,
    private readonly node: string,
  ) {
    super();
  }

  acquire(session: string, ttlMs: number): Promise<Lease | undefined> {
    return new Promise((resolve, reject) => this.push({ session, ttlMs, resolve, reject }));
  }

  protected override next(): Waiter[] {
    const batch: Waiter[] = [];
    const rest: Waiter[] = [];
    const asked = new Set<string>();
    for (const w of this.queue) {
      if (batch.length >= MAX_BATCH || asked.has(w.session)) rest.push(w);
      else {
        asked.add(w.session);
        batch.push(w);
      }
    }
    this.queue = rest;
    return batch;
  }

  protected async commit(batch: Waiter[]): Promise<void> {
    const r = await this.pool.query<Row>({ ...ACQUIRE, values: [batch.map((w) => w.session), this.node, batch.map((w) => w.ttlMs)] });
    const got = new Map(r.rows.map((x) => [x.session, x]));
    for (const w of batch) {
      const row = got.get(w.session);
      // No row: another node holds a live lease.
      w.resolve(row ? { session: row.session, node: row.node, epoch: Number(row.epoch), expiresAt: Number(row.expires_ms), openApprovals: row.open_approvals } : undefined);
    }
  }
}
