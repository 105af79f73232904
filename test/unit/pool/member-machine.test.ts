// The pool member's lifecycle on virtual time: drained at its limits, recycled once it has no
// work for the drain grace, recycled after recycleIdleAfterMs of idleness, samples of an old
// process ignored.
import { createActor, fromPromise } from 'xstate';
import { afterEach, describe, expect, it } from 'vitest';
import { poolMemberMachine, type MemberSample, type PoolMemberEmitted } from '../../../machines/pool-member.machine.js';
import { noLimits, type PoolLimits } from '../../../src/pool/policy.js';
import { SimClock } from '../../../src/simulate/clock.js';

const actors: Array<{ stop(): void }> = [];
afterEach(() => {
  for (const a of actors.splice(0)) a.stop();
});

function member(limits: Partial<PoolLimits>, sample: () => Promise<MemberSample> = () => new Promise(() => {})) {
  const clock = new SimClock();
  const logic = poolMemberMachine.provide({ actors: { sample: fromPromise(sample) } });
  const actor = createActor(logic, {
    clock,
    input: { memberId: 'm0', limits: { ...noLimits, recyclable: true, sampleEveryMs: 1_000, drainGraceMs: 500, ...limits } },
  });
  const emitted: PoolMemberEmitted[] = [];
  actor.on('*', (e) => emitted.push(e));
  actors.push(actor);
  actor.start();
  const phase = () => {
    const v = actor.getSnapshot().value as { lifecycle: string | Record<string, string> };
    return typeof v.lifecycle === 'string' ? v.lifecycle : `${Object.keys(v.lifecycle)[0]}.${Object.values(v.lifecycle)[0]}`;
  };
  return { actor, clock, emitted, phase };
}

