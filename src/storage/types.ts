// Thread storage: the room thread's durable history and the inbox of accepted messages.
import { z } from 'zod';

export const HistoryRecordSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('message'),
    role: z.enum(['user', 'assistant']),
    author: z.object({ id: z.string(), name: z.string().optional() }).optional(),
    text: z.string(),
    turnId: z.string().optional(),
  }),
  z.object({
    kind: z.literal('tool'),
    toolId: z.string(),
    toolKind: z.string(),
    title: z.string(),
    status: z.string().optional(),
    turnId: z.string().optional(),
    data: z.record(z.string(), z.unknown()),
  }),
  z.object({
    kind: z.literal('approval'),
    approvalId: z.string(),
    approvalKind: z.string().optional(),
    outcome: z.string(),
    decision: z.string().optional(),
    by: z.string(),
    reason: z.string(),
  }),
  z.object({ kind: z.literal('model'), model: z.string() }),
  z.object({ kind: z.literal('harness'), harness: z.string(), reason: z.string() }),
  z.object({ kind: z.literal('notice'), level: z.enum(['info', 'warning', 'error']), text: z.string() }),
  z.object({ kind: z.literal('turn'), turnId: z.string(), status: z.string(), error: z.string().optional() }),
]);
export type HistoryRecord = z.infer<typeof HistoryRecordSchema>;
export type StoredRecord = HistoryRecord & { seq: number; session: string; at: number };

/** A message the host posted, kept until a turn has taken it (so a crash cannot drop it). */
export const InboxMessageSchema = z.object({
  room: z.string(),
  channel: z.string(),
  thread: z.string(),
  from: z.object({ id: z.string(), name: z.string().optional() }),
  text: z.string(),
  attachments: z.array(z.record(z.string(), z.unknown())).optional(),
});
export type InboxMessage = z.infer<typeof InboxMessageSchema>;
export interface InboxEntry {
  id: string;
  session: string;
  message: InboxMessage;
  at: number;
}

export type StorageKind = 'dataset' | 'codex' | 'none';

export interface ThreadStore {
  readonly kind: StorageKind;
  /** Resolves once the record is durable. */
  append(session: string, record: HistoryRecord): Promise<StoredRecord>;
  history(session: string, opts?: { afterSeq?: number; limit?: number }): Promise<StoredRecord[]>;
  /** History of every session under a key prefix (`room`, `room/channel`, ...), in write order. */
  historyByPrefix(prefix: string, opts?: { limit?: number }): Promise<StoredRecord[]>;
  enqueue(session: string, message: InboxMessage): Promise<InboxEntry>;
  /** The message was handed to Codex (turn started or steered): drop it from the inbox. */
  ack(id: string): Promise<void>;
  pending(): Promise<InboxEntry[]>;
  close(): Promise<void>;
}
