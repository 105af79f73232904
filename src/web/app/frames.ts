// The room protocol as the page reads it (src/room/protocol.ts, src/events/room-events.ts and
// the web room contract). Every frame is validated; strings are cleaned and capped as they
// are parsed, so nothing downstream sees a raw remote string. Unknown frames and events are
// dropped rather than half-understood.
import { cleanLine, cleanText } from './clean.js';
import './zod.js';
import * as z from 'zod/mini';

const clip = (max: number) => z.transform((s: string) => cleanLine(s, max));
const line = (max = 300) => z.pipe(z.string().check(z.maxLength(100_000)), clip(max));
const body = (max = 1_000_000) => z.pipe(z.string(), z.transform((s: string) => cleanText(s, max)));
const key = z.pipe(z.string().check(z.minLength(1), z.maxLength(1000)), clip(1000));
const at = z.number();
const seq = z.int().check(z.nonnegative());
const record = z.record(z.string(), z.unknown());
/** Absent or null → undefined (the server's JSON omits or nulls what it does not know). */
const opt = <T extends z.ZodMiniType>(t: T) => z.pipe(z.nullish(t), z.transform((v: z.infer<T> | null | undefined) => v ?? undefined));

export const ROLES = ['owner', 'approver', 'member', 'observer', 'agent'] as const;
export type Role = (typeof ROLES)[number];
const role = z.catch(z.enum(ROLES), 'member' as const);

const participant = z.object({ id: line(128), name: opt(line(100)), role });
export type Participant = z.infer<typeof participant>;
const presence = z.object({ id: line(128), name: opt(line(100)), role, connections: z.catch(seq, 1) });
export type Presence = z.infer<typeof presence>;

const base = { session: key, at };
const toolKind = line(40);
const count = z.catch(z.number().check(z.nonnegative()), 0);
/** What a turn used (Codex's token counts); absent when Codex reported none. */
const usage = opt(z.object({ inputTokens: count, cachedInputTokens: count, outputTokens: count, reasoningOutputTokens: count, totalTokens: count }));
export type TurnUsage = NonNullable<z.infer<typeof usage>>;

export const RoomEventSchema = z.discriminatedUnion('type', [
  z.object({
    ...base,
    type: z.literal('message.posted'),
    messageId: key,
    from: z.object({ id: line(128), name: opt(line(100)), role: opt(line(40)) }),
    text: body(100_000),
    attachments: z.catch(seq, 0),
  }),
  z.object({ ...base, type: z.literal('turn.started'), turnId: key, threadId: opt(key), model: opt(line(200)) }),
  z.object({ ...base, type: z.literal('turn.completed'), turnId: key, threadId: opt(key), usage }),
  z.object({ ...base, type: z.literal('turn.failed'), turnId: opt(key), threadId: opt(key), error: body(5000), usage }),
  z.object({ ...base, type: z.literal('turn.interrupted'), turnId: key, threadId: opt(key), reason: body(2000), usage }),
  z.object({ ...base, type: z.literal('message.delta'), turnId: key, itemId: key, delta: body(200_000) }),
  z.object({ ...base, type: z.literal('message.completed'), turnId: key, itemId: key, text: body(), partial: opt(z.literal(true)) }),
  z.object({
    ...base,
    type: z.enum(['tool.started', 'tool.updated', 'tool.completed'] as const),
    turnId: key,
    toolId: key,
    kind: toolKind,
    title: line(500),
    status: opt(line(60)),
    data: record,
  }),
  z.object({
    ...base,
    type: z.literal('approval.requested'),
    approvalId: key,
    turnId: opt(key),
    kind: toolKind,
    title: line(500),
    detail: record,
    choices: z.array(line(200)).check(z.maxLength(50)),
    reviewer: z.catch(line(40), 'user'),
    expiresAt: opt(at),
    deciders: opt(z.object({ owner: opt(line(128)), approvers: z.catch(z.array(line(128)).check(z.maxLength(1000)), []) })),
  }),
  z.object({
    ...base,
    type: z.literal('approval.resolved'),
    approvalId: key,
    outcome: z.enum(['approved', 'denied', 'withdrawn', 'answered'] as const),
    decision: opt(line(200)),
    by: line(128),
    reason: body(2000),
  }),
  z.object({ ...base, type: z.literal('notice'), level: z.catch(z.enum(['info', 'warning', 'error'] as const), 'info' as const), text: body(20_000) }),
  z.object({ ...base, type: z.literal('usage'), turnId: key, usage: record }),
  z.object({
    ...base,
    type: z.literal('guardian.review'),
    turnId: key,
    reviewId: key,
    status: z.catch(z.enum(['inProgress', 'approved', 'denied', 'timedOut', 'aborted'] as const), 'aborted' as const),
    riskLevel: opt(line(40)),
    userAuthorization: opt(line(40)),
    rationale: opt(body(4000)),
    title: line(500),
    decisionSource: opt(line(60)),
  }),
]);
export type RoomEvent = z.infer<typeof RoomEventSchema>;
export type ApprovalRequested = Extract<RoomEvent, { type: 'approval.requested' }>;
export type GuardianReview = Extract<RoomEvent, { type: 'guardian.review' }>;
export type ToolEvent = Extract<RoomEvent, { type: 'tool.started' | 'tool.updated' | 'tool.completed' }>;

