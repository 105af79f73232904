// The missing seqs a room event reader asks for again: found below the newest seq read, delivered
// once when they show up, given up after the grace period or when too many are missing at once.
import { describe, expect, it } from 'vitest';
import { SeqGaps } from '../../../src/cluster/seq-gaps.js';

function gaps(max = 10) {
  let now = 0;
  const givenUp: Array<{ count: number; lowest: number; highest: number; why: string }> = [];
  const g = new SeqGaps({ graceMs: 1_000, max, now: () => now, onGiveUp: (e) => givenUp.push(e) }, 5);
  return { g, givenUp, advance: (ms: number) => (now += ms) };
}

describe('SeqGaps', () => {
  it('a seq skipped over is asked for until it shows up, then delivered once; an old one is not delivered again', () => {
    const { g } = gaps();
    expect(g.see(8)).toBe(true);
    expect(g.pending()).toEqual([6, 7]);
    expect(g.see(7)).toBe(true);
    expect(g.see(7)).toBe(false);
    expect(g.see(5)).toBe(false);
    expect(g.pending()).toEqual([6]);
    expect(g.last).toBe(8);
  });

  it('gives a missing seq up after the grace period, and a gap wider than the bound at once', () => {
    const { g, givenUp, advance } = gaps(3);
    g.see(7);
    advance(999);
    expect(g.pending()).toEqual([6]);
    advance(1);
    expect(g.pending()).toEqual([]);
    expect(givenUp).toEqual([{ count: 1, lowest: 6, highest: 6, why: 'not committed within 1000 ms' }]);
    expect(g.see(6)).toBe(false);
    g.see(20);
    expect(g.pending()).toEqual([]);
    expect(givenUp[1]).toMatchObject({ count: 12, lowest: 8, highest: 19 });
  });
});
