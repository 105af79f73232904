// Group commit for PostgreSQL writes: the writes made in one turn of the event loop, and those
// made while a batch is in flight, go to the database together in one statement (at most one
// batch in flight). Per statement PostgreSQL pays a round trip, a parse/plan unless prepared, and
// a commit; grouped, a busy node pays them once per batch instead of once per write. Each
// subclass writes a batch and settles every waiter with its own result or error.

/** Writes per statement at most (the rest go in the next one). */
export const MAX_BATCH = 500;

export abstract class Grouped<W extends { reject: (err: unknown) => void }> {
  protected queue: W[] = [];
  private running = false;
  private scheduled = false;
  /** Statements run and writes they carried (what the grouping saved, for tests). */
  readonly stats = { statements: 0, writes: 0 };

  protected push(w: W): void {
    this.queue.push(w);
    this.schedule();
  }

  /** After the I/O of this loop turn, so the writes it makes go together; never two batches at once. */
  private schedule(): void {
    if (this.running || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.running || !this.queue.length) return;
    this.running = true;
    const batch = this.next();
    try {
      this.stats.statements++;
      this.stats.writes += batch.length;
      await this.commit(batch);
    } catch (err) {
      // commit settles every waiter itself; this is only a safety net (a settled promise ignores it).
      for (const w of batch) w.reject(err);
    } finally {
      this.running = false;
      if (this.queue.length) this.schedule();
    }
  }

  /** The next batch, taken off the queue (default: the oldest MAX_BATCH writes). */
  protected next(): W[] {
    return this.queue.splice(0, MAX_BATCH);
  }

  protected abstract commit(batch: W[]): Promise<void>;
}