const stored = { seq: z.int(), session: key, at };
export const HistoryRecordSchema = z.discriminatedUnion('kind', [
  z.object({
    ...stored,
    kind: z.literal('message'),
    role: z.enum(['user', 'assistant'] as const),
    author: opt(z.object({ id: line(128), name: opt(line(100)) })),
    text: body(),
    turnId: opt(key),
    partial: opt(z.literal(true)),
  }),
  z.object({ ...stored, kind: z.literal('tool'), toolId: key, toolKind, title: line(500), status: opt(line(60)), turnId: opt(key), data: record }),
  z.object({
    ...stored,
    kind: z.literal('approval'),
    approvalId: key,
    approvalKind: opt(toolKind),
    outcome: line(40),
    decision: opt(line(200)),
    by: line(128),
    reason: body(2000),
  }),
  z.object({ ...stored, kind: z.literal('model'), model: line(200) }),
  z.object({ ...stored, kind: z.literal('harness'), harness: line(200), reason: body(2000) }),
  z.object({ ...stored, kind: z.literal('notice'), level: z.catch(z.enum(['info', 'warning', 'error'] as const), 'info' as const), text: body(20_000) }),
  z.object({ ...stored, kind: z.literal('turn'), turnId: key, status: line(40), error: opt(body(5000)) }),
]);
export type HistoryRecord = z.infer<typeof HistoryRecordSchema>;

export const MACHINES = ['supervisor', 'connection', 'session', 'turn', 'approval'] as const;
export type Machine = (typeof MACHINES)[number];
const ACTOR_STATUS = ['active', 'done', 'stopped', 'error'] as const;
const inspectActor = z.object({
  id: key,
  parent: opt(key),
  machine: z.catch(z.optional(z.enum(MACHINES)), undefined),
  src: opt(line(200)),
  status: z.catch(z.enum(ACTOR_STATUS), 'active' as const),
  value: z.optional(z.unknown()),
  at,
});
export type InspectActor = z.infer<typeof inspectActor>;
const inspectEvent = z.object({ actor: key, type: line(200), at, summary: opt(body(300)) });
export type InspectEvent = z.infer<typeof inspectEvent>;

const model = z.object({ model: line(200), displayName: opt(line(200)), alias: opt(line(64)), isDefault: z.catch(z.boolean(), false) });
export type ModelEntry = z.infer<typeof model>;

// Lists are validated item by item (see `parseEach`): one bad record must not lose a join.
const list = z.array(z.unknown()).check(z.maxLength(200_000));

