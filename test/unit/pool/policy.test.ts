// The pool's placement and drain rules (pure functions) and its routing table.
import { describe, expect, it } from 'vitest';
import { effectiveLoaded, idleRecyclable, noLimits, overLimits, placeMember, type MemberLoad, type PoolLimits } from '../../../src/pool/policy.js';
import { notLoaded, resultThread, routeOf, threadOf } from '../../../src/pool/routing.js';
import { turnNotTaken } from '../../../src/turn/policy.js';

const member = (id: string, loaded: number, o: Partial<MemberLoad> = {}): MemberLoad => ({ id, accepting: true, loaded, busy: 0, ...o });
const limits = (o: Partial<PoolLimits> = {}): PoolLimits => ({ ...noLimits, recyclable: true, ...o });

describe('placement', () => {
  it('picks the accepting member with the fewest loaded threads, then the fewest busy, then the first', () => {
    expect(placeMember([member('a', 3), member('b', 1), member('c', 2)])).toBe('b');
    expect(placeMember([member('a', 1, { busy: 2 }), member('b', 1, { busy: 1 })])).toBe('b');
    expect(placeMember([member('a', 1), member('b', 1)])).toBe('a');
  });

  it('never places on a member that does not accept (draining, recycling, down); none accepting: undefined', () => {
    expect(placeMember([member('a', 0, { accepting: false }), member('b', 9)])).toBe('b');
    expect(placeMember([member('a', 0, { accepting: false })])).toBeUndefined();
    expect(placeMember([])).toBeUndefined();
  });
});

describe('limits', () => {
  it('a member at maxLoadedThreads is over its limits; the larger of its own count and its thread/loaded/list counts', () => {
    const l = limits({ maxLoadedThreads: 3 });
    expect(overLimits({ loaded: 2, listed: undefined, rssBytes: undefined }, l)).toBeUndefined();
    expect(overLimits({ loaded: 3, listed: undefined, rssBytes: undefined }, l)).toBe('3 loaded threads (limit 3)');
    expect(overLimits({ loaded: 1, listed: 4, rssBytes: undefined }, l)).toBe('4 loaded threads (limit 3)');
    expect(effectiveLoaded({ loaded: 5, listed: 2 })).toBe(5);
  });

  it('RSS above maxRssBytes is over; an unsampled RSS is not', () => {
    const l = limits({ maxRssBytes: 200 * 1024 * 1024 });
    expect(overLimits({ loaded: 0, listed: 0, rssBytes: 250 * 1024 * 1024 }, l)).toBe('RSS 250 MB (limit 200 MB)');
    expect(overLimits({ loaded: 0, listed: 0, rssBytes: 150 * 1024 * 1024 }, l)).toBeUndefined();
    expect(overLimits({ loaded: 0, listed: 0, rssBytes: undefined }, l)).toBeUndefined();
  });

  it('limits do not apply to members that cannot be recycled (remote app-servers)', () => {
    expect(overLimits({ loaded: 99, listed: 99, rssBytes: 1e12 }, { ...noLimits, maxLoadedThreads: 1, maxRssBytes: 1 })).toBeUndefined();
    expect(idleRecyclable({ loaded: 5, listed: 5 }, { ...noLimits, recycleIdleAfterMs: 10 })).toBe(false);
  });

  it('idle recycling needs the setting and at least one loaded thread', () => {
    expect(idleRecyclable({ loaded: 1, listed: undefined }, limits({ recycleIdleAfterMs: 10 }))).toBe(true);
    expect(idleRecyclable({ loaded: 0, listed: 0 }, limits({ recycleIdleAfterMs: 10 }))).toBe(false);
    expect(idleRecyclable({ loaded: 1, listed: 1 }, limits())).toBe(false);
  });
});

describe('routing', () => {
  it('classifies methods: new threads are placed, resumes follow affinity, turns need a loaded thread', () => {
    expect(routeOf('thread/start', undefined)).toBe('place');
    expect(routeOf('thread/fork', 't')).toBe('place');
    expect(routeOf('thread/resume', 't')).toBe('resume');
    expect(routeOf('turn/start', 't')).toBe('work');
    expect(routeOf('review/start', 't')).toBe('work');
    expect(routeOf('turn/steer', 't')).toBe('thread');
    expect(routeOf('turn/interrupt', 't')).toBe('thread');
    expect(routeOf('model/list', undefined)).toBe('any');
  });

  it('reads thread ids from params and results, nothing else', () => {
    expect(threadOf({ threadId: 't1' })).toBe('t1');
    expect(threadOf({ threadId: 5 })).toBeUndefined();
    expect(threadOf(undefined)).toBeUndefined();
    expect(resultThread({ thread: { id: 't2' } })).toBe('t2');
    expect(resultThread({ thread: {} })).toBeUndefined();
  });

  it('a turn for a thread no member has is "not taken": the session resumes and retries it', () => {
    const err = notLoaded('turn/start', 'abc');
    expect(err.message).toContain('abc');
    expect(turnNotTaken(err)).toBe(true);
  });
});
