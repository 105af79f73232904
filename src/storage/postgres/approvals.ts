// Approvals across nodes in `postgres` storage: the approvals a driving node asked a person
// about (written under its lease, so a node that lost the conversation writes none), and the
// decisions another node forwards to it, each taken once and answered. Rows are read back from
// a database other nodes write: what leaves this module is parsed and bounded.
import type { Pool } from 'pg';
import { z } from 'zod';
import type { RoomEvent } from '../../events/room-events.js';
import type { Lease } from '../cluster.js';
import type { PostgresClusterStore } from './cluster.js';

/** NOTIFY payload: the node that should take its forwarded decisions now. */
export const DECISIONS_CHANNEL = 'switchboard_approval_decisions';
/** NOTIFY payload: the id of a forwarded decision that was answered. */
export const ANSWERS_CHANNEL = 'switchboard_approval_answers';

const text = (max: number) => z.string().max(max).transform((s) => s.replace(/[\u0000-\u001f\u007f]/g, ' '));

const PendingRow = z.object({
  approval_id: z.string().min(1).max(200),
  session: z.string().min(1).max(1000),
  node: z.string().max(200),
  epoch: z.coerce.number().int(),
  kind: z.string().max(100),
  owner: z.string().max(200).nullable(),
  approvers: z.array(z.string().max(200)).max(1000),
  closed: z.boolean(),
  outcome: z.string().max(100).nullable(),
});
export type PendingApprovalRow = z.infer<typeof PendingRow>;

/** What the driving node writes when the room is asked. */
export interface OpenApproval {
  approvalId: string;
  session: string;
  kind: string;
  /** The approval.requested room event, as the room saw it. */
  body: unknown;
  owner: string | undefined;
  approvers: readonly string[];
  expiresAt: number | undefined;
}

// The approval.requested event a row's body holds: checked against its row (same approval, same
// conversation), so a body written wrong can neither name another approval nor leak into another room.
const RequestedBody = z.looseObject({
  type: z.literal('approval.requested'),
  approvalId: z.string().min(1).max(200),
  session: z.string().min(1).max(1000),
  at: z.number(),
  title: z.string().max(10_000),
  choices: z.array(z.string().max(200)).max(100),
});

const DecisionRow = z.object({
  id: z.string().uuid(),
  approval_id: z.string().min(1).max(200),
  session: z.string().min(1).max(1000),
  epoch: z.coerce.number().int(),
  from_node: z.string().max(200),
  body: z.unknown(),
});
export type ForwardedDecision = z.infer<typeof DecisionRow>;

const Answer = z.object({ ok: z.boolean(), reason: text(2000).nullable() });
export type DecisionAnswer = { ok: true } | { ok: false; reason: string };

export class PostgresApprovalStore {
  constructor(
    private readonly pool: Pool,
    private readonly cluster: PostgresClusterStore,
  ) {}

  /** Fenced: refused (FencedWriteError) once `lease` is not current. A second write of the same approval is a no-op. */
  async open(lease: Lease, a: OpenApproval): Promise<void> {
    await this.cluster.fenced(
      lease,
      `w AS (INSERT INTO approval_pending (approval_id, session, node, epoch, kind, body, owner, approvers, expires_at)
         SELECT $4, $1, $2, $3, $5, $6, $7, $8, CASE WHEN $9::bigint IS NULL THEN NULL ELSE to_timestamp($9::bigint / 1000.0) END FROM ok
         ON CONFLICT (approval_id) DO NOTHING RETURNING approval_id)`,
      [a.approvalId, a.kind, JSON.stringify(a.body), a.owner ?? null, JSON.stringify(a.approvers), a.expiresAt ?? null],
    );
  }

  /** Fenced: the approval ended (decided, timed out, withdrawn). */
  /** Resolves while `lease` is still current; FencedWriteError once another node took over. */
  async confirm(lease: Lease): Promise<void> {
    await this.cluster.fenced(lease, 'w AS (SELECT 1 AS current FROM ok)');
  }

  async close(lease: Lease, approvalId: string, outcome: string, by: string): Promise<void> {
    await this.cluster.fenced(
      lease,
      `w AS (UPDATE approval_pending SET closed_at = now(), outcome = $5, closed_by = $6
         WHERE approval_id = $4 AND session = $1 AND closed_at IS NULL AND EXISTS (SELECT 1 FROM ok) RETURNING approval_id)`,
      [approvalId, outcome, by],
    );
  }

  /** Fenced, at a takeover: approvals an older epoch left open are closed as denied; returns them. */
  async closeStale(lease: Lease): Promise<Array<{ approvalId: string; node: string }>> {
    const rows = await this.cluster.fenced<{ approval_id: string; node: string }>(
      lease,
      `w AS (UPDATE approval_pending SET closed_at = now(), outcome = 'denied', closed_by = 'switchboard'
         WHERE session = $1 AND epoch < $3 AND closed_at IS NULL AND EXISTS (SELECT 1 FROM ok) RETURNING approval_id, node)`,
    );
    return rows.map((r) => ({ approvalId: String(r.approval_id), node: String(r.node) }));
  }

