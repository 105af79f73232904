// Approvals across nodes. The driving node keeps a row per approval the room was asked about
// (open until the approval ends). A client on another node decides through that row: the same
// identity rule as on the driving node (authorize) is checked here, the decision is forwarded
// to the driving node (a row and a NOTIFY), which checks again and applies it through its own
// local decide path, then answers. The deciding client learns the outcome only once applied.
// Fail closed: a driver that lost its lease (or died) gets no decisions, and a node taking a
// conversation over closes the approvals the old driver left open as denied.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { authorize, whoMay } from '../approvals/authorize.js';
import type { RoomEvent } from '../events/room-events.js';
import { FencedWriteError, type Lease } from '../storage/cluster.js';
import type { DecisionAnswer, ForwardedDecision, PostgresApprovalStore } from '../storage/postgres/approvals.js';
import { DecideSchema, type DecideInput } from '../supervisor/post.js';
import { summarize } from '../protocol/wire.js';
import { within } from '../util/clock.js';

export interface ClusterApprovalsOptions {
  store: PostgresApprovalStore;
  node: string;
  /** The lease this node holds for a conversation, if it drives it. */
  leaseOf: (session: string) => Lease | undefined;
  /** This node's own decide path (audit, room events and history as for any local decision). */
  decideHere: (d: DecideInput) => DecisionAnswer;
  emit: (e: RoomEvent) => void;
  log: Logger;
  /** How long a deciding node waits for the driving node's answer (default 10 s). */
  answerMs?: number;
}

type Requested = Extract<RoomEvent, { type: 'approval.requested' }>;

/** Approvals opened between two prunes of old rows. */
const PRUNE_EVERY = 100;

export class ClusterApprovals {
  /** Forwarded decisions of this node waiting for the driving node's answer, by decision id. */
  private readonly waiting = new Map<string, () => void>();
  /** Open approvals this node asked the room about, with the lease it asked under. */
  private readonly asked = new Map<string, Lease>();
  private taking: Promise<void> = Promise.resolve();
  private opens = 0;

  constructor(private readonly o: ClusterApprovalsOptions) {}

  /**
   * A room event of this node: approvals of the conversations it drives are opened and closed in
   * the database. Returns the write of an opened approval, so the event is published after it.
   */
  onEvent(e: RoomEvent): Promise<void> | undefined {
    if (e.type === 'approval.resolved') this.asked.delete(e.approvalId);
    const lease = this.o.leaseOf(e.session);
    if (!lease) return undefined;
    if (e.type === 'approval.requested' && e.reviewer === 'user') {
      this.asked.set(e.approvalId, lease);
      return this.opened(lease, e);
    }
    if (e.type === 'approval.resolved') void this.o.store.close(lease, e.approvalId, e.outcome, e.by).catch((err: unknown) => this.failed(err, e.approvalId));
    return undefined;
  }

  /**
   * Before a decision of an approval this node asked is applied here: is its lease still current?
   * A node that lost the conversation notices only at its next renewal (up to a third of the
   * TTL); until then a local accept would still run the command. Refused (fail closed) when the
   * lease moved on or the database cannot say; undefined when this node did not ask `approvalId`.
   */
  stillDriving(approvalId: string): Promise<DecisionAnswer | undefined> | undefined {
    const lease = this.asked.get(approvalId);
    if (!lease) return undefined;
    return this.o.store.confirm(lease).then(
      () => undefined,
      (err: unknown) => {
        this.o.log.warn({ approvalId, session: lease.session, err: (err as Error).message }, 'a decision was refused: the lease could not be confirmed');
        return err instanceof FencedWriteError
          ? { ok: false as const, reason: `approval ${approvalId} cannot be decided: node ${this.o.node}, which asked, no longer drives the conversation (it is denied)` }
          : { ok: false as const, reason: `approval ${approvalId} not decided: the shared database could not be asked (${(err as Error).message.slice(0, 200)})` };
      },
    );
  }

  /** This node took a conversation over: approvals an earlier driver left open are denied, the room told. */
  async tookOver(lease: Lease): Promise<void> {
    const stale = await this.o.store.closeStale(lease).catch((err: unknown) => this.failed(err, undefined));
    for (const a of stale ?? []) {
      this.o.log.warn({ session: lease.session, approvalId: a.approvalId, node: a.node }, 'an approval of a node that stopped driving was closed as denied');
      this.o.emit({
        type: 'approval.resolved',
        session: lease.session,
        at: Date.now(),
        approvalId: a.approvalId,
        outcome: 'denied',
        decision: undefined,
        by: 'switchboard',
        reason: `node ${a.node}, which asked, stopped driving the conversation before anyone decided`,
      });
    }
  }

