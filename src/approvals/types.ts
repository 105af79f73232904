// Shared vocabulary of the approval layer: the classified request a reviewer sees, the
// decisions it may return, and the audit record every outcome leaves behind.
import { z } from 'zod';
import type { ApprovalKind } from '../events/room-events.js';
import type { RequestId } from '../protocol/wire.js';
import type { ServerRequestAnswer } from '../protocol/server-requests.js';

export type { ApprovalKind };

const APPROVAL_KINDS = [
  'command',
  'fileChange',
  'permissions',
  'mcpToolApproval',
  'mcpForm',
  'mcpUrl',
  'userInput',
  'dynamicTool',
  'legacyCommand',
  'legacyPatch',
] as const satisfies readonly ApprovalKind[];
export const ApprovalKindSchema = z.enum(APPROVAL_KINDS);

/** What a review policy's rules can match on; absent fields simply do not match. */
export interface ReviewSubject {
  /** The command as Codex sent it (v2: one shell string; legacy: argv joined). */
  command?: string;
  /** Argv when Codex gave one (legacy requests). */
  argv?: string[];
  cwd?: string;
  /** Absolute paths a file change or permission request touches. */
  paths?: string[];
  /** Network hosts the request would reach. */
  hosts?: string[];
  /** True when a permission request asks for network access. */
  network?: boolean;
  mcpServer?: string;
  mcpTool?: string;
}

/**
 * A server request after classification: plain data, safe for machine context and for a
 * room. `choices` are the exact decisions a reviewer may return; anything else is denied.
 */
export interface ApprovalRequest {
  approvalId: string;
  requestId: RequestId;
  method: string;
  kind: ApprovalKind;
  threadId: string | undefined;
  turnId: string | undefined;
  itemId: string | undefined;
  /** One line for a room: the command, the tool, the question. */
  title: string;
  /** What and why: command, cwd, reason, diff, form fields, questions. */
  detail: Record<string, unknown>;
  choices: string[];
  subject: ReviewSubject;
  /** Choice id → the exact wire decision Codex offered for it (command amendments). */
  offered: Record<string, unknown>;
  /** The validated request params (plain JSON). */
  params: Record<string, unknown>;
}

/** A reviewer's verdict: one of the request's choices, plus content for forms and questions. */
export interface Decision {
  choice: string;
  /** Form values (mcpForm), answers (userInput: question id → string | string[]), or a permission subset. */
  content?: unknown;
  reason?: string;
  /** Who decided (a participant id, `policy`, a custom reviewer's name). */
  by?: string;
}

/** The reviewer cannot decide; the next reviewer (usually the user) should. */
export interface Escalation {
  escalate: true;
  reason: string;
}

export type ReviewResult = Decision | Escalation;

const DecisionSchema = z.strictObject({
  choice: z.string().min(1, 'a decision needs a non-empty choice'),
  content: z.unknown().optional(),
  reason: z.string().optional(),
  by: z.string().optional(),
});
const EscalationSchema = z.strictObject({ escalate: z.literal(true), reason: z.string() });
export const ReviewResultSchema = z.union([EscalationSchema, DecisionSchema]);

export interface ReviewContext {
  /** Aborted when the request is withdrawn or timed out: stop waiting, retract prompts. */
  signal: AbortSignal;
  /** The room session (`room/channel/thread`) of the request's thread, when known. */
  session: string | undefined;
  /** When the request will be answered fail-closed if nobody decides. */
  expiresAt: number | undefined;
  /** Set when an earlier reviewer escalated to this one. */
  escalatedFrom: { reviewer: string; reason: string } | undefined;
}

/** Pluggable reviewer: a person in a room, a policy, an LLM, ... */
export interface Reviewer {
  readonly name: string;
  review(request: ApprovalRequest, ctx: ReviewContext): Promise<ReviewResult>;
}

export type ApprovalOutcome = 'approved' | 'denied' | 'withdrawn' | 'answered';

/** Everything needed to explain an outcome later. Never carries form or answer content. */
export interface ApprovalAudit {
  approvalId: string;
  requestId: RequestId;
  method: string;
  kind: ApprovalKind | undefined;
  threadId: string | undefined;
  turnId: string | undefined;
  title: string;
  /** Reviewers in the order they were asked, e.g. `['policy', 'user']`. */
  reviewers: string[];
  /** The choice that was answered (or `timeout`, `withdrawn`, ...); undefined when none. */
  decision: string | undefined;
  outcome: ApprovalOutcome;
  /** Who decided: a participant, `policy`, `timeout`, `switchboard` (fail-closed). */
  by: string;
  reason: string;
  /** True when the answer is the fail-closed denial rather than a reviewer's choice. */
  failClosed: boolean;
  startedAt: number;
  finishedAt: number;
  latencyMs: number;
}

export interface ApprovalOutput {
  /** Undefined only when withdrawn: nothing may be sent. */
  answer: ServerRequestAnswer | undefined;
  audit: ApprovalAudit;
}

/** The raw server request, as plain data (no signal). */
export interface ServerRequestData {
  id: RequestId;
  method: string;
  params: Record<string, unknown>;
  threadId: string | undefined;
}

/** Facts the router learnt from notifications (the request itself lacks them). */
export interface RequestHints {
  /** fileChange item of the request's itemId: paths, kinds and diffs. */
  fileChanges?: Array<{ path: string; kind: string; diff: string | undefined }>;
}

export type ApprovalTimeouts = Record<ApprovalKind, number>;

const MIN = 60_000;
/** Long enough for a person to notice and answer in a chat; short enough not to hang a turn. */
export const DEFAULT_APPROVAL_TIMEOUTS: ApprovalTimeouts = {
  command: 10 * MIN,
  fileChange: 10 * MIN,
  permissions: 10 * MIN,
  mcpToolApproval: 10 * MIN,
  mcpForm: 10 * MIN,
  mcpUrl: 10 * MIN,
  userInput: 15 * MIN,
  dynamicTool: 5 * MIN,
  legacyCommand: 10 * MIN,
  legacyPatch: 10 * MIN,
};

export const ApprovalTimeoutsSchema = z
  .partialRecord(ApprovalKindSchema, z.number().int().positive('timeouts must be positive milliseconds'))
  .optional();

export const isEscalation = (r: unknown): r is Escalation =>
  typeof r === 'object' && r !== null && (r as { escalate?: unknown }).escalate === true;
