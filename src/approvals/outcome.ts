// Plain-data helpers of the approval machine, kept beside it so its file holds the chart:
// the result an approval settles on, what the machine announces, and the audit it outputs.
import type { ApprovalContext } from '../../machines/approval.machine.js';
import type { ServerRequestAnswer } from '../protocol/server-requests.js';
import { denialVerdict, type AnswerVerdict } from './classify.js';
import type { ApprovalAudit, ApprovalKind, ApprovalOutcome, ApprovalOutput } from './types.js';

export interface Result {
  answer: ServerRequestAnswer | undefined;
  outcome: ApprovalOutcome;
  decision: string | undefined;
  by: string;
  reason: string;
  failClosed: boolean;
}

/** What the machine announces; the router listens with `actor.on(...)`. */
export type ApprovalEmitted =
  | {
      /** A reviewer is being asked (again after an escalation). */
      type: 'approval.requested';
      approvalId: string;
      reviewer: string;
      kind: ApprovalKind;
      title: string;
      choices: string[];
      expiresAt: number | undefined;
      escalatedFrom: { reviewer: string; reason: string } | undefined;
    }
  | {
      /** The request is settled: answered (`done`) or withdrawn. Carries no answer content. */
      type: 'approval.resolved';
      approvalId: string;
      outcome: ApprovalOutcome;
      decision: string | undefined;
      by: string;
      failClosed: boolean;
    }
  | { type: 'approval.audit'; audit: ApprovalAudit };

export const fromVerdict = (v: AnswerVerdict, decision: string | undefined, by: string): Result => ({
  answer: v.answer,
  outcome: v.outcome,
  decision,
  by,
  reason: v.reason,
  failClosed: v.failClosed,
});

export const errorText = (err: unknown): string => (err instanceof Error ? err.message : typeof err === 'string' ? err : 'unknown error');

// Unreachable by construction without a result; if it ever happens, the answer is the denial.
export const resultOf = (context: ApprovalContext): Result =>
  context.result ?? fromVerdict(denialVerdict(context.raw.method, 'no result recorded'), undefined, 'switchboard');

export function auditOutput(context: ApprovalContext): ApprovalOutput {
  const { finishedAt } = context;
  const r = resultOf(context);
  const audit: ApprovalAudit = {
    approvalId: context.approvalId,
    requestId: context.raw.id,
    method: context.raw.method,
    kind: context.kind,
    threadId: context.request?.threadId ?? context.raw.threadId,
    turnId: context.request?.turnId,
    title: context.title,
    reviewers: context.route === 'review' ? context.reviewers : context.route === 'tool' ? ['tool'] : [],
    decision: r.decision,
    outcome: r.outcome,
    by: r.by,
    reason: r.reason,
    failClosed: r.failClosed,
    startedAt: context.startedAt,
    finishedAt,
    latencyMs: finishedAt - context.startedAt,
  };
  return { answer: r.answer, audit };
}