  /**
   * A decision for an approval this node does not hold: checked against the database row with
   * the driving node's rule, forwarded, and answered once the driving node applied or refused it.
   */
  async decide(input: DecideInput): Promise<DecisionAnswer> {
    const parsed = DecideSchema.safeParse(input);
    if (!parsed.success) return { ok: false, reason: `invalid decision: ${summarize(parsed.error)}` };
    const d = parsed.data;
    const row = await this.o.store.find(d.approvalId);
    if (!row) return { ok: false, reason: `unknown approval "${d.approvalId}"` };
    if (row.closed) return { ok: false, reason: row.outcome === 'withdrawn' ? `approval ${d.approvalId} was withdrawn` : `approval ${d.approvalId} is already finished (${row.outcome ?? 'closed'})` };
    if (d.room !== undefined && row.session.split('/')[0] !== d.room) return { ok: false, reason: `approval ${d.approvalId} is not in room ${d.room}` };
    const authority = { owner: row.owner ?? undefined, approvers: row.approvers };
    const allowed = authorize({ by: d.by, role: d.role }, authority);
    if (!allowed.ok) {
      this.o.log.warn({ approvalId: d.approvalId, by: d.by, role: d.role }, 'forwarded decision rejected');
      return { ok: false, reason: `${d.by} may not decide approval ${d.approvalId}: only ${whoMay(authority)} can (${allowed.reason})` };
    }
    const id = randomUUID();
    const answered = new Promise<void>((resolve) => this.waiting.set(id, resolve));
    try {
      const body = { by: d.by, decision: d.decision, ...(d.role ? { role: d.role } : {}), ...(d.room ? { room: d.room } : {}), ...(d.content !== undefined ? { content: d.content } : {}) };
      if (!(await this.o.store.forward(id, d.approvalId, this.o.node, body))) {
        return { ok: false, reason: `approval ${d.approvalId} cannot be decided: node ${row.node}, which asked, no longer drives the conversation (it is denied)` };
      }
      this.o.log.info({ approvalId: d.approvalId, by: d.by, to: row.node }, 'decision forwarded to the driving node');
      return await this.answerOf(id, row.node, answered);
    } finally {
      this.waiting.delete(id);
    }
  }

  /**
   * For a client joining a room here: the open approvals of its conversations, whichever node
   * asked (the room server lists each once; it may have started after some were asked).
   */
  openInRoom(room: string, limit: number): Promise<RoomEvent[]> {
    return this.o.store.openInRoom(room, limit);
  }

  /** NOTIFY on the decisions channel (undefined: reconnected, look anyway). */
  onDecisionsNotice(node: string | undefined): void {
    if (node !== undefined && node !== this.o.node) return;
    this.taking = this.taking.then(() => this.applyForwarded()).catch((err: unknown) => this.o.log.warn({ err: (err as Error).message }, 'taking forwarded decisions failed'));
  }

  /** NOTIFY on the answers channel: a forwarded decision of this node may be answered. */
  onAnswerNotice(id: string | undefined): void {
    if (id === undefined) for (const wake of this.waiting.values()) wake();
    else this.waiting.get(id)?.();
  }

  private async opened(lease: Lease, e: Requested): Promise<void> {
    const a = { approvalId: e.approvalId, session: e.session, kind: e.kind, body: e, owner: e.deciders?.owner, approvers: e.deciders?.approvers ?? [], expiresAt: e.expiresAt };
    await this.o.store.open(lease, a).catch((err: unknown) => this.failed(err, e.approvalId));
    if (++this.opens % PRUNE_EVERY === 0) void this.o.store.prune().catch((err: unknown) => this.o.log.warn({ err: (err as Error).message }, 'pruning old approval rows failed'));
  }

  /** Waits for the answer; gives up after `answerMs` unless the driving node already took the decision. */
  private async answerOf(id: string, driver: string, answered: Promise<void>): Promise<DecisionAnswer> {
    const ms = this.o.answerMs ?? 10_000;
    await within(answered, ms, undefined);
    const a = await this.o.store.answerOf(id);
    if (a) return a;
    const late = `node ${driver}, which drives the conversation, did not take the decision in time: not decided`;
    if (await this.o.store.withdraw(id, this.o.node, late)) return { ok: false, reason: late };
    // It was taken meanwhile: applying is one synchronous step there, the answer follows.
    await within(answered, ms, undefined);
    return (await this.o.store.answerOf(id)) ?? { ok: false, reason: `node ${driver} took the decision but its outcome is unknown: see the conversation` };
  }

  /** On the driving node: each forwarded decision is checked again, then applied locally. */
  private async applyForwarded(): Promise<void> {
    for (const f of await this.o.store.take(this.o.node)) {
      const a = await this.applyOne(f).catch((err: unknown): DecisionAnswer => ({ ok: false, reason: `not decided: ${(err as Error).message}` }));
      this.o.log.info({ approvalId: f.approval_id, from: f.from_node, ok: a.ok }, 'forwarded decision answered');
      await this.o.store.answer(f.id, a);
    }
  }

  private async applyOne(f: ForwardedDecision): Promise<DecisionAnswer> {
    const body = DecideSchema.omit({ approvalId: true }).strict().safeParse(f.body);
    if (!body.success) return { ok: false, reason: `invalid decision: ${summarize(body.error)}` };
    const row = await this.o.store.find(f.approval_id);
    const lease = this.o.leaseOf(f.session);
    // Only the approval it was checked for, still open, under the same lease as when forwarded.
    if (!row || row.session !== f.session || row.epoch !== f.epoch || lease?.epoch !== f.epoch) {
      return { ok: false, reason: `approval ${f.approval_id} cannot be decided: node ${this.o.node} no longer drives it at the epoch it was asked under` };
    }
    if (row.closed) return { ok: false, reason: `approval ${f.approval_id} is already finished (${row.outcome ?? 'closed'})` };
    return this.o.decideHere({ ...body.data, approvalId: f.approval_id });
  }

  private failed(err: unknown, approvalId: string | undefined): undefined {
    this.o.log.warn({ err: (err as Error).message, approvalId }, 'pending approval not written (the conversation may have moved to another node)');
    return undefined;
  }
}
