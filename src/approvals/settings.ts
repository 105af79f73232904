// Approval modes → the thread settings Codex needs plus Switchboard's reviewer. Fields
// given explicitly override the mode.
import { z } from 'zod';
import { ApprovalsReviewerSchema, AskForApprovalSchema, SandboxModeSchema, type ApprovalsReviewer, type AskForApproval, type SandboxMode } from '../protocol/common.js';
import { summarize } from '../protocol/wire.js';

const ApprovalModeSchema = z.enum(['yolo', 'guardian', 'policy', 'user']);
export type ApprovalMode = z.infer<typeof ApprovalModeSchema>;

/** Switchboard's own reviewers of the requests that reach it (`guardian` = the former name of `policy`). */
export const SwitchboardReviewerSchema = z.enum(['user', 'policy', 'guardian']).transform((r) => (r === 'guardian' ? 'policy' : r));
export type SwitchboardReviewer = z.output<typeof SwitchboardReviewerSchema>;

export interface ApprovalSettings {
  approvalPolicy: AskForApproval;
  sandbox: SandboxMode;
  /** Codex-native reviewer (`user` = Codex asks us; `guardian_subagent` / `auto_review` = Codex's reviewer subagent decides). */
  approvalsReviewer: ApprovalsReviewer;
  /** Who answers the requests that reach Switchboard. */
  reviewer: SwitchboardReviewer;
}

const OverridesSchema = z.strictObject({
  approvalPolicy: AskForApprovalSchema.optional(),
  sandbox: SandboxModeSchema.optional(),
  approvalsReviewer: ApprovalsReviewerSchema.optional(),
  reviewer: SwitchboardReviewerSchema.optional(),
});

const MODES: Record<ApprovalMode, ApprovalSettings> = {
  // Nothing is asked: Codex runs unsandboxed. Requests that still arrive (MCP forms,
  // questions) go to the user.
  yolo: { approvalPolicy: 'never', sandbox: 'danger-full-access', approvalsReviewer: 'user', reviewer: 'user' },
  // Codex's own reviewer subagent decides its approvals; what still reaches Switchboard
  // (forms, questions) goes to the user.
  guardian: { approvalPolicy: 'on-request', sandbox: 'workspace-write', approvalsReviewer: 'guardian_subagent', reviewer: 'user' },
  // Codex asks Switchboard; its rule engine answers (escalating to the user by default).
  policy: { approvalPolicy: 'on-request', sandbox: 'workspace-write', approvalsReviewer: 'user', reviewer: 'policy' },
  user: { approvalPolicy: 'on-request', sandbox: 'workspace-write', approvalsReviewer: 'user', reviewer: 'user' },
};

export function resolveApprovalSettings(mode: ApprovalMode, overrides: z.input<typeof OverridesSchema> = {}): ApprovalSettings {
  const m = ApprovalModeSchema.safeParse(mode);
  if (!m.success) throw new Error(`unknown approval mode ${JSON.stringify(mode)}: use ${ApprovalModeSchema.options.join(', ')}`);
  const o = OverridesSchema.safeParse(overrides ?? {});
  if (!o.success) throw new Error(`invalid approval settings: ${summarize(o.error)}`);
  const defined = Object.fromEntries(Object.entries(o.data).filter(([, v]) => v !== undefined)) as Partial<ApprovalSettings>;
  return { ...MODES[m.data], ...defined };
}
