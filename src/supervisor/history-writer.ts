// History writes, in order per session, through the before_message_write hook; and reads
// (paged) that first wait for the writes queued so far.
import type { Logger } from 'pino';
import type { Hooks } from '../hooks/hooks.js';
import type { HistoryPage, HistoryRecord, StoredRecord, ThreadStore } from '../storage/types.js';

export interface HistoryQuery extends HistoryPage {
  channel?: string;
  thread?: string;
}

export class HistoryWriter {
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: () => ThreadStore | undefined,
    private readonly hooks: Hooks,
    private readonly log: Logger,
  ) {}

  write(session: string, record: HistoryRecord): void {
    const prev = this.chains.get(session) ?? Promise.resolve();
    const next = prev
      .then(async () => {
        const out = await this.hooks.run('before_message_write', { session, record });
        if (out.block) return;
        await this.store()?.append(session, out.record);
      })
      .catch((err: unknown) => this.log.error({ err, session }, 'history write failed'));
    this.chains.set(session, next);
    void next.then(() => {
      if (this.chains.get(session) === next) this.chains.delete(session);
    });
  }

  /** Resolves when the session's history writes queued so far are durable. */
  async settled(session: string): Promise<void> {
    await this.chains.get(session);
  }

  /** Resolves when the history writes queued so far are durable. */
  async flush(): Promise<void> {
    await Promise.all(this.chains.values());
  }

  /** One conversation's history, oldest first, once the writes queued so far are durable (what the llm backend sends). */
  async session(session: string): Promise<StoredRecord[]> {
    await this.flush();
    return (await this.store()?.history(session)) ?? [];
  }

  /** A room's history (or a channel's, a thread's), oldest first; paged per ThreadStore.historyByPrefix. */
  async read(room: string, q: HistoryQuery = {}): Promise<StoredRecord[]> {
    await this.flush();
    const store = this.store();
    if (!store) return [];
    const prefix = [room, q.channel, q.thread].filter(Boolean).join('/');
    const page: HistoryPage = {
      ...(q.before !== undefined ? { before: q.before } : {}),
      ...(q.after !== undefined ? { after: q.after } : {}),
      ...(q.limit !== undefined ? { limit: q.limit } : {}),
    };
    return store.historyByPrefix(prefix, page);
  }
}
