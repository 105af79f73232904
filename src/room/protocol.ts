// The room server's JSON protocol (one JSON object per WebSocket frame).
//
// client → server: join, message, approval.decide
// server → client: joined (with history), event (every RoomEvent), decided, error
import { z } from 'zod';

// Names become parts of a `room/channel/thread` key: no slashes.
const name = z.string().min(1).max(200).regex(/^[^/\s]+$/, 'use letters, digits, dashes; no slashes or spaces');

export const ParticipantSchema = z.strictObject({
  id: name,
  name: z.string().max(200).optional(),
  role: z.enum(['owner', 'member', 'approver', 'observer', 'agent']).default('member'),
});
export type Participant = z.infer<typeof ParticipantSchema>;

export const ClientFrameSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('join'),
    room: name,
    participant: ParticipantSchema,
    token: z.string().optional(),
    /** Replay history of this channel/thread after joining (default: all of the room). */
    channel: name.optional(),
    thread: name.optional(),
  }),
  z.strictObject({
    type: z.literal('message'),
    channel: name.default('chat'),
    thread: name.default('main'),
    text: z.string().min(1).max(100_000),
    attachments: z
      .array(z.union([z.strictObject({ type: z.literal('image'), url: z.string() }), z.strictObject({ type: z.literal('localImage'), path: z.string() }), z.strictObject({ type: z.literal('mention'), name: z.string(), path: z.string() })]))
      .optional(),
  }),
  z.strictObject({
    type: z.literal('approval.decide'),
    approvalId: name,
    decision: z.string().min(1),
    content: z.unknown().optional(),
  }),
  // Relay mode (`switchboard room serve`): an agent participant runs the turns.
  z.strictObject({ type: z.literal('agent.event'), event: z.looseObject({ type: z.string(), session: z.string() }) }),
  z.strictObject({ type: z.literal('agent.decided'), requestId: z.string(), ok: z.boolean(), reason: z.string().optional() }),
]);
export type ClientFrame = z.infer<typeof ClientFrameSchema>;

export type ServerFrame =
  | { type: 'joined'; room: string; participant: { id: string; name?: string; role: string }; history: unknown[] }
  | { type: 'event'; event: unknown }
  | { type: 'decided'; approvalId: string; ok: boolean; reason?: string }
  | { type: 'agent.message'; message: { room: string; channel: string; thread: string; from: { id: string; name?: string }; text: string; attachments?: unknown[] } }
  | { type: 'agent.decide'; requestId: string; approvalId: string; by: string; decision: string; content?: unknown }
  | { type: 'error'; error: string };

/** WebSocket close codes used by the room server. */
export const CloseCodes = { unauthorized: 4401, badJoin: 4400, shuttingDown: 1001 } as const;
