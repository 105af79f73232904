// Group commit for PostgreSQL writes: the writes made in one turn of the event loop, and those
// made while a batch is in flight, go to the database together in one statement (at most one
// batch in flight). Per statement PostgreSQL pays a round trip, a parse/plan unless prepared, and
// a commit; grouped, a busy node pays them once per batch instead of once per write. Each
// subclass writes a batch and settles every waiter with its own result or error.

/** Writes per statement at most (the rest go in the next one). */
export const MAX_BATCH = 500;

/** Statements run and the writes they carried, since the writer was made. */
export interface GroupedStats {
  statements: number;
  writes: number;
}

export abstract class Grouped<W extends { reject: (err: unknown) => void }> {
  protected queue: W[] = [];
  private running = false;
  private scheduled = false;
  /** Statements run and writes they carried (what the grouping saved: tests, metrics). */
  readonly stats: GroupedStats = { statements: 0, writes: 0 };

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
      await this.commitOrSplit(batch);
    } finally {
      this.running = false;
      if (this.queue.length) this.schedule();
    }
  }

  /**
   * A failed statement fails every waiter of its batch; but when the database refused a value
   * (SQLSTATE class 22: a NUL in a text, a malformed uuid) nothing of the batch was written and
   * one caller's data is to blame: halves are retried in order until the bad write fails alone
   * and every other one lands, as it would have without grouping.
   */
  private async commitOrSplit(batch: W[]): Promise<void> {
    try {
      this.stats.statements++;
      this.stats.writes += batch.length;
      await this.commit(batch);
    } catch (err) {
      if (batch.length > 1 && isDataError(err)) {
        const half = Math.ceil(batch.length / 2);
        await this.commitOrSplit(batch.slice(0, half));
        await this.commitOrSplit(batch.slice(half));
        return;
      }
      // A waiter commit already settled ignores this.
      for (const w of batch) w.reject(err);
    }
  }

  /** The next batch, taken off the queue (default: the oldest MAX_BATCH writes). */
  protected next(): W[] {
    return this.queue.splice(0, MAX_BATCH);
  }

  protected abstract commit(batch: W[]): Promise<void>;
}

/** SQLSTATE class 22 (data exception): caused by a value, not by the database or the connection. */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('22');
}
