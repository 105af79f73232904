// The room server's JSON protocol (one JSON object per WebSocket frame).
//
// client → server: join, message, approval.decide, history, models, inspect (+ agent.event/agent.decided from a relay agent)
// server → client: joined, presence, event, decided, history, models, inspect, inspect.update, error
//                  (+ agent.message/agent.decide to a relay agent)
// Every field is untrusted: strict objects, bounded strings, no unknown keys.
import { z } from 'zod';
import { RoomAttachmentSchema, MAX_ATTACHMENTS } from '../attachments/schema.js';
import { cleanMessageText } from '../attachments/text.js';
import { MAX_TOKEN_LENGTH } from '../auth/token.js';
import { cleanDisplayName, PARTICIPANT_ID_RE, PARTICIPANT_ID_RULE, ROLES, ROOM_NAME_RE, ROOM_NAME_RULE, type Role } from '../auth/names.js';
import type { Observable } from 'rxjs';
import type { StoredRecord } from '../storage/types.js';
import type { RoomEvent } from '../events/room-events.js';

// Channel/thread names become parts of a `room/channel/thread` key: no slashes.
const name = z.string().min(1).max(200).regex(/^[^/\s]+$/, 'use letters, digits, dashes; no slashes or spaces');
const roomName = z.string().regex(ROOM_NAME_RE, ROOM_NAME_RULE);

const ParticipantSchema = z.strictObject({
  id: z.string().regex(PARTICIPANT_ID_RE, PARTICIPANT_ID_RULE),
  name: z.string().max(1000).optional().transform(cleanDisplayName),
  role: z.enum(ROLES).default('member'),
});
export type Participant = { id: string; name?: string; role: Role };

export const ClientFrameSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('join'),
    /** A signed credential (signed mode) or the room's shared token (shared mode). */
    token: z.string().min(1).max(MAX_TOKEN_LENGTH).optional(),
    room: roomName.optional(),
    /** Only in shared/open modes: identity claimed by the frame. */
    participant: ParticipantSchema.optional(),
    /** Replay history of this channel/thread after joining (default: all of the room). */
    channel: name.optional(),
    thread: name.optional(),
    /** Rejoin after a drop: the server epoch and last event seq the client saw. */
    resume: z.strictObject({ epoch: z.string().min(1).max(100), seq: z.number().int().nonnegative() }).optional(),
    historyLimit: z.number().int().nonnegative().max(100_000).optional(),
  }),
  z.strictObject({
    type: z.literal('message'),
    channel: name.default('chat'),
    thread: name.default('main'),
    text: z.string().min(1).max(100_000).transform(cleanMessageText).refine((s) => s.trim().length > 0, 'text is empty once control characters are removed'),
    attachments: z.array(RoomAttachmentSchema).max(MAX_ATTACHMENTS).optional(),
  }),
  z.strictObject({
    type: z.literal('approval.decide'),
    approvalId: name,
    decision: z.string().min(1).max(200),
    content: z.unknown().optional(),
  }),
  z.strictObject({
    type: z.literal('history'),
    before: z.number().int().positive().optional(),
    limit: z.number().int().positive().max(100_000).optional(),
  }),
  /** The agent's model catalog (for a model picker; `/model NAME` switches). */
  z.strictObject({ type: z.literal('models') }),
  /** Owners and approvers: the live actor tree of this room (on) or stop it (off). */
  z.strictObject({ type: z.literal('inspect'), on: z.boolean() }),
  // Relay mode (`switchboard room serve`): an agent participant runs the turns.
  z.strictObject({ type: z.literal('agent.event'), event: z.looseObject({ type: z.string().max(100), session: z.string().max(700) }) }),
  z.strictObject({ type: z.literal('agent.decided'), requestId: z.string().max(100), ok: z.boolean(), reason: z.string().max(2000).optional() }),
]);
export type ClientFrame = z.infer<typeof ClientFrameSchema>;

export type AgentMessage = {
  room: string;
  channel: string;
  thread: string;
  from: { id: string; name?: string; role?: Role };
  text: string;
  attachments?: unknown[];
};

/** Who is in a room: one entry per participant id, with how many sockets it has open. */
export type Presence = { id: string; name?: string; role: Role; connections: number };

/** The agent's model catalog as a model picker needs it. */
export interface ModelList {
  /** `alias`: the configured short name `/model` also accepts. */
  models: Array<{ model: string; displayName?: string; alias?: string; isDefault: boolean }>;
  source: 'model/list' | 'fallback' | 'static';
  note?: string;
}

