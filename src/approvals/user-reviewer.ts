// The user reviewer: posts the approval prompt into the room and waits for a decision.
// Who may decide is the router's business (it knows the session); this class only holds
// the waiting prompts and hands a decision to exactly one of them, once.
import type { RoomEvent } from '../events/room-events.js';
import type { ApprovalRequest, Decision, ReviewContext, ReviewResult, Reviewer } from './types.js';

export interface UserReviewerOptions {
  /** Room events (the `approval.requested` prompt). */
  emit: (event: RoomEvent) => void;
  now?: () => number;
}

export class UserReviewer implements Reviewer {
  readonly name = 'user';
  private readonly waiting = new Map<string, (d: Decision) => void>();
  private readonly now: () => number;

  constructor(private readonly opts: UserReviewerOptions) {
    this.now = opts.now ?? Date.now;
  }

  review(request: ApprovalRequest, ctx: ReviewContext): Promise<ReviewResult> {
    const session = ctx.session;
    // No room means nobody can be asked; failing here turns into a denial.
    if (!session) return Promise.reject(new Error(`no room session for thread ${request.threadId ?? '(none)'}: nobody can be asked`));
    if (ctx.signal.aborted) return Promise.reject(ctx.signal.reason ?? new Error('withdrawn'));
    const id = request.approvalId;
    if (this.waiting.has(id)) return Promise.reject(new Error(`approval ${id} is already waiting for a user`));
    return new Promise<ReviewResult>((resolve, reject) => {
      const onAbort = (): void => {
        this.waiting.delete(id);
        reject(ctx.signal.reason ?? new Error('withdrawn'));
      };
      this.waiting.set(id, (d) => {
        ctx.signal.removeEventListener('abort', onAbort);
        resolve(d);
      });
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      // Registered before the prompt goes out, so a host that decides synchronously works.
      this.opts.emit({
        type: 'approval.requested',
        session,
        at: this.now(),
        approvalId: id,
        turnId: request.turnId,
        kind: request.kind,
        title: request.title,
        detail: ctx.escalatedFrom ? { ...request.detail, escalatedFrom: ctx.escalatedFrom } : request.detail,
        choices: request.choices,
        reviewer: 'user',
        expiresAt: ctx.expiresAt,
      });
    });
  }

  isWaiting(approvalId: string): boolean {
    return this.waiting.has(approvalId);
  }

  /** Deliver a decision; false when nothing is waiting (decided already, withdrawn, unknown). */
  submit(approvalId: string, decision: Decision): boolean {
    const resolve = this.waiting.get(approvalId);
    if (!resolve) return false;
    this.waiting.delete(approvalId);
    resolve(decision);
    return true;
  }
}
