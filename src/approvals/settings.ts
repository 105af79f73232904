// Approval modes → the thread settings Codex needs plus Switchboard's reviewer. Fields
// given explicitly override the mode.
import { z } from 'zod';
import { ApprovalsReviewerSchema, AskForApprovalSchema, SandboxModeSchema, type ApprovalsReviewer, type AskForApproval, type SandboxMode } from '../protocol/common.js';
import { summarize } from '../protocol/wire.js';

const ApprovalModeSchema = z.enum(['yolo', 'guardian', 'user']);
export type ApprovalMode = z.infer<typeof ApprovalModeSchema>;

export interface ApprovalSettings {
  approvalPolicy: AskForApproval;
  sandbox: SandboxMode;
  /** Codex-native reviewer (`user` = Codex asks us; `guardian_subagent` / `auto_review` = Codex reviews itself). */
  approvalsReviewer: ApprovalsReviewer;
  /** Who answers the requests that reach Switchboard. */
  reviewer: 'user' | 'guardian';
}

const OverridesSchema = z.strictObject({
  approvalPolicy: AskForApprovalSchema.optional(),
  sandbox: SandboxModeSchema.optional(),
  approvalsReviewer: ApprovalsReviewerSchema.optional(),
  reviewer: z.enum(['user', 'guardian']).optional(),
});

const MODES: Record<ApprovalMode, ApprovalSettings> = {
  // Nothing is asked: Codex runs unsandboxed. Requests that still arrive (MCP forms,
  // questions) go to the user.
  yolo: { approvalPolicy: 'never', sandbox: 'danger-full-access', approvalsReviewer: 'user', reviewer: 'user' },
  guardian: { approvalPolicy: 'on-request', sandbox: 'workspace-write', approvalsReviewer: 'user', reviewer: 'guardian' },
  user: { approvalPolicy: 'on-request', sandbox: 'workspace-write', approvalsReviewer: 'user', reviewer: 'user' },
};

export function resolveApprovalSettings(mode: ApprovalMode, overrides: Partial<ApprovalSettings> = {}): ApprovalSettings {
  const m = ApprovalModeSchema.safeParse(mode);
  if (!m.success) throw new Error(`unknown approval mode ${JSON.stringify(mode)}: use ${ApprovalModeSchema.options.join(', ')}`);
  const o = OverridesSchema.safeParse(overrides ?? {});
  if (!o.success) throw new Error(`invalid approval settings: ${summarize(o.error)}`);
  const defined = Object.fromEntries(Object.entries(o.data).filter(([, v]) => v !== undefined)) as Partial<ApprovalSettings>;
  return { ...MODES[m.data], ...defined };
}
