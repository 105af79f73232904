// The approval router: the connection's server-request handler. One approval actor per
// request; room prompts and decisions for the user reviewer; an audit stream of every
// outcome. Whatever goes wrong, the request is answered with its denial.
import { randomUUID } from 'node:crypto';
import { createActor, toPromise, type Actor } from 'xstate';
import { timerClock, type TimerClock } from '../util/clock.js';
import { Subject, type Observable } from 'rxjs';
import type { Logger } from 'pino';
import { approvalMachine, provideApprovalMachine, type ApprovalMachine } from '../../machines/approval.machine.js';
import type { RoomEvent } from '../events/room-events.js';
import { defaultLogger } from '../log/logger.js';
import type { InboundNotification } from '../protocol/notifications.js';
import type { ServerRequestAnswer } from '../protocol/server-requests.js';
import { summarize } from '../protocol/wire.js';
import type { ServerRequest, ServerRequestHandler } from '../connection/rpc-engine.js';
import { reviewActor, toolActor } from './actors.js';
import { PolicyReviewer, reviewerName } from './policy.js';
import { ToolRegistry, type DynamicTool } from './tools.js';
import { ApprovalTimeoutsSchema, type ApprovalAudit, type ApprovalTimeouts, type RequestHints, type Reviewer } from './types.js';
import { UserReviewer } from './user-reviewer.js';
import { authorize, whoMay } from './authorize.js';
import { answerFor } from './classify.js';
import {
  DecideInputSchema,
  type ApprovalConnection,
  type ApprovalRouterOptions,
  type ApprovalSessionContext,
  type DecideInput,
  type DecideResult,
  type PendingApproval,
} from './router-types.js';

export type { ApprovalConnection, ApprovalRouterOptions, ApprovalSessionContext, DecideInput, DecideResult, PendingApproval } from './router-types.js';

interface Entry {
  approvalId: string;
  requestId: string | number;
  method: string;
  threadId: string | undefined;
  turnId: string | undefined;
  session: string | undefined;
  actor: Actor<ApprovalMachine>;
  announced: boolean;
  decidedBy: string | undefined;
}

const FINISHED_MEMORY = 1000;
const HINT_MEMORY = 500;

const reasonText = (r: unknown): string => (r instanceof Error ? r.message : typeof r === 'string' ? r : 'withdrawn');

export class ApprovalRouter {
  readonly id: string;
  readonly handler: ServerRequestHandler;
  readonly tools = new ToolRegistry();
  private readonly log: Logger;
  private readonly user: UserReviewer;
  private readonly reviewers = new Map<string, Reviewer>();
  private readonly machine: ApprovalMachine;
  private readonly timeouts: Partial<ApprovalTimeouts>;
  private readonly live = new Map<string, Entry>();
  private readonly finished = new Map<string, ApprovalAudit['outcome']>();
  private readonly fileChanges = new Map<string, NonNullable<RequestHints['fileChanges']>>();
  private readonly auditSubject = new Subject<ApprovalAudit>();
  private readonly now: () => number;
  private readonly clock: Required<TimerClock>;
  private readonly ids: () => string;
  private disposed = false;

  constructor(private readonly opts: ApprovalRouterOptions) {
    this.id = opts.id ?? `approvals-${randomUUID().slice(0, 8)}`;
    this.log = (opts.log ?? defaultLogger()).child({ component: 'approvals', router: this.id });
    this.clock = timerClock(opts.clock ?? (opts.now ? { now: opts.now } : undefined));
    this.now = this.clock.now;
    this.ids = opts.ids ?? (() => randomUUID());
    const t = ApprovalTimeoutsSchema.safeParse(opts.timeouts);
    if (!t.success) throw new Error(`invalid approval timeouts: ${summarize(t.error)}`);
    this.timeouts = t.data ?? {};

    this.user = new UserReviewer({ emit: (e) => this.onUserPrompt(e), now: this.now });
    this.reviewers.set('user', this.user);
    const rules = opts.policy ?? opts.guardian;
    this.reviewers.set('policy', rules instanceof PolicyReviewer ? rules : new PolicyReviewer(rules ?? {}));
    for (const r of opts.reviewers ?? []) {
      if (r.name === 'user') throw new Error('the reviewer name "user" is reserved for the room reviewer');
      this.reviewers.set(r.name, r);
    }
    // The machine reaches this router's reviewers, tools and clock through closures only.
    this.machine = provideApprovalMachine(opts.machine ?? approvalMachine, {
      review: reviewActor((name) => this.reviewers.get(name)),
      runTool: toolActor(this.tools),
      now: this.now,
    });
    this.handler = (req) => this.handle(req);
  }

