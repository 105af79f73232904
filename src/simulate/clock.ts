// Virtual time for simulations. While installed, the global `setTimeout`, `clearTimeout`,
// `setInterval`, `clearInterval`, `Date` (`Date.now()` and `new Date()` without arguments)
// and `Math.random` are replaced: timers only fire
// when the runner advances the clock, `Date.now()` is the virtual time, and randomness is a
// seeded sequence. Everything Switchboard schedules (XState `after` delays, RPC timeouts,
// the idle watchdog, approval timeouts, backoff, overload retries) goes through these
// globals, so a 10-minute approval timeout takes no real time and runs the same every time.
//
// `crypto.randomUUID` is seeded too (message and approval ids), so events and traces of a
// scenario are identical from run to run; the ESM bindings are updated with Node's
// `syncBuiltinESMExports()` and restored afterwards.
//
// Microtasks (promises) are left alone; the runner lets them drain with the REAL
// `setImmediate` (captured at import) before it fires the next timer.

import { createRequire, syncBuiltinESMExports } from 'node:module';

const nodeCrypto = createRequire(import.meta.url)('node:crypto') as { randomUUID: () => string };

const real = {
  randomUUID: nodeCrypto.randomUUID,
  setTimeout: globalThis.setTimeout,
  clearTimeout: globalThis.clearTimeout,
  setInterval: globalThis.setInterval,
  clearInterval: globalThis.clearInterval,
  setImmediate: globalThis.setImmediate,
  Date: globalThis.Date,
  random: Math.random,
};

/** Let every queued microtask run (one real macrotask turn). */
export function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => real.setImmediate(resolve));
}

/** The real `setTimeout`, for code that must wait in real time while a clock is installed. */
export const realSetTimeout = real.setTimeout;

interface Timer {
  id: number;
  at: number;
  seq: number;
  fn: (...args: unknown[]) => void;
  args: unknown[];
  interval: number | undefined;
}

/** What `setTimeout` returns under the virtual clock: a Node `Timeout` look-alike. */
class VirtualTimeout {
  constructor(
    readonly id: number,
    private readonly clock: VirtualClock,
  ) {}
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  hasRef(): boolean {
    return true;
  }
  refresh(): this {
    this.clock.refresh(this.id);
    return this;
  }
  close(): this {
    this.clock.clear(this.id);
    return this;
  }
  [Symbol.toPrimitive](): number {
    return this.id;
  }
}

let installed: VirtualClock | undefined;

/** `Date` with virtual "now": `new Date()`, `Date()` and `Date.now()`; everything else is Date's. */
function virtualDate(now: () => number): DateConstructor {
  const RealDate = real.Date;
  function VirtualDate(this: unknown, ...args: unknown[]): Date | string {
    if (!new.target) return new RealDate(now()).toString();
    return args.length === 0 ? new RealDate(now()) : new RealDate(...(args as [string | number | Date]));
  }
  VirtualDate.prototype = RealDate.prototype;
  Object.defineProperties(VirtualDate, {
    now: { value: now },
    parse: { value: RealDate.parse },
    UTC: { value: RealDate.UTC },
  });
  return VirtualDate as unknown as DateConstructor;
}

/** A seeded PRNG (mulberry32): the same seed gives the same `Math.random()` sequence. */
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

/** Version-4-shaped UUIDs from a seeded sequence. */
function seededUuid(random: () => number): () => string {
  return () => {
    const b = Array.from({ length: 16 }, () => Math.floor(random() * 256));
    b[6] = (b[6]! & 0x0f) | 0x40;
    b[8] = (b[8]! & 0x3f) | 0x80;
    const h = b.map((x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  };
}

export class VirtualClock {
  now: number;
  readonly start: number;
  private readonly timers = new Map<number, Timer>();
  private nextId = 1;
  private seq = 0;
  /** Errors thrown by timer callbacks (in real Node they would be uncaught exceptions). */
  readonly errors: unknown[] = [];

  constructor(
    start = Date.UTC(2025, 0, 1),
    private readonly seed = 1,
  ) {
    this.now = start;
    this.start = start;
  }

  static get current(): VirtualClock | undefined {
    return installed;
  }

  get elapsed(): number {
    return this.now - this.start;
  }

  /** Replace the globals. Only one clock may be installed at a time. */
  install(): void {
    if (installed) throw new Error('a virtual clock is already installed (simulations run one at a time)');
    installed = this;
    const g = globalThis as Record<string, unknown>;
    g.setTimeout = (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => this.add(fn, ms, args, false);
    g.setInterval = (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => this.add(fn, ms, args, true);
    g.clearTimeout = (t: unknown) => this.clear(t);
    g.clearInterval = (t: unknown) => this.clear(t);
    g.Date = virtualDate(() => this.now);
    Math.random = seededRandom(this.seed);
    nodeCrypto.randomUUID = seededUuid(seededRandom(this.seed ^ 0x5eed));
    syncBuiltinESMExports();
  }

  uninstall(): void {
    if (installed !== this) return;
    installed = undefined;
    const g = globalThis as Record<string, unknown>;
    g.setTimeout = real.setTimeout;
    g.setInterval = real.setInterval;
    g.clearTimeout = real.clearTimeout;
    g.clearInterval = real.clearInterval;
    g.Date = real.Date;
    Math.random = real.random;
    nodeCrypto.randomUUID = real.randomUUID;
    syncBuiltinESMExports();
  }

  private add(fn: (...a: unknown[]) => void, ms: number | undefined, args: unknown[], repeat: boolean): VirtualTimeout {
    if (typeof fn !== 'function') throw new TypeError('The "callback" argument must be of type function');
    const delay = Math.max(0, Number.isFinite(Number(ms)) ? Number(ms) : 0);
    const id = this.nextId++;
    this.timers.set(id, { id, at: this.now + delay, seq: this.seq++, fn, args, interval: repeat ? Math.max(1, delay) : undefined });
    return new VirtualTimeout(id, this);
  }

  clear(t: unknown): void {
    if (t === undefined || t === null) return;
    const id = typeof t === 'number' ? t : t instanceof VirtualTimeout ? t.id : Number(t);
    this.timers.delete(id);
  }

  refresh(id: number): void {
    const t = this.timers.get(id);
    if (!t) return;
    const delay = t.interval ?? Math.max(0, t.at - this.now);
    t.at = this.now + delay;
    t.seq = this.seq++;
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.timers.size;
  }

  /** The earliest timer (by due time, then creation order). */
  next(): { at: number } | undefined {
    let best: Timer | undefined;
    for (const t of this.timers.values()) {
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best ? { at: best.at } : undefined;
  }

  /** Fire the earliest timer due at or before `now`; false when none is due. */
  fireDue(): boolean {
    let best: Timer | undefined;
    for (const t of this.timers.values()) {
      if (t.at > this.now) continue;
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    if (!best) return false;
    if (best.interval !== undefined) {
      best.at += best.interval;
      best.seq = this.seq++;
    } else {
      this.timers.delete(best.id);
    }
    try {
      best.fn(...best.args);
    } catch (err) {
      this.errors.push(err);
    }
    return true;
  }

  /** Move time to `at` (never backwards) without firing anything. */
  setTime(at: number): void {
    if (at > this.now) this.now = at;
  }
}
