// Virtual time for simulations: XState's `SimulatedClock`, injected. No global is patched.
//
// The runner creates one `SimClock` per run and hands it to the composition root
// (`buildCodexStack(settings, { clock, ids })`), which threads it everywhere the stack keeps
// time: the connection (its machine actor's `after` delays through `createActor(..., { clock })`,
// RPC deadlines, the server-request backstop, overload-retry sleeps, jitter), every approval
// actor and session actor (turns are their children, so the whole actor system's delayed
// events) and the managers' idle sweep and bounded waits. Timers only fire when the runner
// moves the clock (`set` / `increment`), so a 10-minute approval timeout takes no real time
// and runs the same every time. The simulator's own readings (frame times, room events it
// makes, bindings it seeds, trace timestamps, scripted tool delays) use the same clock.
//
// What `SimulatedClock` lacks for stepping, this subclass adds: the due time of every pending
// timer (`next()`), so the runner can advance timer by timer and let promises settle in
// between; the errors thrown by timer callbacks (in real Node they would be uncaught); and a
// seeded `random()` for connection jitter. Message and approval ids come from `seededIds`
// through the composition root, so events and traces are identical from run to run.
//
// Microtasks (promises) are left alone; the runner lets them drain with `setImmediate` before
// it moves the clock again.
import { SimulatedClock } from 'xstate';
import type { TimerClock } from '../util/clock.js';

/** Let every queued microtask run (one real macrotask turn). */
export function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A seeded PRNG (mulberry32): the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Version-4-shaped UUIDs from a seeded sequence (the simulation's message and approval ids). */
export function seededIds(seed: number): () => string {
  const random = seededRandom(seed ^ 0x5eed);
  return () => {
    const b = Array.from({ length: 16 }, () => Math.floor(random() * 256));
    b[6] = (b[6]! & 0x0f) | 0x40;
    b[8] = (b[8]! & 0x3f) | 0x80;
    const h = b.map((x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  };
}

/** XState's `SimulatedClock` that knows when its timers are due. */
export class SimClock extends SimulatedClock implements TimerClock {
  readonly startAt: number;
  /** Errors thrown by timer callbacks (in real Node they would be uncaught exceptions). */
  readonly errors: unknown[] = [];
  /** Seeded randomness (connection jitter). */
  readonly random: () => number;
  private readonly due = new Map<number, { at: number; seq: number }>();
  private seq = 0;
  private fired = 0;

  constructor(start = Date.UTC(2025, 0, 1), seed = 1) {
    super();
    this.set(start);
    this.startAt = start;
    this.random = seededRandom(seed);
  }

  override setTimeout(fn: (...args: unknown[]) => void, timeout: number): number {
    const at = this.now() + Math.max(0, Number.isFinite(Number(timeout)) ? Number(timeout) : 0);
    // Handed over as `at - now`, the very difference the base class checks when time reaches
    // `at`, so a fractional delay (jitter) is due exactly at `at`, not a rounding error later.
    const id: number = super.setTimeout(() => {
      this.due.delete(id);
      this.fired++;
      try {
        fn();
      } catch (err) {
        this.errors.push(err);
      }
    }, at - this.now());
    this.due.set(id, { at, seq: this.seq++ });
    return id;
  }

  override clearTimeout(id: number): void {
    this.due.delete(id);
    super.clearTimeout(id);
  }

  get elapsed(): number {
    return this.now() - this.startAt;
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.due.size;
  }

  /** The earliest pending timer's due time. */
  next(): { at: number } | undefined {
    let best: { at: number; seq: number } | undefined;
    for (const t of this.due.values()) {
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best ? { at: best.at } : undefined;
  }

  /** Fire the timers due now (`increment(0)`); false when none was. */
  fireDue(): boolean {
    const before = this.fired;
    this.increment(0);
    return this.fired > before;
  }

  /** Move time to `at` (never backwards), firing the timers due by then. */
  advanceTo(at: number): void {
    if (at > this.now()) this.set(at);
  }
}