  /** Every outcome, as it happens. */
  get audit$(): Observable<ApprovalAudit> {
    return this.auditSubject.asObservable();
  }

  /** Install as the connection's handler and watch its notifications. Returns the undo. */
  attach(conn: ApprovalConnection): () => void {
    conn.setServerRequestHandler(this.handler);
    const off = conn.subscribe('*', (n) => this.observe(n));
    return () => {
      off();
      conn.setServerRequestHandler(undefined);
    };
  }

  registerTool(tool: DynamicTool): () => void {
    return this.tools.register(tool);
  }

  /**
   * Facts the requests lack: file change paths and diffs (from `item/started`), and turn
   * ends (anything still pending for a finished turn is withdrawn).
   */
  observe(n: InboundNotification): void {
    if (n.method === 'item/started' || n.method === 'item/completed') {
      const item = n.params.item as { type?: string; id?: string; changes?: unknown } | undefined;
      if (item?.type === 'fileChange' && typeof item.id === 'string' && Array.isArray(item.changes)) {
        const changes = item.changes
          .filter((c): c is { path: string; kind?: unknown; diff?: unknown } => typeof (c as { path?: unknown })?.path === 'string')
          .map((c) => ({
            path: c.path,
            kind: typeof c.kind === 'string' ? c.kind : String((c.kind as { type?: unknown } | undefined)?.type ?? 'update'),
            diff: typeof c.diff === 'string' ? c.diff : undefined,
          }));
        this.fileChanges.delete(item.id);
        this.fileChanges.set(item.id, changes);
        if (this.fileChanges.size > HINT_MEMORY) this.fileChanges.delete(this.fileChanges.keys().next().value!);
      }
    } else if (n.method === 'turn/completed' && n.threadId) {
      const turnId = (n.params.turn as { id?: unknown } | undefined)?.id;
      if (typeof turnId === 'string') this.withdrawTurn(n.threadId, turnId, 'the turn ended');
    }
  }

  private handle(req: ServerRequest): Promise<ServerRequestAnswer | undefined> {
    if (this.disposed) return Promise.resolve(undefined); // the engine answers fail-closed
    // The host's clock (injected: the simulator's virtual time), in whole Unix seconds.
    if (req.method === 'currentTime/read') return Promise.resolve({ result: { currentTimeAt: Math.floor(this.now() / 1000) } });
    const approvalId = `apr_${this.ids().replaceAll('-', '').slice(0, 16)}`;
    const threadId = req.threadId;
    const sctx = threadId ? this.safeContext(threadId) : undefined;
    const itemId = typeof req.params.itemId === 'string' ? req.params.itemId : undefined;
    const changes = itemId ? this.fileChanges.get(itemId) : undefined;
    const escalateTo = this.opts.escalateTo === null ? undefined : reviewerName(this.opts.escalateTo ?? 'user');
    const actor = createActor(this.machine, {
      id: `approval:${approvalId}`,
      clock: this.clock,
      ...(this.opts.inspect ? { inspect: this.opts.inspect } : {}),
      input: {
        approvalId,
        startedAt: this.now(),
        request: { id: req.id, method: req.method, params: req.params, threadId },
        reviewer: reviewerName(sctx?.reviewer ?? this.opts.reviewer ?? 'user'),
        escalateTo,
        session: sctx?.session,
        timeouts: this.timeouts,
        hints: changes ? { fileChanges: changes } : {},
      },
    });
    const entry: Entry = {
      approvalId,
      requestId: req.id,
      method: req.method,
      threadId,
      turnId: typeof req.params.turnId === 'string' ? req.params.turnId : undefined,
      session: sctx?.session,
      actor,
      announced: false,
      decidedBy: undefined,
    };
    this.live.set(approvalId, entry);
    this.log.debug({ approvalId, requestId: req.id, method: req.method, threadId }, 'approval started');

    const onAbort = (): void => {
      actor.send({ type: 'WITHDRAW', reason: reasonText(req.signal.reason) });
    };
    let finished = false;
    const finish = (audit: ApprovalAudit | undefined, err?: unknown): void => {
      if (finished) return;
      finished = true;
      req.signal.removeEventListener('abort', onAbort);
      this.finish(entry, audit, err);
    };
    // The audit is announced as the machine settles, before its output resolves the answer.
    actor.on('approval.audit', ({ audit }) => finish(audit));
    actor.on('approval.requested', (e) => this.log.debug({ approvalId, reviewer: e.reviewer, kind: e.kind, escalatedFrom: e.escalatedFrom?.reviewer }, 'approval asks a reviewer'));
    const answer = toPromise(actor).then(
      (output) => output.answer,
      (err: unknown) => {
        finish(undefined, err);
        return undefined; // the engine answers fail-closed
      },
    );
    req.signal.addEventListener('abort', onAbort, { once: true });
    actor.start();
    if (!finished && req.signal.aborted) onAbort();
    return answer.finally(() => actor.stop());
  }

