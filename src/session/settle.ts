// Small helpers of the session manager: waiting for a session actor on the manager's clock.
import type { Actor, SnapshotFrom } from 'xstate';
import type { SessionMachine } from '../../machines/session.machine.js';
import { waitOn, type TimerClock } from '../util/clock.js';

type SessionSnapshot = SnapshotFrom<SessionMachine>;

/** XState's `waitFor` on this manager's clock, with its timeout message. */
export async function settle(
  clock: TimerClock,
  actor: Actor<SessionMachine>,
  pred: (s: SessionSnapshot) => boolean,
  timeoutMs: number,
  message?: string,
): Promise<void> {
  try {
    await waitOn(clock, actor, pred, { timeout: timeoutMs });
  } catch (err) {
    throw message ? new Error(message) : err;
  }
}

export function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
