// The clock every timer and "now" of the Codex stack goes through. Production uses the
// system clock (the real globals, looked up at call time so test fake timers still apply);
// the simulator injects XState's SimulatedClock through the composition root, and the same
// object is handed to `createActor(..., { clock })` so machine `after` delays run on it too.
import { waitFor, type AnyActorRef, type SnapshotFrom } from 'xstate';

/** Time, timers and (optionally) randomness; XState's `Clock` plus `now`. */
export interface TimerClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
  random?(): number;
}

export const systemClock: TimerClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as Parameters<typeof clearTimeout>[0]),
  random: () => Math.random(),
};

/** Let a real timer not keep the process alive (a simulated timer has nothing to unref). */
export function unrefTimer(id: unknown): void {
  (id as { unref?: () => void } | null)?.unref?.();
}

/** What constructors accept: at least `now`; missing timers and randomness are the system's. */
export type ClockOption = Pick<TimerClock, 'now'> & Partial<TimerClock>;

/** A complete clock from an option (methods called on the given object, so `this` holds). */
export function timerClock(c?: ClockOption): Required<TimerClock> {
  if (!c) return systemClock as Required<TimerClock>;
  return {
    now: () => c.now(),
    setTimeout: c.setTimeout ? (fn, ms) => c.setTimeout!(fn, ms) : systemClock.setTimeout,
    clearTimeout: c.clearTimeout ? (id) => c.clearTimeout!(id) : systemClock.clearTimeout,
    random: c.random ? () => c.random!() : () => Math.random(),
  };
}

/**
 * XState's `waitFor`, with its timeout on `clock` (XState's own timeout uses the global
 * `setTimeout`). Rejects like it: `Timeout of N ms exceeded`, or the signal's reason.
 */
export async function waitOn<T extends AnyActorRef>(
  clock: Pick<TimerClock, 'setTimeout' | 'clearTimeout'>,
  actor: T,
  pred: (s: SnapshotFrom<T>) => boolean,
  opts: { timeout?: number; signal?: AbortSignal } = {},
): Promise<SnapshotFrom<T>> {
  const timeout = opts.timeout ?? Infinity;
  const ctl = new AbortController();
  const outer = opts.signal;
  const onOuter = (): void => ctl.abort(outer!.reason);
  if (outer?.aborted) onOuter();
  else outer?.addEventListener('abort', onOuter, { once: true });
  const timer = Number.isFinite(timeout) ? clock.setTimeout(() => ctl.abort(new Error(`Timeout of ${timeout} ms exceeded`)), timeout) : undefined;
  try {
    return await waitFor(actor, pred, { timeout: Infinity, signal: ctl.signal });
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
    outer?.removeEventListener('abort', onOuter);
  }
}

/**
 * `work`'s value, or `late` when it has not settled within `ms` (the timer is cleared either way;
 * `work` keeps running, and a later rejection of it is ignored). A rejection in time rejects.
 */
export async function within<T, L>(work: Promise<T>, ms: number, late: L, clock: Pick<TimerClock, 'setTimeout' | 'clearTimeout'> = systemClock): Promise<T | L> {
  let timer: unknown;
  const timeout = new Promise<L>((resolve) => {
    timer = clock.setTimeout(() => resolve(late), ms);
    unrefTimer(timer);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clock.clearTimeout(timer);
    work.catch(() => undefined);
  }
}
