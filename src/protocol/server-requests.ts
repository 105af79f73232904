// Requests the app-server sends to us. Each must be answered: these schemas classify
// them, and `failClosedAnswer` gives the exact denial shape Codex expects for each.
import { z } from 'zod';
import { ErrorCodes, type WireError } from './wire.js';

const str = z.string();
const nstr = z.string().nullable().optional();

// One schema per request, shared by the engine (which refuses what does not parse) and the
// approval kinds (which read the parsed params). Loose objects: newer fields pass through.
const NetworkAmendmentSchema = z.looseObject({ host: z.string().min(1), action: z.enum(['allow', 'deny']) });

export const CommandApprovalParamsSchema = z.looseObject({
  threadId: str,
  turnId: str,
  itemId: str,
  kind: nstr,
  approvalId: nstr,
  command: nstr,
  cwd: nstr,
  reason: nstr,
  networkApprovalContext: z.looseObject({ host: z.string(), protocol: z.string().optional() }).nullable().optional(),
  commandActions: z.array(z.unknown()).nullable().optional(),
  proposedExecpolicyAmendment: z.array(z.string()).nullable().optional(),
  proposedNetworkPolicyAmendments: z.array(NetworkAmendmentSchema).nullable().optional(),
  availableDecisions: z.array(z.unknown()).nullable().optional(),
});
export const FileChangeApprovalParamsSchema = z.looseObject({
  threadId: str,
  turnId: str,
  itemId: str,
  reason: nstr,
  grantRoot: nstr,
});
const FileSystemPermissionsSchema = z.looseObject({
  read: z.array(z.string()).nullable().optional(),
  write: z.array(z.string()).nullable().optional(),
  globScanMaxDepth: z.number().nullable().optional(),
  entries: z.array(z.looseObject({ path: z.unknown(), access: z.string() })).nullable().optional(),
});
export const PermissionsApprovalParamsSchema = z.looseObject({
  threadId: str,
  turnId: str,
  itemId: str,
  cwd: nstr,
  reason: nstr,
  permissions: z.looseObject({
    network: z.looseObject({ enabled: z.boolean().nullable().optional() }).nullable().optional(),
    fileSystem: FileSystemPermissionsSchema.nullable().optional(),
  }),
});
export const ElicitationParamsSchema = z.looseObject({
  threadId: str,
  turnId: z.string().nullable().optional(),
  serverName: str,
  mode: str,
  message: z.string().optional(),
  requestedSchema: z.unknown().optional(),
  url: z.string().optional(),
  elicitationId: z.string().optional(),
  _meta: z.unknown().nullable().optional(),
});
const UserInputQuestionSchema = z.looseObject({
  id: z.string().min(1),
  header: z.string().optional(),
  question: str,
  isOther: z.boolean().optional(),
  isSecret: z.boolean().optional(),
  options: z.array(z.looseObject({ label: str, description: z.string().optional() })).nullable().optional(),
});
export const UserInputParamsSchema = z.looseObject({
  threadId: str,
  turnId: str,
  itemId: str,
  questions: z.array(UserInputQuestionSchema),
  /** False: Codex goes on without the answer (it must not hold up the turn); older servers omit it. */
  isBlocking: z.boolean().optional(),
});
export const DynamicToolCallParamsSchema = z.looseObject({
  threadId: str,
  turnId: str,
  callId: str,
  namespace: nstr,
  tool: z.string().min(1),
  arguments: z.unknown(),
});
export const LegacyApplyPatchParamsSchema = z.looseObject({
  conversationId: str,
  callId: str,
  fileChanges: z.record(z.string(), z.unknown()),
  reason: nstr,
  grantRoot: nstr,
});
export const LegacyExecCommandParamsSchema = z.looseObject({
  conversationId: str,
  callId: str,
  approvalId: nstr,
  command: z.array(z.string()),
  cwd: str,
  reason: nstr,
  parsedCmd: z.array(z.unknown()).optional(),
});

export type CommandApprovalParams = z.infer<typeof CommandApprovalParamsSchema>;
export type FileChangeApprovalParams = z.infer<typeof FileChangeApprovalParamsSchema>;
export type PermissionsApprovalParams = z.infer<typeof PermissionsApprovalParamsSchema>;
export type FileSystemPermissions = z.infer<typeof FileSystemPermissionsSchema>;
export type ElicitationParams = z.infer<typeof ElicitationParamsSchema>;
export type UserInputParams = z.infer<typeof UserInputParamsSchema>;
export type DynamicToolCallParams = z.infer<typeof DynamicToolCallParamsSchema>;
export type LegacyApplyPatchParams = z.infer<typeof LegacyApplyPatchParamsSchema>;
export type LegacyExecCommandParams = z.infer<typeof LegacyExecCommandParamsSchema>;

export const serverRequestSchemas = {
  'item/commandExecution/requestApproval': CommandApprovalParamsSchema,
  'item/fileChange/requestApproval': FileChangeApprovalParamsSchema,
  'item/permissions/requestApproval': PermissionsApprovalParamsSchema,
  'mcpServer/elicitation/request': ElicitationParamsSchema,
  'item/tool/requestUserInput': UserInputParamsSchema,
  'item/tool/call': DynamicToolCallParamsSchema,
  applyPatchApproval: LegacyApplyPatchParamsSchema,
  execCommandApproval: LegacyExecCommandParamsSchema,
  'account/chatgptAuthTokens/refresh': z.looseObject({}),
  'attestation/generate': z.looseObject({}).or(z.undefined()),
  /** Experimental: Codex reads the time from the client's clock (answered at once, never a person's call). */
  'currentTime/read': z.looseObject({ threadId: str }),
} as const;