  private finish(entry: Entry, done: ApprovalAudit | undefined, err: unknown): void {
    this.live.delete(entry.approvalId);
    const audit: ApprovalAudit =
      done ??
      ({
        approvalId: entry.approvalId,
        requestId: entry.requestId,
        method: entry.method,
        kind: undefined,
        threadId: entry.threadId,
        turnId: entry.turnId,
        title: entry.method,
        reviewers: [],
        decision: undefined,
        outcome: 'denied',
        by: 'switchboard',
        reason: `approval actor failed: ${reasonText(err)}`,
        failClosed: true,
        startedAt: this.now(),
        finishedAt: this.now(),
        latencyMs: 0,
      } satisfies ApprovalAudit);
    this.finished.set(entry.approvalId, audit.outcome);
    if (this.finished.size > FINISHED_MEMORY) this.finished.delete(this.finished.keys().next().value!);

    const level = err ? 'error' : audit.failClosed ? 'warn' : 'info';
    this.log[level](
      {
        approvalId: audit.approvalId,
        requestId: audit.requestId,
        method: audit.method,
        kind: audit.kind,
        threadId: audit.threadId,
        turnId: audit.turnId,
        reviewers: audit.reviewers,
        decision: audit.decision,
        outcome: audit.outcome,
        by: audit.by,
        reason: audit.reason,
        failClosed: audit.failClosed,
        latencyMs: audit.latencyMs,
      },
      `approval ${audit.outcome}`,
    );
    try {
      this.opts.onAudit?.(audit);
    } catch (e) {
      this.log.error({ err: e }, 'audit callback threw');
    }
    this.auditSubject.next(audit);

    const at = this.now();
    if (entry.announced && entry.session) {
      // The room prompt is resolved or retracted, whatever the outcome.
      this.emit({
        type: 'approval.resolved',
        session: entry.session,
        at,
        approvalId: entry.approvalId,
        outcome: audit.outcome,
        decision: audit.decision,
        by: audit.by,
        reason: audit.reason,
      });
    } else if (entry.session && audit.reviewers.includes('policy') && audit.outcome !== 'withdrawn') {
      this.emit({
        type: 'notice',
        session: entry.session,
        at,
        level: audit.outcome === 'approved' ? 'info' : 'warning',
        text: `${audit.outcome === 'approved' ? 'Allowed' : 'Denied'}: ${audit.title} (${audit.reason})`,
      });
    }
  }

