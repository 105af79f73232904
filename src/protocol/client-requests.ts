// Requests Switchboard sends to the app-server: params are validated before they leave
// (our bug, caught early), results leniently on the way back.
import { z } from 'zod';
import {
  ApprovalsReviewerSchema,
  AskForApprovalSchema,
  SandboxModeSchema,
  ThreadSchema,
  TurnSchema,
  UserInputSchema,
} from './common.js';

const opt = <T extends z.ZodType>(s: T) => s.nullable().optional();
const AnyObject = z.looseObject({});

const InitializeParamsSchema = z.looseObject({
  clientInfo: z.looseObject({ name: z.string().min(1), title: z.string().nullable(), version: z.string() }),
  capabilities: z
    .looseObject({ experimentalApi: z.boolean(), requestAttestation: z.boolean(), requiredHumanApproval: z.boolean().optional() })
    .nullable(),
});
export const InitializeResultSchema = z.looseObject({
  userAgent: z.string(),
  codexHome: z.string().optional(),
  platformFamily: z.string().optional(),
  platformOs: z.string().optional(),
});

const threadSettings = {
  model: opt(z.string()),
  modelProvider: opt(z.string()),
  serviceTier: opt(z.string()),
  cwd: opt(z.string()),
  approvalPolicy: opt(AskForApprovalSchema),
  approvalsReviewer: opt(ApprovalsReviewerSchema),
  sandbox: opt(SandboxModeSchema),
  config: opt(z.record(z.string(), z.unknown())),
  baseInstructions: opt(z.string()),
  developerInstructions: opt(z.string()),
};

const DynamicToolSpecSchema = z.looseObject({
  type: z.literal('function'),
  name: z.string().min(1),
  description: z.string(),
  inputSchema: z.record(z.string(), z.unknown()),
});
const ThreadStartParamsSchema = z.looseObject({
  ...threadSettings,
  ephemeral: opt(z.boolean()),
  /** Experimental (needs `experimentalApi`): tools the host runs, called via item/tool/call. */
  dynamicTools: opt(z.array(DynamicToolSpecSchema)),
});
const ThreadResumeParamsSchema = z.looseObject({ threadId: z.string().min(1), ...threadSettings, excludeTurns: z.boolean().optional() });
const ThreadResultSchema = z.looseObject({ thread: ThreadSchema, model: z.string().optional() });

const TurnStartParamsSchema = z.looseObject({
  threadId: z.string().min(1),
  input: z.array(UserInputSchema).min(1),
  cwd: opt(z.string()),
  approvalPolicy: opt(AskForApprovalSchema),
  approvalsReviewer: opt(ApprovalsReviewerSchema),
  model: opt(z.string()),
  serviceTier: opt(z.string()),
  effort: opt(z.string().min(1)),
  /** The host's id of the message: Codex records it on the thread's `userMessage` item (`clientId`). */
  clientUserMessageId: opt(z.string().min(1)),
});
const TurnSteerParamsSchema = z.looseObject({
  threadId: z.string().min(1),
  input: z.array(UserInputSchema).min(1),
  expectedTurnId: z.string().min(1),
  clientUserMessageId: opt(z.string().min(1)),
});
const TurnInterruptParamsSchema = z.looseObject({ threadId: z.string().min(1), turnId: z.string().min(1) });

const PageParams = z.looseObject({ cursor: opt(z.string()), limit: opt(z.number().int().positive()) });
const PageResult = z.looseObject({ data: z.array(z.unknown()), nextCursor: z.string().nullable().optional() });

const ModelSchema = z.looseObject({
  id: z.string(),
  model: z.string(),
  displayName: z.string().optional(),
  hidden: z.boolean().optional(),
});
export type Model = z.infer<typeof ModelSchema>;

/** What `review/start` reviews (the schema's ReviewTarget). */
export const ReviewTargetSchema = z.union([
  z.looseObject({ type: z.literal('uncommittedChanges') }),
  z.looseObject({ type: z.literal('baseBranch'), branch: z.string().min(1) }),
  z.looseObject({ type: z.literal('commit'), sha: z.string().min(1), title: opt(z.string()) }),
  z.looseObject({ type: z.literal('custom'), instructions: z.string().min(1) }),
]);
export type ReviewTarget = z.infer<typeof ReviewTargetSchema>;

/** `thread/list`: a page of stored threads, filtered by title (`searchTerm`), paged by `cursor`. */
const ThreadListParamsSchema = z.looseObject({
  cursor: opt(z.string()),
  limit: opt(z.number().int().positive()),
  searchTerm: opt(z.string()),
  archived: opt(z.boolean()),
  sortKey: opt(z.enum(['created_at', 'updated_at', 'recency_at'])),
});

/**
 * Every client request the runtime sends. `idempotent` requests may be retried when the
 * server answers -32001 (overloaded); the others never are, because a retry could act twice.
 */