/** One actor of the inspector's tree (see src/web/inspector-feed.ts). */
export interface InspectActor {
  id: string;
  parent: string | null;
  machine?: string;
  src?: string;
  status: 'active' | 'done' | 'stopped' | 'error';
  value?: unknown;
  at: number;
}
export interface InspectEvent {
  actor: string;
  type: string;
  at: number;
  summary?: string;
}
export type InspectFrame =
  | { type: 'inspect'; actors: InspectActor[]; events: InspectEvent[] }
  | { type: 'inspect.update'; actors: InspectActor[]; removed: string[]; events: InspectEvent[]; dropped?: number };

/** The live actor tree of the embedded room, per room (what the `inspect` frame subscribes to). */
export interface RoomInspector {
  /** Sends the room's current tree at once, then batched updates; returns the unsubscribe. */
  subscribe(room: string, send: (frame: InspectFrame) => unknown): () => void;
}

export type ServerFrame =
  | {
      type: 'joined';
      room: string;
      participant: Participant;
      epoch: string;
      seq: number;
      resumed: boolean;
      history: StoredRecord[];
      historyBefore?: number;
      pending: unknown[];
      participants: Presence[];
      /** This participant may use the inspector on this server. */
      inspector: boolean;
    }
  | { type: 'presence'; participants: Presence[] }
  | ({ type: 'models' } & ModelList)
  | InspectFrame
  | { type: 'event'; seq: number; event: unknown }
  | { type: 'history'; records: StoredRecord[]; before?: number }
  | { type: 'decided'; approvalId: string; ok: boolean; reason?: string }
  | { type: 'agent.message'; message: AgentMessage }
  | { type: 'agent.decide'; requestId: string; approvalId: string; by: string; role?: Role; decision: string; content?: unknown }
  | { type: 'error'; error: string; code?: string; retryAfterMs?: number };

/** WebSocket close codes used by the room server. */
export const CloseCodes = {
  /** Bad, missing or expired credential. */
  unauthorized: 4401,
  /** Origin not allowed, or a credential for another room. */
  forbidden: 4403,
  /** Malformed join, no join in time, or a join this server does not accept. */
  badJoin: 4400,
  /** The socket's send buffer went over the limit (a client that does not read). */
  slowConsumer: 4408,
  /** The room already has an agent. */
  conflict: 4409,
  /** Too many connections (per address or per room). */
  tooMany: 4429,
  shuttingDown: 1001,
} as const;

// What the room server needs of whatever runs the agent: the supervisor (embedded room) or
// a relay to an agent participant (`room serve`).
export interface RoomBackend {
  post(msg: {
    room: string;
    channel: string;
    thread: string;
    /** `role` is the verified role from the participant's credential. */
    from: { id: string; name?: string; role?: Role };
    text: string;
    attachments?: Array<Record<string, unknown>>;
  }): Promise<unknown> | unknown;
  decide(d: { approvalId: string; by: string; role?: Role; decision: string; content?: unknown; room?: string }): { ok: true } | { ok: false; reason: string } | Promise<{ ok: true } | { ok: false; reason: string }>;
  readonly events$: Observable<RoomEvent>;
  /**
   * History of a room, oldest first. With `limit` and no cursor (or `before`), the NEWEST
   * `limit` records (older than `before`); with `after`, the oldest `limit` newer than it.
   */
  history(room: string, filter?: { channel?: string; thread?: string; before?: number; after?: number; limit?: number }): Promise<StoredRecord[]>;
  /**
   * Several nodes: the room's open approvals any node holds (the shared database), for
   * `joined.pending` besides those this server saw asked; undefined or absent: none to look up.
   */
  openApprovals?(room: string, limit: number): Promise<RoomEvent[]> | undefined;
  /** The agent's model catalog; absent when this server does not run the agent (relay). */
  models?(): Promise<ModelList>;
}

/** A backend that relays to an agent participant (`room serve`). */
export interface AgentRelay {
  hasAgent(room: string): boolean;
  /** Attaches the room's agent; undefined when the room already has one. */
  attachAgent(room: string, send: (frame: ServerFrame) => boolean): (() => void) | undefined;
  fromAgent(e: RoomEvent): void;
  decided(requestId: string, ok: boolean, reason?: string, room?: string): void;
}

export const isRelay = (b: RoomBackend): b is RoomBackend & AgentRelay => typeof (b as Partial<AgentRelay>).attachAgent === 'function';