export const ServerFrameSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('joined'),
    room: line(128),
    participant,
    epoch: line(100),
    seq,
    resumed: z.boolean(),
    history: list,
    historyBefore: opt(z.int()),
    pending: list,
    participants: z.optional(list),
    inspector: z.catch(z._default(z.boolean(), false), false),
  }),
  z.object({ type: z.literal('event'), seq, event: z.unknown() }),
  z.object({ type: z.literal('history'), records: list, before: opt(z.int()) }),
  z.object({ type: z.literal('decided'), approvalId: key, ok: z.boolean(), reason: opt(body(2000)) }),
  z.object({ type: z.literal('error'), error: body(2000), code: opt(line(60)), retryAfterMs: opt(z.number()) }),
  z.object({ type: z.literal('presence'), participants: list }),
  z.object({ type: z.literal('models'), models: z.array(model).check(z.maxLength(500)), source: opt(line(40)), note: opt(body(2000)) }),
  z.object({ type: z.literal('inspect'), actors: list, events: list }),
  z.object({ type: z.literal('inspect.update'), actors: list, removed: z.catch(z.array(key).check(z.maxLength(10_000)), []), events: list, dropped: opt(z.number()) }),
]);
type RawFrame = z.infer<typeof ServerFrameSchema>;

/** The items of a remote list that fit `schema`; the rest are dropped (and counted). */
export function parseEach<T extends z.ZodMiniType>(schema: T, items: unknown[] | undefined, onDrop?: (n: number) => void): Array<z.infer<T>> {
  const out: Array<z.infer<T>> = [];
  let dropped = 0;
  for (const item of items ?? []) {
    const r = z.safeParse(schema, item);
    if (r.success) out.push(r.data);
    else dropped++;
  }
  if (dropped && onDrop) onDrop(dropped);
  return out;
}

/** A server frame with its lists validated: what the rest of the page works with. */
export type ServerFrame =
  | (Omit<Extract<RawFrame, { type: 'joined' }>, 'history' | 'pending' | 'participants'> & {
      history: HistoryRecord[];
      pending: ApprovalRequested[];
      participants: Presence[] | undefined;
    })
  /** `event` is undefined for an event the page does not understand (its seq still counts). */
  | { type: 'event'; seq: number; event: RoomEvent | undefined }
  | { type: 'history'; records: HistoryRecord[]; before: number | undefined }
  | Extract<RawFrame, { type: 'decided' | 'error' | 'models' }>
  | { type: 'presence'; participants: Presence[] }
  | { type: 'inspect'; actors: InspectActor[]; events: InspectEvent[] }
  | { type: 'inspect.update'; actors: InspectActor[]; removed: string[]; events: InspectEvent[]; dropped: number | undefined };

const isRequest = (e: RoomEvent): e is ApprovalRequested => e.type === 'approval.requested';

/** Parses one WebSocket message; undefined when it is not a frame the page understands. */
export function parseFrame(data: string): ServerFrame | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(data);
  } catch {
    return undefined;
  }
  const r = z.safeParse(ServerFrameSchema, raw);
  if (!r.success) return undefined;
  const f = r.data;
  switch (f.type) {
    case 'joined':
      return {
        ...f,
        history: parseEach(HistoryRecordSchema, f.history),
        pending: parseEach(RoomEventSchema, f.pending).filter(isRequest),
        participants: f.participants ? parseEach(presence, f.participants) : undefined,
      };
    case 'event': {
      const e = z.safeParse(RoomEventSchema, f.event);
      return { type: 'event', seq: f.seq, event: e.success ? e.data : undefined };
    }
    case 'history':
      return { type: 'history', records: parseEach(HistoryRecordSchema, f.records), before: f.before };
    case 'presence':
      return { type: 'presence', participants: parseEach(presence, f.participants) };
    case 'inspect':
      return { type: 'inspect', actors: parseEach(inspectActor, f.actors), events: parseEach(inspectEvent, f.events) };
    case 'inspect.update':
      return { type: 'inspect.update', actors: parseEach(inspectActor, f.actors), removed: f.removed, events: parseEach(inspectEvent, f.events), dropped: f.dropped };
    default:
      return f;
  }
}
