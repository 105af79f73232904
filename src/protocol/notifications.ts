// Server notifications. Known methods are validated (leniently); unknown ones are still
// delivered as raw events so a newer Codex never breaks us.
import { z } from 'zod';
import { ThreadItemSchema, TurnErrorSchema, TurnSchema } from './common.js';

const threadTurn = { threadId: z.string(), turnId: z.string() };

const AgentMessageDeltaSchema = z.compile(
  z.looseObject({ ...threadTurn, itemId: z.string(), delta: z.string() }),
);

const ids = (...keys: Array<'threadId' | 'turnId' | 'itemId'>) =>
  z.looseObject(Object.fromEntries(keys.map((k) => [k, z.string()])) as Record<string, z.ZodString>);

export const notificationSchemas = {
  error: z.looseObject({
    error: TurnErrorSchema,
    willRetry: z.boolean().optional(),
    threadId: z.string().optional(),
    turnId: z.string().optional(),
  }),
  warning: z.looseObject({ message: z.string().optional(), threadId: z.string().nullable().optional() }),
  'thread/started': z.looseObject({ thread: z.looseObject({ id: z.string() }) }),
  'thread/status/changed': z.looseObject({ threadId: z.string(), status: z.unknown() }),
  'thread/tokenUsage/updated': z.looseObject({ ...threadTurn, tokenUsage: z.unknown() }),
  'thread/compacted': z.looseObject({ threadId: z.string() }),
  'thread/closed': z.looseObject({ threadId: z.string() }),
  'thread/name/updated': z.looseObject({ threadId: z.string() }),
  'turn/started': z.looseObject({ threadId: z.string(), turn: TurnSchema }),
  'turn/completed': z.looseObject({ threadId: z.string(), turn: TurnSchema }),
  'turn/diff/updated': z.looseObject({ ...threadTurn, diff: z.string() }),
  'turn/plan/updated': z.looseObject({ ...threadTurn, plan: z.array(z.unknown()).optional() }),
  'item/started': z.looseObject({ ...threadTurn, item: ThreadItemSchema }),
  'item/completed': z.looseObject({ ...threadTurn, item: ThreadItemSchema }),
  'item/agentMessage/delta': AgentMessageDeltaSchema,
  'item/plan/delta': z.looseObject({ ...threadTurn, itemId: z.string(), delta: z.string() }),
  'item/reasoning/summaryTextDelta': z.looseObject({ ...threadTurn, itemId: z.string(), delta: z.string() }),
  'item/reasoning/textDelta': z.looseObject({ ...threadTurn, itemId: z.string(), delta: z.string() }),
  'item/commandExecution/outputDelta': z.looseObject({ ...threadTurn, itemId: z.string(), delta: z.string() }),
  'item/fileChange/outputDelta': z.looseObject({ ...threadTurn, itemId: z.string(), delta: z.string() }),
  'item/mcpToolCall/progress': z.looseObject({ ...threadTurn, itemId: z.string() }),
  // The rest of the turn/*, item/* and thread/* families: the ids routing depends on.
  'thread/readState/changed': ids('threadId'),
  'thread/archived': ids('threadId'),
  'thread/deleted': ids('threadId'),
  'thread/unarchived': ids('threadId'),
  'thread/reverted': ids('threadId'),
  'thread/section/changed': ids('threadId'),
  'thread/attachment/updated': ids('threadId'),
  'thread/goal/updated': ids('threadId'),
  'thread/goal/cleared': ids('threadId'),
  'thread/prediction/updated': ids('threadId'),
  'thread/queue/changed': ids('threadId'),
  'thread/project/updated': ids('threadId'),
  'thread/environment/connected': ids('threadId'),
  'thread/environment/disconnected': ids('threadId'),
  'thread/settings/updated': ids('threadId'),
  'turn/moderationMetadata': ids('threadId', 'turnId'),
  'item/autoApprovalReview/started': ids('threadId', 'turnId'),
  'item/autoApprovalReview/completed': ids('threadId', 'turnId'),
  'item/commandExecution/terminalInteraction': ids('threadId', 'turnId', 'itemId'),
  'item/fileChange/patchUpdated': ids('threadId', 'turnId', 'itemId'),
  'item/reasoning/summaryPartAdded': ids('threadId', 'turnId', 'itemId'),
  'thread/realtime/started': ids('threadId'),
  'thread/realtime/itemAdded': ids('threadId'),
  'thread/realtime/item/started': ids('threadId'),
  'thread/realtime/item/transcript/delta': ids('threadId', 'itemId'),
  'thread/realtime/item/completed': ids('threadId'),
  'thread/realtime/transcript/delta': ids('threadId'),
  'thread/realtime/transcript/done': ids('threadId'),
  'thread/realtime/outputAudio/delta': ids('threadId'),
  'thread/realtime/sdp': ids('threadId'),
  'thread/realtime/error': ids('threadId'),
  'thread/realtime/closed': ids('threadId'),
  guardianWarning: z.looseObject({ threadId: z.string(), message: z.string() }),
  'serverRequest/resolved': z.looseObject({
    threadId: z.string(),
    requestId: z.union([z.string(), z.number()]),
  }),
} as const;

export type KnownNotificationMethod = keyof typeof notificationSchemas;
export type NotificationParams<M extends KnownNotificationMethod> = z.output<(typeof notificationSchemas)[M]>;

/** A notification as routed to subscribers. `valid` is false when a known method failed its schema. */
export interface InboundNotification {
  method: string;
  params: Record<string, unknown>;
  threadId: string | undefined;
  known: boolean;
  valid: boolean;
  problem?: string;
}

const compiled = new Map<string, z.ZodType>(
  Object.entries(notificationSchemas).map(([m, s]) => [m, z.compile(s as z.ZodType)]),
);

/**
 * The streamed-delta methods: the hottest frames (one per token). Their schema is four string
 * ids and a string delta, so a hand check gives the same verdict as zod without its per-frame
 * copy of the object; anything that fails the check goes through zod for the reason.
 */
const DELTA_METHODS: ReadonlySet<string> = new Set([
  'item/agentMessage/delta',
  'item/plan/delta',
  'item/reasoning/summaryTextDelta',
  'item/reasoning/textDelta',
  'item/commandExecution/outputDelta',
  'item/fileChange/outputDelta',
]);

export function classifyNotification(method: string, params: unknown): InboundNotification {
  const p = (typeof params === 'object' && params !== null ? params : {}) as Record<string, unknown>;
  const threadId = threadIdOf(p);
  if (
    typeof p.threadId === 'string' &&
    typeof p.turnId === 'string' &&
    typeof p.itemId === 'string' &&
    typeof p.delta === 'string' &&
    DELTA_METHODS.has(method)
  ) {
    return { method, params: p, threadId, known: true, valid: true };
  }
  const schema = compiled.get(method);
  if (!schema) return { method, params: p, threadId, known: false, valid: true };
  const r = schema.safeParse(p);
  if (r.success) return { method, params: r.data as Record<string, unknown>, threadId, known: true, valid: true };
  const issue = r.error.issues[0];
  return {
    method,
    params: p,
    threadId,
    known: true,
    valid: false,
    problem: issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid',
  };
}

function threadIdOf(p: Record<string, unknown>): string | undefined {
  if (typeof p.threadId === 'string') return p.threadId;
  const thread = p.thread as { id?: unknown } | undefined;
  if (thread && typeof thread.id === 'string') return thread.id;
  return undefined;
}