describe('pool member machine', () => {
  it('accepts only once its connection is ready', () => {
    const m = member({});
    expect(m.phase()).toBe('down');
    expect(m.actor.getSnapshot().hasTag('accepting')).toBe(false);
    m.actor.send({ type: 'CONNECTION.READY', pid: 42 });
    expect(m.phase()).toBe('active.working');
    expect(m.actor.getSnapshot().hasTag('accepting')).toBe(true);
    expect(m.emitted).toEqual([{ type: 'member.accepting', memberId: 'm0' }]);
  });

  it('at maxLoadedThreads it drains, waits for its work to end and the drain grace, then recycles', () => {
    const m = member({ maxLoadedThreads: 2 });
    m.actor.send({ type: 'CONNECTION.READY', pid: 42 });
    m.actor.send({ type: 'THREAD.PLACED' });
    m.actor.send({ type: 'WORK.STARTED' });
    expect(m.phase()).toBe('active.working');
    m.actor.send({ type: 'THREAD.PLACED' });
    expect(m.phase()).toBe('draining.working');
    expect(m.actor.getSnapshot().hasTag('accepting')).toBe(false);
    expect(m.emitted).toContainEqual({ type: 'member.draining', memberId: 'm0', reason: '2 loaded threads (limit 2)' });
    m.clock.increment(10_000);
    expect(m.phase()).toBe('draining.working'); // a turn still runs: no recycle
    m.actor.send({ type: 'WORK.ENDED' });
    expect(m.phase()).toBe('draining.quiet');
    m.clock.increment(400);
    m.actor.send({ type: 'WORK.STARTED' }); // a just-bound thread starts its turn: the grace starts over
    m.actor.send({ type: 'WORK.ENDED' });
    m.clock.increment(400);
    expect(m.phase()).toBe('draining.quiet');
    m.clock.increment(100);
    expect(m.phase()).toBe('recycling');
    expect(m.emitted.at(-1)).toEqual({ type: 'member.recycle', memberId: 'm0', reason: '2 loaded threads (limit 2)' });
    expect(m.actor.getSnapshot().context).toMatchObject({ loaded: 0, busy: 0, recycles: 1 });
    m.actor.send({ type: 'CONNECTION.LOST' }); // the planned restart: expected, stays recycling
    expect(m.phase()).toBe('recycling');
    m.actor.send({ type: 'CONNECTION.READY', pid: 43 });
    expect(m.phase()).toBe('active.working');
    expect(m.actor.getSnapshot().context.pid).toBe(43);
  });

  it('an active member whose threads had no work for recycleIdleAfterMs is recycled; work resets the wait', () => {
    const m = member({ recycleIdleAfterMs: 5_000 });
    m.actor.send({ type: 'CONNECTION.READY', pid: 42 });
    m.clock.increment(60_000);
    expect(m.phase()).toBe('active.working'); // no threads: nothing to unload
    m.actor.send({ type: 'THREAD.PLACED' });
    expect(m.phase()).toBe('active.idle');
    m.clock.increment(4_000);
    m.actor.send({ type: 'WORK.STARTED' });
    m.clock.increment(4_000);
    m.actor.send({ type: 'WORK.ENDED' });
    m.clock.increment(4_999);
    expect(m.phase()).toBe('active.idle');
    m.clock.increment(1);
    expect(m.phase()).toBe('recycling');
    expect(m.emitted.at(-1)).toEqual({ type: 'member.recycle', memberId: 'm0', reason: '1 threads idle for 5000 ms' });
  });

  it('RSS over maxRssBytes (sampled) drains it; a sample of a replaced process is ignored', async () => {
    let answer: MemberSample = { pid: 41, rssBytes: 900 * 1024 * 1024, listed: 0 };
    const m = member({ maxRssBytes: 500 * 1024 * 1024 }, async () => answer);
    m.actor.send({ type: 'CONNECTION.READY', pid: 42 });
    m.clock.increment(1_000);
    await new Promise((r) => setTimeout(r, 0));
    expect(m.phase()).toBe('active.working'); // pid 41 is not this process
    answer = { pid: 42, rssBytes: 900 * 1024 * 1024, listed: 3 };
    m.clock.increment(1_000);
    await new Promise((r) => setTimeout(r, 0));
    expect(m.actor.getSnapshot().context).toMatchObject({ rssBytes: 900 * 1024 * 1024, listed: 3 });
    // No work: straight through the drain grace to recycling.
    m.clock.increment(500);
    expect(m.phase()).toBe('recycling');
    expect(m.emitted).toContainEqual({ type: 'member.draining', memberId: 'm0', reason: 'RSS 900 MB (limit 500 MB)' });
  });

  it('a crash unloads it and it waits for the connection; a failed sample is skipped', async () => {
    const m = member({ maxLoadedThreads: 5 }, () => Promise.reject(new Error('slow')));
    m.actor.send({ type: 'CONNECTION.READY', pid: 42 });
    m.actor.send({ type: 'THREAD.PLACED' });
    m.clock.increment(1_000);
    await new Promise((r) => setTimeout(r, 0));
    expect(m.actor.getSnapshot().status).toBe('active');
    m.actor.send({ type: 'CONNECTION.LOST' });
    expect(m.phase()).toBe('down');
    expect(m.actor.getSnapshot().context).toMatchObject({ loaded: 0, pid: undefined });
    expect(m.emitted.at(-1)).toEqual({ type: 'member.down', memberId: 'm0' });
  });

  it('a connection that fails or stops during a recycle leaves it down (not "recycling" for ever)', () => {
    const m = member({ maxLoadedThreads: 1, drainGraceMs: 0 });
    m.actor.send({ type: 'CONNECTION.READY', pid: 42 });
    m.actor.send({ type: 'THREAD.PLACED' });
    m.clock.increment(0);
    expect(m.phase()).toBe('recycling');
    m.actor.send({ type: 'CONNECTION.LOST' });
    expect(m.phase()).toBe('recycling');
    m.actor.send({ type: 'CONNECTION.ENDED' });
    expect(m.phase()).toBe('down');
    const downs = m.emitted.filter((e) => e.type === 'member.down').length;
    m.actor.send({ type: 'CONNECTION.ENDED' });
    expect(m.emitted.filter((e) => e.type === 'member.down').length).toBe(downs);
  });
});