  /**
   * A participant's decision for a prompt the user reviewer posted. Only the session's
   * owner and approvers may decide, once, while the prompt is open.
   */
  decide(input: DecideInput): DecideResult {
    const reject = (reason: string, fields: Record<string, unknown> = {}): DecideResult => {
      this.log.warn({ ...fields, reason }, 'decision rejected');
      return { ok: false, reason };
    };
    const parsed = DecideInputSchema.safeParse(input);
    if (!parsed.success) return reject(`invalid decision: ${summarize(parsed.error)}`);
    const { approvalId, by, role, room, decision, content, reason } = parsed.data;
    const fields = { approvalId, by, role, decision };
    const entry = this.live.get(approvalId);
    if (!entry) {
      const past = this.finished.get(approvalId);
      if (past === 'withdrawn') return reject(`approval ${approvalId} was withdrawn`, fields);
      if (past) return reject(`approval ${approvalId} is already finished (${past})`, fields);
      return reject(`unknown approval ${approvalId}`, fields);
    }
    const ctx = entry.threadId ? this.safeContext(entry.threadId) : undefined;
    if (!ctx) return reject(`approval ${approvalId} belongs to no known conversation: nobody may decide it`, fields);
    if (room !== undefined && ctx.session.split('/')[0] !== room) return reject(`approval ${approvalId} is not in room ${room}`, fields);
    const allowed = authorize({ by, role }, ctx);
    if (!allowed.ok) {
      this.emit({ type: 'notice', session: ctx.session, at: this.now(), level: 'warning', text: `${by} may not decide this approval.` });
      return reject(`${by} may not decide approval ${approvalId}: only ${whoMay(ctx)} can (${allowed.reason})`, fields);
    }
    if (entry.decidedBy !== undefined) return reject(`approval ${approvalId} was already decided by ${entry.decidedBy}`, fields);
    if (!this.user.isWaiting(approvalId)) return reject(`approval ${approvalId} is not waiting for a person`, fields);
    // A decision Codex did not offer, or content that does not fit, is refused here and the
    // prompt stays open: the person is told why and can still decide (or it times out).
    const request = entry.actor.getSnapshot().context.request;
    if (!request) return reject(`approval ${approvalId} is not waiting for a person`, fields);
    const check = answerFor(request, { choice: decision, ...(content !== undefined ? { content } : {}) });
    if (check.failClosed) return reject(`${check.reason}; approval ${approvalId} is still open`, fields);
    entry.decidedBy = by;
    this.user.submit(approvalId, { choice: decision, ...(content !== undefined ? { content } : {}), ...(reason ? { reason } : {}), by });
    this.log.info(fields, 'decision accepted');
    return { ok: true };
  }

  /** The turn ended (stopped, interrupted, completed): withdraw its pending approvals. */
  withdrawTurn(threadId: string, turnId: string, reason: string): number {
    let n = 0;
    for (const e of [...this.live.values()]) {
      // Requests without a turn id (some elicitations) belong to whatever turn was running.
      if (e.threadId !== threadId || (e.turnId !== undefined && e.turnId !== turnId)) continue;
      e.actor.send({ type: 'WITHDRAW', reason });
      n++;
    }
    if (n) this.log.info({ threadId, turnId, reason, withdrawn: n }, 'turn approvals withdrawn');
    return n;
  }

  pending(): PendingApproval[] {
    return [...this.live.values()].map((e) => {
      const snap = e.actor.getSnapshot();
      const ctx = snap.context;
      const value = snap.value;
      const state = typeof value === 'string' ? value : Object.values(value)[0] ?? 'pending';
      return {
        approvalId: e.approvalId,
        requestId: e.requestId,
        method: e.method,
        kind: ctx.kind,
        threadId: e.threadId,
        turnId: e.turnId,
        title: ctx.title,
        choices: ctx.request?.choices ?? [],
        reviewer: ctx.reviewer,
        state: String(state),
        awaitingUser: this.user.isWaiting(e.approvalId),
        startedAt: ctx.startedAt,
        expiresAt: ctx.expiresAt,
      };
    });
  }

  /** Withdraw everything and release the runtime; later requests are answered fail-closed. */
  dispose(reason = 'approval router disposed'): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const e of [...this.live.values()]) e.actor.send({ type: 'WITHDRAW', reason });
    this.auditSubject.complete();
  }

  private onUserPrompt(e: RoomEvent): void {
    if (e.type === 'approval.requested') {
      const entry = this.live.get(e.approvalId);
      if (entry) entry.announced = true;
      // The same authority `decide` checks against, so a page can say who may decide.
      const ctx = entry?.threadId ? this.safeContext(entry.threadId) : undefined;
      e = { ...e, deciders: { ...(ctx?.owner ? { owner: ctx.owner } : {}), approvers: [...(ctx?.approvers ?? [])] } };
    }
    this.emit(e);
  }

  private emit(e: RoomEvent): void {
    try {
      this.opts.sink(e);
    } catch (err) {
      this.log.error({ err, type: e.type }, 'room sink threw');
    }
  }

  private safeContext(threadId: string): ApprovalSessionContext | undefined {
    try {
      return this.opts.resolveContext(threadId);
    } catch (err) {
      this.log.error({ err, threadId }, 'resolveContext threw; treating the thread as unknown');
      return undefined;
    }
  }
}
