// Thread storage: the room thread's durable history and the inbox of accepted messages.
import { z } from 'zod';

export const HistoryRecordSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('message'),
    role: z.enum(['user', 'assistant']),
    author: z.object({ id: z.string(), name: z.string().optional() }).optional(),
    text: z.string(),
    turnId: z.string().optional(),
    /** The turn was interrupted or failed: what had streamed by then. */
    partial: z.literal(true).optional(),
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
  /** `role` is the verified room role when the message came through a room (absent: the host vouched). */
  from: z.object({ id: z.string(), name: z.string().optional(), role: z.string().optional() }),
  text: z.string(),
  attachments: z.array(z.record(z.string(), z.unknown())).optional(),
  /** The agent the message was posted for (absent: the default agent); kept so a queued message runs on it. */
  agent: z.string().max(200).optional(),
});
export type InboxMessage = z.infer<typeof InboxMessageSchema>;
export interface InboxEntry {
  id: string;
  session: string;
  message: InboxMessage;
  at: number;
  /** Set once a turn took the message (Codex has it); the entry is dropped when that turn ends. */
  turnId?: string;
  threadId?: string;
  /** `postgres` storage: a uuid given at enqueue, sent with the message so a new driver can tell whether Codex has it. */
  clientUserMessageId?: string;
}

/** Paging of history: newest `limit` before `before` (or overall), or oldest `limit` after `after`. */
export interface HistoryPage {
  before?: number;
  after?: number;
  limit?: number;
}

/** Default and maximum page: the whole history of any but a very long room. */
export const HISTORY_MAX_PAGE = 10_000;

/** Who owns a conversation (its first poster), persisted so a restart cannot change it. */
export interface SessionOwner {
  session: string;
  owner: string;
  name?: string;
  at: number;
}

/** A Codex thread a conversation started or bound, and the room it belongs to. */
export interface ThreadRoom {
  threadId: string;
  room: string;
  session: string;
  at: number;
}

export type StorageKind = 'dataset' | 'codex' | 'none' | 'postgres';

export interface ThreadStore {
  readonly kind: StorageKind;
  /** Resolves once the record is durable. */
  append(session: string, record: HistoryRecord): Promise<StoredRecord>;
  history(session: string, opts?: { afterSeq?: number; limit?: number }): Promise<StoredRecord[]>;
  /** The newest record of `kind` in `session` (one indexed read, however long the history). */
  lastOfKind<K extends HistoryRecord['kind']>(session: string, kind: K): Promise<Extract<StoredRecord, { kind: K }> | undefined>;
  /**
   * History of every session under a key prefix (`room`, `room/channel`, ...), oldest first.
   * No cursor and no limit: the oldest HISTORY_MAX_PAGE records (what callers always had).
   * `limit` without a cursor, or `before`: the newest `limit` records (older than `before`).
   * `after`: the oldest `limit` records newer than `after`.
   */
  historyByPrefix(prefix: string, opts?: HistoryPage): Promise<StoredRecord[]>;
  enqueue(session: string, message: InboxMessage): Promise<InboxEntry>;
  /** A turn took the message (Codex has it): kept, marked, until that turn ends. */
  take(id: string, turnId: string, threadId: string | undefined): Promise<void>;
  /** The message is done with (its turn ended, or it was a command the session took): drop it. */
  ack(id: string): Promise<void>;
  pending(): Promise<InboxEntry[]>;
  /** The owner of `session`: the one already recorded, else `owner` (recorded now). */
  claimOwner(session: string, owner: { id: string; name?: string }): Promise<SessionOwner>;
  owners(): Promise<SessionOwner[]>;
  /** Remember the room of a thread; the first room to record a thread keeps it. */
  recordThread(threadId: string, session: string): Promise<void>;
  /** Threads of `room`, newest first. */
  threadsOfRoom(room: string, limit?: number): Promise<ThreadRoom[]>;
  roomOfThread(threadId: string): Promise<string | undefined>;
  close(): Promise<void>;
}

/** The room of a conversation key (`room/channel/thread[/@participant]`). */
export const roomOfSession = (session: string): string => session.split('/')[0] ?? session;
