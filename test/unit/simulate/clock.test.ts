import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createActor, createMachine } from 'xstate';
import { seededIds, SimClock } from '../../../src/simulate/clock.js';
import { runScenario } from '../../../src/simulate/runner.js';
import { parseScenarioText } from '../../../src/simulate/scenario.js';
import { waitOn, within } from '../../../src/util/clock.js';

const DIR = path.join(import.meta.dirname, '../../scenarios');

describe('SimClock (XState SimulatedClock, injected)', () => {
  it('knows when timers are due, fires them on set/increment, and keeps fractional delays exact', () => {
    const clock = new SimClock(Date.UTC(2025, 0, 1), 7);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b'), 200);
    const a = clock.setTimeout(() => fired.push('a'), 137.4);
    expect(clock.next()?.at).toBe(Date.UTC(2025, 0, 1) + 137.4);
    clock.advanceTo(clock.next()!.at);
    expect(fired).toEqual(['a']);
    clock.clearTimeout(a);
    expect(clock.fireDue()).toBe(false);
    clock.advanceTo(Date.UTC(2025, 0, 1) + 200);
    expect(fired).toEqual(['a', 'b']);
    expect(clock.pending).toBe(0);
    expect(clock.elapsed).toBe(200);
  });

  it('drives the delayed events of an actor created with { clock }', () => {
    const clock = new SimClock(0);
    const actor = createActor(createMachine({ initial: 'a', states: { a: { after: { 5000: 'b' } }, b: {} } }), { clock }).start();
    clock.advanceTo(clock.next()!.at);
    expect(actor.getSnapshot().value).toBe('b');
    expect(clock.now()).toBe(5000);
  });

  it('collects errors thrown by timer callbacks instead of throwing them', () => {
    const clock = new SimClock(0);
    clock.setTimeout(() => {
      throw new Error('boom');
    }, 1);
    clock.increment(1);
    expect(String(clock.errors[0])).toContain('boom');
  });

  it('waitOn times out on the injected clock, not the global one', async () => {
    const clock = new SimClock(0);
    const actor = createActor(createMachine({ initial: 'a', states: { a: {} } })).start();
    const p = waitOn(clock, actor, (s) => s.value === 'b', { timeout: 1000 });
    clock.increment(1000);
    await expect(p).rejects.toThrow('Timeout of 1000 ms exceeded');
  });

  it('seeded ids repeat for the same seed', () => {
    const a = seededIds(3);
    const b = seededIds(3);
    expect([a(), a()]).toEqual([b(), b()]);
    expect(a()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('a scenario reads no global time or randomness from src/ (the clock is injected, nothing patched)', async () => {
    const fromSrc: string[] = [];
    const note = (what: string): void => {
      // The direct caller (XState's scheduler and pino read Date.now themselves; not ours).
      const caller = new Error().stack!.split('\n')[3] ?? '';
      if (/[/\\](src|machines)[/\\]/.test(caller) && !caller.includes('node_modules')) fromSrc.push(`${what} ${caller.trim()}`);
    };
    const real = { setTimeout: globalThis.setTimeout, now: Date.now, random: Math.random };
    globalThis.setTimeout = ((...a: Parameters<typeof setTimeout>) => (note('setTimeout'), real.setTimeout(...a))) as typeof setTimeout;
    Date.now = () => (note('Date.now'), real.now());
    Math.random = () => (note('Math.random'), real.random());
    try {
      for (const f of ['overload-retry.json', 'approval-timeout.json', 'watchdog.json', 'connection-restarts.json']) {
        const r = await runScenario(parseScenarioText(readFileSync(path.join(DIR, f), 'utf8'), f));
        expect(r.ok, f).toBe(true);
      }
    } finally {
      Object.assign(globalThis, { setTimeout: real.setTimeout });
      Date.now = real.now;
      Math.random = real.random;
    }
    expect(fromSrc).toEqual([]);
  });
});

describe('within (a bound on a promise, on an injected clock)', () => {
  it("gives the value in time, `late` past the bound (the timer cleared either way), and a rejection in time", async () => {
    const clock = new SimClock(0, 1);
    expect(await within(Promise.resolve(7), 100, 'late', clock)).toBe(7);
    expect(clock.next()).toBeUndefined();
    const never = new Promise<number>(() => undefined);
    const bounded = within(never, 100, 'late' as const, clock);
    await Promise.resolve();
    clock.advanceTo(clock.next()!.at);
    expect(await bounded).toBe('late');
    await expect(within(Promise.reject(new Error('down')), 100, 'late', clock)).rejects.toThrow('down');
    expect(clock.next()).toBeUndefined();
  });
});
