// Shared value schemas of the app-server protocol (v2). Objects are loose: fields a newer
// Codex adds pass through untouched.
import { z } from 'zod';

export const AskForApprovalSchema = z.union([
  z.enum(['untrusted', 'on-request', 'never']),
  z.looseObject({
    granular: z.looseObject({
      sandbox_approval: z.boolean(),
      rules: z.boolean(),
      skill_approval: z.boolean(),
      request_permissions: z.boolean(),
      mcp_elicitations: z.boolean(),
    }),
  }),
]);
export type AskForApproval = z.infer<typeof AskForApprovalSchema>;

export const SandboxModeSchema = z.enum(['read-only', 'workspace-write', 'danger-full-access']);
export type SandboxMode = z.infer<typeof SandboxModeSchema>;

export const ApprovalsReviewerSchema = z.enum(['user', 'auto_review', 'guardian_subagent']);
export type ApprovalsReviewer = z.infer<typeof ApprovalsReviewerSchema>;


export const UserInputSchema = z.union([
  z.looseObject({ type: z.literal('text'), text: z.string(), text_elements: z.array(z.unknown()) }),
  z.looseObject({ type: z.literal('image'), url: z.string() }),
  z.looseObject({ type: z.literal('localImage'), path: z.string() }),
  z.looseObject({ type: z.literal('mention'), name: z.string(), path: z.string() }),
  z.looseObject({ type: z.literal('skill'), name: z.string(), path: z.string() }),
]);
export type UserInput = z.infer<typeof UserInputSchema>;

const TurnStatusSchema = z.enum(['completed', 'interrupted', 'failed', 'inProgress']);
export type TurnStatus = z.infer<typeof TurnStatusSchema>;

export const TurnErrorSchema = z.looseObject({
  message: z.string(),
  codexErrorInfo: z.unknown().optional(),
  additionalDetails: z.string().nullable().optional(),
});

export const TurnSchema = z.looseObject({
  id: z.string(),
  status: TurnStatusSchema.or(z.string()),
  items: z.array(z.unknown()).optional(),
  error: TurnErrorSchema.nullable().optional(),
});
export type Turn = z.infer<typeof TurnSchema>;

export const ThreadSchema = z.looseObject({ id: z.string() });

/** Items are a large, growing union; we type the common discriminant and pass the rest. */
export const ThreadItemSchema = z.looseObject({ type: z.string(), id: z.string() });
export type ThreadItem = z.infer<typeof ThreadItemSchema>;
