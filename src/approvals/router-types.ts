// Types of the approval router's public surface: options, the session context it asks for,
// decisions and the pending-approval view.
import { z } from 'zod';
import type { InspectionEvent } from 'xstate';
import type { Logger } from 'pino';
import type { ApprovalMachine } from '../../machines/approval.machine.js';
import type { RoomEventSink } from '../events/room-events.js';
import type { InboundNotification } from '../protocol/notifications.js';
import type { ServerRequestHandler } from '../connection/rpc-engine.js';
import type { ReviewPolicyInput, PolicyReviewer } from './policy.js';
import { RoleSchema, type Role } from './authorize.js';
import type { ApprovalAudit, ApprovalKind, ApprovalTimeouts, Reviewer } from './types.js';
import type { ClockOption } from '../util/clock.js';

/** What the session layer knows about a thread: its room and who may decide there. */
export interface ApprovalSessionContext {
  /** `room/channel/thread` of the conversation. */
  session: string;
  /** The session's persisted owner; undefined when nobody owns it (then only approvers decide). */
  owner: string | undefined;
  approvers: string[];
  /** This session's first reviewer (its approval mode); default: the router's. */
  reviewer?: string;
}

export interface ApprovalRouterOptions {
  id?: string;
  sink: RoomEventSink;
  resolveContext: (threadId: string) => ApprovalSessionContext | undefined;
  /** First reviewer when the session does not say (default `user`). */
  reviewer?: string;
  /** Who is asked when a reviewer escalates (default `user`; null = escalation denies). */
  escalateTo?: string | null;
  /** The policy reviewer's rules (or a ready reviewer). Without them, it escalates everything. */
  policy?: ReviewPolicyInput | PolicyReviewer;
  /** @deprecated The former name of `policy`. */
  guardian?: ReviewPolicyInput | PolicyReviewer;
  /** Extra reviewers (e.g. an LLM reviewer), selected by name. */
  reviewers?: Reviewer[];
  timeouts?: Partial<ApprovalTimeouts>;
  log?: Logger;
  onAudit?: (audit: ApprovalAudit) => void;
  /** The approval machine to run (e.g. an instrumented one); the router provides its reviewers, tools and clock to it. */
  machine?: ApprovalMachine;
  /** XState inspection (tracing); off unless given. */
  inspect?: (ev: InspectionEvent) => void;
  /** Time of decisions and audits (default `Date.now`; `clock.now` wins). */
  now?: () => number;
  /** Timers of the approval actors' `after` delays (and `now`); default: the system clock. */
  clock?: ClockOption;
  /** Approval ids (default `crypto.randomUUID`). */
  ids?: () => string;
}

export interface DecideInput {
  approvalId: string;
  /** Participant id of whoever decided. */
  by: string;
  /** Verified room role of `by` (absent: the host vouches for `by`). */
  role?: Role;
  /** The room the decision came from: an approval of another room is refused. */
  room?: string;
  /** One of the choices the prompt offered. */
  decision: string;
  /** Form values, question answers or a permission subset. */
  content?: unknown;
  reason?: string;
}

export type DecideResult = { ok: true } | { ok: false; reason: string };

export interface PendingApproval {
  approvalId: string;
  requestId: string | number;
  method: string;
  kind: ApprovalKind | undefined;
  threadId: string | undefined;
  turnId: string | undefined;
  title: string;
  choices: string[];
  reviewer: string;
  state: string;
  awaitingUser: boolean;
  startedAt: number;
  expiresAt: number | undefined;
}

/** Anything with the two Connection methods the router needs. */
export interface ApprovalConnection {
  setServerRequestHandler(handler: ServerRequestHandler | undefined): void;
  subscribe(threadId: string, listener: (n: InboundNotification) => void): () => void;
}

export const DecideInputSchema = z.strictObject({
  approvalId: z.string().min(1, 'approvalId is required'),
  by: z.string().min(1, 'by (who decides) is required').max(200),
  role: RoleSchema.optional(),
  room: z.string().min(1).max(200).optional(),
  decision: z.string().min(1, 'decision is required'),
  content: z.unknown().optional(),
  reason: z.string().max(2000, 'reason is too long').optional(),
});