  /** Rows of approvals closed (and decisions made) over a day ago: kept that long to answer "already finished". */
  async prune(): Promise<void> {
    await this.pool.query(`DELETE FROM approval_pending WHERE closed_at < now() - interval '1 day'`);
    await this.pool.query(`DELETE FROM approval_decisions WHERE created_at < now() - interval '1 day'`);
  }

  /**
   * The open approvals of room `room`'s conversations, oldest first, at most `limit`: only those
   * whose asking node still holds the lease it asked under (a dead driver's are about to be closed
   * as denied). Each is the approval.requested event the room saw; a row whose body is not one is skipped.
   */
  async openInRoom(room: string, limit: number): Promise<RoomEvent[]> {
    // Sessions are `room/channel/thread`: the room itself or anything below it; LIKE wildcards in names are escaped.
    const below = `${room.replace(/[\\%_]/g, (c) => `\\${c}`)}/%`;
    const r = await this.pool.query(
      `SELECT p.approval_id, p.session, p.body FROM approval_pending p
       JOIN session_leases l ON l.session = p.session AND l.node = p.node AND l.epoch = p.epoch AND l.expires_at > now()
       WHERE (p.session = $1 OR p.session LIKE $2 ESCAPE '\\') AND p.closed_at IS NULL
       ORDER BY p.created_at, p.approval_id LIMIT $3`,
      [room, below, limit],
    );
    return r.rows.flatMap((row: { approval_id: unknown; session: unknown; body: unknown }) => {
      const e = RequestedBody.safeParse(row.body);
      return e.success && e.data.approvalId === row.approval_id && e.data.session === row.session ? [e.data as unknown as RoomEvent] : [];
    });
  }

  async find(approvalId: string): Promise<PendingApprovalRow | undefined> {
    const r = await this.pool.query(
      `SELECT approval_id, session, node, epoch, kind, owner, approvers, closed_at IS NOT NULL AS closed, outcome
       FROM approval_pending WHERE approval_id = $1`,
      [approvalId],
    );
    return r.rows[0] ? PendingRow.parse(r.rows[0]) : undefined;
  }

  /**
   * Forwards a decision to the node that asked, only while the approval is open and that node
   * still holds the conversation's lease at the epoch it asked under; false otherwise.
   */
  async forward(id: string, approvalId: string, fromNode: string, body: unknown): Promise<boolean> {
    const r = await this.pool.query(
      `WITH p AS (
         SELECT p.approval_id, p.session, p.node, p.epoch FROM approval_pending p
         JOIN session_leases l ON l.session = p.session AND l.node = p.node AND l.epoch = p.epoch AND l.expires_at > now()
         WHERE p.approval_id = $2 AND p.closed_at IS NULL),
       ins AS (
         INSERT INTO approval_decisions (id, approval_id, session, node, epoch, from_node, body)
         SELECT $1, approval_id, session, node, epoch, $3, $4 FROM p RETURNING node)
       SELECT pg_notify('${DECISIONS_CHANNEL}', node) FROM ins`,
      [id, approvalId, fromNode, JSON.stringify(body)],
    );
    return r.rows.length === 1;
  }

  /** The decisions forwarded to `node` that nobody took yet, taken now (each by one taker only). */
  async take(node: string): Promise<ForwardedDecision[]> {
    const r = await this.pool.query(
      `UPDATE approval_decisions SET taken_at = now(), taken_by = $1 WHERE node = $1 AND taken_at IS NULL
       RETURNING id, approval_id, session, epoch, from_node, body`,
      [node],
    );
    return r.rows.flatMap((row) => {
      const d = DecisionRow.safeParse(row);
      return d.success ? [d.data] : [];
    });
  }

  /** The driving node applied (or refused) a decision it took: the deciding node is told. */
  async answer(id: string, a: DecisionAnswer): Promise<void> {
    await this.pool.query(
      `WITH w AS (UPDATE approval_decisions SET answered_at = now(), ok = $2, reason = $3 WHERE id = $1 RETURNING id)
       SELECT pg_notify('${ANSWERS_CHANNEL}', id::text) FROM w`,
      [id, a.ok, a.ok ? null : a.reason],
    );
  }

  /** The deciding node stops waiting: true when the driving node had not taken it (so it never will). */
  async withdraw(id: string, node: string, reason: string): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE approval_decisions SET taken_at = now(), taken_by = $2, answered_at = now(), ok = false, reason = $3
       WHERE id = $1 AND taken_at IS NULL RETURNING id`,
      [id, node, reason],
    );
    return r.rows.length === 1;
  }

  async answerOf(id: string): Promise<DecisionAnswer | undefined> {
    const r = await this.pool.query('SELECT ok, reason FROM approval_decisions WHERE id = $1 AND answered_at IS NOT NULL', [id]);
    if (!r.rows[0]) return undefined;
    const a = Answer.parse(r.rows[0]);
    return a.ok ? { ok: true } : { ok: false, reason: a.reason ?? 'refused by the driving node' };
  }
}
