// `none` and `codex` storage: history and inbox live in memory for the process lifetime only,
// so late joiners of a running room still see the conversation. Session owners and thread
// rooms are kept in `metaFile` when one is given (see meta-file.ts).
import { randomUUID } from 'node:crypto';
import { loadMeta, saveMeta, type SessionMeta } from './meta-file.js';
import { pageOf, planPage } from './page.js';
import {
  HistoryRecordSchema,
  roomOfSession,
  type HistoryPage,
  type HistoryRecord,
  type InboxEntry,
  type InboxMessage,
  type SessionOwner,
  type StoredRecord,
  type ThreadRoom,
  type ThreadStore,
} from './types.js';

export class MemoryStore implements ThreadStore {
  readonly kind: 'none' | 'codex';
  private seq = 0;
  private readonly records: StoredRecord[] = [];
  private readonly inbox = new Map<string, InboxEntry>();
  private readonly meta: SessionMeta;
  private saving: Promise<void> = Promise.resolve();
  private readonly now: () => number;

  constructor(
    kind: 'none' | 'codex' = 'none',
    private readonly opts: { metaFile?: string; now?: () => number } = {},
  ) {
    this.kind = kind;
    this.now = opts.now ?? (() => Date.now());
    this.meta = opts.metaFile ? loadMeta(opts.metaFile) : { owners: new Map(), threads: new Map() };
  }

  async append(session: string, record: HistoryRecord): Promise<StoredRecord> {
    const stored = { ...HistoryRecordSchema.parse(record), seq: ++this.seq, session, at: this.now() };
    this.records.push(stored);
    return stored;
  }

  async history(session: string, opts: { afterSeq?: number; limit?: number } = {}): Promise<StoredRecord[]> {
    return this.records.filter((r) => r.session === session && r.seq > (opts.afterSeq ?? 0)).slice(0, opts.limit ?? 10_000);
  }

  async lastOfKind<K extends HistoryRecord['kind']>(session: string, kind: K): Promise<Extract<StoredRecord, { kind: K }> | undefined> {
    for (let i = this.records.length - 1; i >= 0; i--) {
      const r = this.records[i]!;
      if (r.session === session && r.kind === kind) return r as Extract<StoredRecord, { kind: K }>;
    }
    return undefined;
  }

  async historyByPrefix(prefix: string, opts: HistoryPage = {}): Promise<StoredRecord[]> {
    return pageOf(
      this.records.filter((r) => r.session === prefix || r.session.startsWith(`${prefix}/`)),
      planPage(opts),
    );
  }

  async enqueue(session: string, message: InboxMessage): Promise<InboxEntry> {
    const e = { id: randomUUID(), session, message, at: this.now() };
    this.inbox.set(e.id, e);
    return e;
  }

  async take(id: string, turnId: string, threadId: string | undefined): Promise<void> {
    const e = this.inbox.get(id);
    if (e) this.inbox.set(id, { ...e, turnId, ...(threadId ? { threadId } : {}) });
  }

  async ack(id: string): Promise<void> {
    this.inbox.delete(id);
  }

  async pending(): Promise<InboxEntry[]> {
    return [...this.inbox.values()];
  }

  async claimOwner(session: string, owner: { id: string; name?: string }): Promise<SessionOwner> {
    const known = this.meta.owners.get(session);
    if (known) return known;
    const rec: SessionOwner = { session, owner: owner.id, ...(owner.name ? { name: owner.name } : {}), at: this.now() };
    this.meta.owners.set(session, rec);
    await this.persist();
    return rec;
  }

  async owners(): Promise<SessionOwner[]> {
    return [...this.meta.owners.values()];
  }

  async recordThread(threadId: string, session: string): Promise<void> {
    if (this.meta.threads.has(threadId)) return;
    this.meta.threads.set(threadId, { threadId, room: roomOfSession(session), session, at: this.now() });
    await this.persist();
  }

  async threadsOfRoom(room: string, limit = 50): Promise<ThreadRoom[]> {
    return [...this.meta.threads.values()].filter((t) => t.room === room).reverse().slice(0, limit);
  }

  async roomOfThread(threadId: string): Promise<string | undefined> {
    return this.meta.threads.get(threadId)?.room;
  }

  /** One write at a time, each with everything known so far. */
  private persist(): Promise<void> {
    const file = this.opts.metaFile;
    if (!file) return Promise.resolve();
    const next = this.saving.catch(() => undefined).then(() => saveMeta(file, this.meta));
    this.saving = next;
    return next;
  }

  async close(): Promise<void> {
    await this.saving.catch(() => undefined);
  }
}