export type ServerRequestMethod = keyof typeof serverRequestSchemas;
export const isServerRequestMethod = (m: string): m is ServerRequestMethod =>
  Object.hasOwn(serverRequestSchemas, m);

export type ServerRequestAnswer = { result: unknown } | { error: WireError };

/** Server requests we deliberately do not support: answered with a JSON-RPC error. */
export const UNSUPPORTED_METHODS: ReadonlySet<string> = new Set(['account/chatgptAuthTokens/refresh', 'attestation/generate']);

/**
 * The denial for a request nobody approved. Shapes follow the generated protocol types:
 * approvals decline, permissions grant nothing, questions get no answers, tools fail.
 */
export function failClosedAnswer(method: string, reason = 'denied by Switchboard (fail-closed)'): ServerRequestAnswer {
  switch (method) {
    case 'item/commandExecution/requestApproval':
    case 'item/fileChange/requestApproval':
      return { result: { decision: 'decline' } };
    case 'item/permissions/requestApproval':
      return { result: { permissions: {}, scope: 'turn' } };
    case 'mcpServer/elicitation/request':
      return { result: { action: 'decline', content: null, _meta: null } };
    case 'item/tool/requestUserInput':
      return { result: { answers: {} } };
    case 'item/tool/call':
      return { result: { contentItems: [{ type: 'inputText', text: reason }], success: false } };
    case 'applyPatchApproval':
    case 'execCommandApproval':
      return { result: { decision: { denied: { rejection: reason } } } };
    case 'currentTime/read':
      // Nothing to deny: the router answers it with the clock; this only if nobody could.
      return { error: { code: ErrorCodes.internal, message: 'the time could not be read' } };
    default:
      if (UNSUPPORTED_METHODS.has(method)) {
        return { error: { code: ErrorCodes.unsupported, message: `${method} is not supported by this client` } };
      }
      return { error: { code: ErrorCodes.methodNotFound, message: `method not found: ${method}` } };
  }
}

// Answer shapes, checked before anything is sent: a malformed decision is never sent.
const ApprovalDecisionSchema = z.union([
  z.enum(['accept', 'acceptForSession', 'decline', 'cancel']),
  z.strictObject({ acceptWithExecpolicyAmendment: z.strictObject({ execpolicy_amendment: z.array(z.string()) }) }),
  z.strictObject({
    applyNetworkPolicyAmendment: z.strictObject({
      network_policy_amendment: z.strictObject({ host: z.string(), action: z.enum(['allow', 'deny']) }),
    }),
  }),
]);
const LegacyDecisionSchema = z.union([
  z.enum(['approved', 'approved_for_session', 'timed_out', 'abort']),
  z.strictObject({ denied: z.strictObject({ rejection: z.string() }) }),
  z.strictObject({ approved_execpolicy_amendment: z.strictObject({ proposed_execpolicy_amendment: z.array(z.string()) }) }),
]);

export const serverAnswerSchemas: Record<string, z.ZodType> = {
  'item/commandExecution/requestApproval': z.strictObject({ decision: ApprovalDecisionSchema }),
  'item/fileChange/requestApproval': z.strictObject({
    decision: z.enum(['accept', 'acceptForSession', 'decline', 'cancel']),
  }),
  'item/permissions/requestApproval': z.strictObject({
    permissions: z.strictObject({ network: z.unknown().optional(), fileSystem: z.unknown().optional() }),
    scope: z.enum(['turn', 'session']),
    strictAutoReview: z.boolean().optional(),
  }),
  'mcpServer/elicitation/request': z.strictObject({
    action: z.enum(['accept', 'decline', 'cancel']),
    content: z.unknown().nullable(),
    _meta: z.unknown().nullable(),
  }),
  'item/tool/requestUserInput': z.strictObject({
    answers: z.record(z.string(), z.strictObject({ answers: z.array(z.string()) })),
  }),
  'item/tool/call': z.strictObject({
    contentItems: z.array(
      z.union([
        z.strictObject({ type: z.literal('inputText'), text: z.string() }),
        z.strictObject({ type: z.literal('inputImage'), imageUrl: z.string() }),
        z.strictObject({ type: z.literal('inputAudio'), audioUrl: z.string() }),
      ]),
    ),
    success: z.boolean(),
  }),
  applyPatchApproval: z.strictObject({ decision: LegacyDecisionSchema }),
  execCommandApproval: z.strictObject({ decision: LegacyDecisionSchema }),
  'currentTime/read': z.strictObject({ currentTimeAt: z.number().int().nonnegative() }),
};

/** A problem description when `answer` is not a valid answer to `method`, else undefined. */
export function validateServerAnswer(method: string, answer: ServerRequestAnswer): string | undefined {
  if ('error' in answer) {
    return typeof answer.error?.code === 'number' && typeof answer.error.message === 'string'
      ? undefined
      : 'error answer needs a numeric code and a message';
  }
  const schema = serverAnswerSchemas[method];
  if (!schema) return `no result answer is defined for ${method}`;
  const r = schema.safeParse(answer.result);
  return r.success ? undefined : (r.error.issues[0]?.message ?? 'invalid answer');
}
