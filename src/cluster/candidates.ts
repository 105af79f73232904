// Which conversations a node may drive next: those with a queued message whose lease is free,
// expired, or this node's own. Oldest message first, so a backlog drains in posting order.
import type { Pool } from 'pg';

export type CandidateQuery = (limit: number) => Promise<string[]>;

export function candidateSessions(pool: Pool, node: string): CandidateQuery {
  return async (limit) => {
    const r = await pool.query<{ session: string }>(
      `SELECT i.session FROM inbox i LEFT JOIN session_leases l ON l.session = i.session
       WHERE l.session IS NULL OR l.expires_at <= now() OR l.node = $1
       GROUP BY i.session ORDER BY min(i.position) LIMIT $2`,
      [node, limit],
    );
    return r.rows.map((x) => x.session);
  };
}
