// `none` storage: nothing persisted. History and inbox live in memory for the process
// lifetime only, so late joiners of a running room still see the conversation.
import { randomUUID } from 'node:crypto';
import { HistoryRecordSchema, type HistoryRecord, type InboxEntry, type InboxMessage, type StoredRecord, type ThreadStore } from './types.js';

export class MemoryStore implements ThreadStore {
  readonly kind: 'none' | 'codex';
  private seq = 0;
  private readonly records: StoredRecord[] = [];
  private readonly inbox = new Map<string, InboxEntry>();

  constructor(kind: 'none' | 'codex' = 'none') {
    this.kind = kind;
  }

  async append(session: string, record: HistoryRecord): Promise<StoredRecord> {
    const stored = { ...HistoryRecordSchema.parse(record), seq: ++this.seq, session, at: Date.now() };
    this.records.push(stored);
    return stored;
  }

  async history(session: string, opts: { afterSeq?: number; limit?: number } = {}): Promise<StoredRecord[]> {
    return this.records.filter((r) => r.session === session && r.seq > (opts.afterSeq ?? 0)).slice(0, opts.limit ?? 10_000);
  }

  async historyByPrefix(prefix: string, opts: { limit?: number } = {}): Promise<StoredRecord[]> {
    return this.records.filter((r) => r.session === prefix || r.session.startsWith(`${prefix}/`)).slice(0, opts.limit ?? 10_000);
  }

  async enqueue(session: string, message: InboxMessage): Promise<InboxEntry> {
    const e = { id: randomUUID(), session, message, at: Date.now() };
    this.inbox.set(e.id, e);
    return e;
  }

  async ack(id: string): Promise<void> {
    this.inbox.delete(id);
  }

  async pending(): Promise<InboxEntry[]> {
    return [...this.inbox.values()];
  }

  async close(): Promise<void> {}
}
