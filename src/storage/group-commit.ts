// Group commit for the dataset store. With synchronous=FULL every transaction ends in an fsync
// (≈ 3 ms here), and the embedded driver runs it on the main thread, so one transaction per
// write stalls every conversation of the host once per write. Statements queued in one turn of
// the event loop run as one transaction instead: one fsync for all of them, each caller's
// promise still resolving only once its write is durable.
import type { Client, InStatement, ResultSet } from '@libsql/client';

interface Queued {
  stmt: InStatement;
  resolve: (r: ResultSet) => void;
  reject: (err: unknown) => void;
}

export class GroupCommit {
  private queue: Queued[] = [];
  private running: Promise<void> | undefined;
  /** Statements run so far and transactions they took (what the grouping saved, for tests). */
  readonly stats = { statements: 0, transactions: 0 };

  constructor(
    private readonly db: Client,
    /** When the queued statements run: after the I/O of this loop turn (tests pass their own). */
    private readonly schedule: (fn: () => void) => void = (fn) => setImmediate(fn),
  ) {}

  /** Runs `stmt` in order with every other statement of this queue; resolves once committed. */
  run(stmt: InStatement): Promise<ResultSet> {
    return new Promise((resolve, reject) => {
      this.queue.push({ stmt, resolve, reject });
      if (this.queue.length === 1 && !this.running) this.schedule(() => void this.flush());
    });
  }

  /** Resolves when everything queued so far has run. */
  async drain(): Promise<void> {
    while (this.running || this.queue.length) await (this.running ?? this.flush());
  }

  private flush(): Promise<void> {
    if (this.running || !this.queue.length) return this.running ?? Promise.resolve();
    const batch = this.queue;
    this.queue = [];
    this.running = this.commit(batch).finally(() => {
      this.running = undefined;
      // Statements queued while this batch ran form the next one.
      if (this.queue.length) this.schedule(() => void this.flush());
    });
    return this.running;
  }

  private async commit(batch: Queued[]): Promise<void> {
    this.stats.statements += batch.length;
    if (batch.length === 1) {
      this.stats.transactions++;
      const [only] = batch as [Queued];
      await this.db.execute(only.stmt).then(only.resolve, only.reject);
      return;
    }
    let results: ResultSet[];
    try {
      this.stats.transactions++;
      results = await this.db.batch(batch.map((q) => q.stmt), 'write');
    } catch {
      // The transaction rolled back as a whole: one bad statement must not fail the others'
      // writes, so each runs alone and only the bad one is rejected.
      for (const q of batch) {
        this.stats.transactions++;
        await this.db.execute(q.stmt).then(q.resolve, q.reject);
      }
      return;
    }
    batch.forEach((q, i) => q.resolve(results[i]!));
  }
}
