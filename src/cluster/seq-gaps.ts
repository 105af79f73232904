// The seqs a room event reader has not seen below the highest one it read. A row takes its seq
// from a sequence at insert but becomes visible at commit, and two nodes' inserts commit in
// either order: a reader that saw seq 7 may see seq 6 only later. The reader asks again for
// each missing seq until it shows up or its grace period ends (a rolled-back insert never will).
//
// Order per conversation holds without waiting: one conversation's events come from its one
// driving node, which publishes them one after another (each committed before the next is
// inserted), so a later seq of the same conversation is never visible before an earlier one.

export interface SeqGapsOptions {
  /** How long a missing seq is asked for again before it is given up (ms). */
  graceMs: number;
  /** At most this many missing seqs are tracked; a larger gap is given up at once. */
  max: number;
  now: () => number;
  /** Told the seqs given up (how many, the lowest and highest), with why. */
  onGiveUp: (e: { count: number; lowest: number; highest: number; why: string }) => void;
}

export class SeqGaps {
  /** Missing seq → when it was first found missing. */
  private readonly missing = new Map<number, number>();
  private highest: number;

  constructor(
    private readonly o: SeqGapsOptions,
    start = 0,
  ) {
    this.highest = start;
  }

  /** The highest seq read so far. */
  get last(): number {
    return this.highest;
  }

  /** The missing seqs still asked for (the expired ones are given up first). */
  pending(): number[] {
    const now = this.o.now();
    const expired = [...this.missing].filter(([, since]) => now - since >= this.o.graceMs).map(([seq]) => seq);
    if (expired.length) {
      for (const seq of expired) this.missing.delete(seq);
      this.o.onGiveUp({ count: expired.length, lowest: Math.min(...expired), highest: Math.max(...expired), why: `not committed within ${this.o.graceMs} ms` });
    }
    return [...this.missing.keys()];
  }

  /** A row was read: true when it is new (deliver it), false when it was delivered already. */
  see(seq: number): boolean {
    if (this.missing.delete(seq)) return true;
    if (seq <= this.highest) return false;
    const gap = seq - this.highest - 1;
    if (gap > 0 && this.missing.size + gap > this.o.max) {
      this.o.onGiveUp({ count: gap, lowest: this.highest + 1, highest: seq - 1, why: `more than ${this.o.max} seqs missing at once` });
    } else {
      const now = this.o.now();
      for (let s = this.highest + 1; s < seq; s++) this.missing.set(s, now);
    }
    this.highest = seq;
    return true;
  }
}