export const clientRequests = {
  initialize: { params: InitializeParamsSchema, result: InitializeResultSchema, idempotent: false },
  'thread/start': { params: ThreadStartParamsSchema, result: ThreadResultSchema, idempotent: false },
  'thread/resume': { params: ThreadResumeParamsSchema, result: ThreadResultSchema, idempotent: true },
  'turn/start': { params: TurnStartParamsSchema, result: z.looseObject({ turn: TurnSchema }), idempotent: false },
  'turn/steer': { params: TurnSteerParamsSchema, result: z.looseObject({ turnId: z.string() }), idempotent: false },
  'turn/interrupt': { params: TurnInterruptParamsSchema, result: AnyObject, idempotent: true },
  'model/list': {
    params: PageParams.extend({ includeHidden: opt(z.boolean()), modelProvider: opt(z.string()) }),
    result: z.looseObject({ data: z.array(ModelSchema), nextCursor: z.string().nullable().optional() }),
    idempotent: true,
  },
  'thread/list': { params: ThreadListParamsSchema, result: PageResult, idempotent: true },
  /** A stored thread's metadata (loaded or not); an unknown id is an error. */
  'thread/read': {
    params: z.looseObject({ threadId: z.string().min(1), includeTurns: z.boolean().optional() }),
    result: z.looseObject({ thread: ThreadSchema }),
    idempotent: true,
  },
  /** `/fork`: a new thread with the source's history (through `lastTurnId` when given); `excludeTurns` keeps the answer small. */
  'thread/fork': {
    params: z.looseObject({ threadId: z.string().min(1), ...threadSettings, lastTurnId: opt(z.string()), excludeTurns: z.boolean().optional() }),
    result: ThreadResultSchema,
    idempotent: false,
  },
  /** `/undo`: the thread's history becomes the prefix before `beforeTurnId` (files are not reverted). */
  'thread/revert': {
    params: z.looseObject({ threadId: z.string().min(1), beforeTurnId: z.string().min(1) }),
    result: AnyObject,
    idempotent: false,
  },
  /** A page of a thread's turns, newest first by default. */
  'thread/turns/list': {
    params: z.looseObject({
      threadId: z.string().min(1),
      limit: opt(z.number().int().positive()),
      cursor: opt(z.string()),
      sortDirection: opt(z.enum(['asc', 'desc'])),
      /** `full`: every item (the replay check reads `userMessage.clientId`); default `summary`. */
      itemsView: opt(z.enum(['notLoaded', 'summary', 'full'])),
    }),
    result: z.looseObject({ data: z.array(z.looseObject({ id: z.string(), status: z.string().optional() })), nextCursor: z.string().nullable().optional() }),
    idempotent: true,
  },
  /** Threads loaded in this app-server's memory (metrics; the pool's placement). */
  'thread/loaded/list': {
    params: PageParams,
    result: z.looseObject({ data: z.array(z.string()), nextCursor: z.string().nullable().optional() }),
    idempotent: true,
  },
  'thread/compact/start': {
    params: z.looseObject({ threadId: z.string().min(1) }),
    result: AnyObject,
    idempotent: false,
  },
  /** Runs as a turn of the thread (0.169.0 accepts only inline delivery). */
  'review/start': {
    params: z.looseObject({ threadId: z.string().min(1), target: ReviewTargetSchema, delivery: opt(z.literal('inline')) }),
    result: z.looseObject({ turn: TurnSchema, reviewThreadId: z.string() }),
    idempotent: false,
  },
  'account/read': { params: z.looseObject({ refreshToken: opt(z.boolean()) }), result: AnyObject, idempotent: true },
  'account/rateLimits/read': { params: z.undefined(), result: AnyObject, idempotent: true },
  'mcpServerStatus/list': {
    params: PageParams.extend({ detail: opt(z.enum(['full', 'toolsAndAuthOnly'])) }),
    result: PageResult,
    idempotent: true,
  },
  'skills/list': { params: z.looseObject({ cwds: z.array(z.string()).optional() }), result: AnyObject, idempotent: true },
  'config/read': { params: z.looseObject({ includeLayers: opt(z.boolean()) }), result: AnyObject, idempotent: true },
  'thread/name/set': {
    params: z.looseObject({ threadId: z.string().min(1), name: z.string() }),
    result: AnyObject,
    idempotent: true,
  },
  'thread/archive': { params: z.looseObject({ threadId: z.string().min(1) }), result: AnyObject, idempotent: true },
  /** An owner approves an action Codex's guardian denied (`event`: the review in Codex core's form); Codex tells the agent. */
  'thread/approveGuardianDeniedAction': {
    params: z.looseObject({ threadId: z.string().min(1), event: z.record(z.string(), z.unknown()) }),
    result: AnyObject,
    // Each call adds the approval to the thread again.
    idempotent: false,
  },
  /** Raw Responses-API items appended to a thread's model-visible history (what the llm backend said meanwhile). */
  'thread/inject_items': {
    params: z.looseObject({ threadId: z.string().min(1), items: z.array(z.record(z.string(), z.unknown())) }),
    result: AnyObject,
    // A retry would append the items twice.
    idempotent: false,
  },
} as const;

export type ClientMethod = keyof typeof clientRequests;
export type ParamsOf<M extends ClientMethod> = z.input<(typeof clientRequests)[M]['params']>;
export type ResultOf<M extends ClientMethod> = z.output<(typeof clientRequests)[M]['result']>;

