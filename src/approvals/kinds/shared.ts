// What every request kind module provides, and the small helpers they share. A kind module
// is pure: params in, a room prompt (ApprovalRequest) out; a decision in, a wire answer out.
import type { z } from 'zod';
import { failClosedAnswer, type ServerRequestAnswer } from '../../protocol/server-requests.js';
import { summarize } from '../../protocol/wire.js';
import type { ApprovalKind, ApprovalOutcome, ApprovalRequest, Decision, RequestHints, ServerRequestData } from '../types.js';

/** What the approval machine does with a request. */
export type Classification =
  | { type: 'review'; request: ApprovalRequest }
  | { type: 'tool'; request: ApprovalRequest }
  | { type: 'immediate'; kind: ApprovalKind | undefined; title: string; answer: ServerRequestAnswer; reason: string };

export interface AnswerVerdict {
  answer: ServerRequestAnswer;
  outcome: Exclude<ApprovalOutcome, 'withdrawn'>;
  /** True when the answer is the denial because the decision could not be honoured. */
  failClosed: boolean;
  reason: string;
}

/** The wire `result` for an offered choice, or `{ deny }` when its content does not fit. */
export type KindAnswer = { result: unknown } | { deny: string };

/** One approval kind: how a decision becomes Codex's answer. */
export interface KindModule {
  kind: ApprovalKind;
  toAnswer(request: ApprovalRequest, decision: Decision): KindAnswer;
  /** Default: accepting choices approve, the rest deny. */
  outcome?(choice: string): AnswerVerdict['outcome'];
}

export interface ClassifyInput {
  approvalId: string;
  req: ServerRequestData;
  hints: RequestHints;
}

/** One server-request method: its protocol schema and how its params become a prompt. */
export interface MethodModule<S extends z.ZodType = z.ZodType> {
  method: string;
  schema: S;
  /** The kind a malformed request is audited as. */
  kind: ApprovalKind;
  toRequest(input: ClassifyInput, params: z.infer<S>): Classification;
}

export const BASIC_CHOICES = ['accept', 'acceptForSession', 'decline', 'cancel'];
export const APPROVING: ReadonlySet<string> = new Set(['accept', 'acceptForSession', 'acceptAlways', 'acceptWithExecpolicyAmendment']);

export const nz = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);
export const truncate = (s: string, n = 200): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export { displayCommand } from '../../util/display-command.js';

type RequestFields = Omit<ApprovalRequest, 'approvalId' | 'requestId' | 'method' | 'kind' | 'params' | 'offered'> & {
  params: object;
  offered?: Record<string, unknown>;
};

/** The classified request (plain data) of a reviewable kind. */
export function review({ approvalId, req }: ClassifyInput, kind: ApprovalKind, fields: RequestFields, type: 'review' | 'tool' = 'review'): Classification {
  const request: ApprovalRequest = {
    approvalId,
    requestId: req.id,
    method: req.method,
    kind,
    ...fields,
    offered: fields.offered ?? {},
    params: fields.params as Record<string, unknown>,
  };
  return { type, request };
}

/** Answered at once, without a reviewer (unsupported, malformed, nothing to decide). */
export function immediate(req: ServerRequestData, kind: ApprovalKind | undefined, reason: string, answer = failClosedAnswer(req.method, reason)): Classification {
  return { type: 'immediate', kind, title: req.method, answer, reason };
}

export function invalid(req: ServerRequestData, kind: ApprovalKind, error: z.ZodError): Classification {
  return immediate(req, kind, `request could not be understood: ${summarize(error)}`, failClosedAnswer(req.method, 'request could not be understood'));
}
