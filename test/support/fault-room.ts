// The fault harness's room recorder: the room events a host emitted, and waits on them.
import type { RoomEvent } from '../../src/events/room-events.js';

export type Ev<T extends RoomEvent['type']> = Extract<RoomEvent, { type: T }>;
export type TurnEnd = Ev<'turn.completed'> | Ev<'turn.failed'> | Ev<'turn.interrupted'>;
const isEnd = (e: RoomEvent): boolean => e.type === 'turn.completed' || e.type === 'turn.failed' || e.type === 'turn.interrupted';

export interface Room {
  events: RoomEvent[];
  /** When each event arrived (ms since the epoch), same index as `events`. */
  times: number[];
  sink(e: RoomEvent): void;
  /** The next event of `type` (matching `pred`) after the previous `next` result. */
  next<T extends RoomEvent['type']>(type: T, pred?: (e: Ev<T>) => boolean, ms?: number): Promise<Ev<T>>;
  /** The next turn end after the previous one, with its arrival time. */
  end(ms?: number): Promise<TurnEnd & { receivedAt: number }>;
  all<T extends RoomEvent['type']>(type: T): Array<Ev<T>>;
  notices(): string[];
}

export function makeRoom(): Room {
  const events: RoomEvent[] = [];
  const times: number[] = [];
  const waiters = new Set<() => void>();
  const cursors = { next: 0, end: 0 };
  const wait = (cursor: 'next' | 'end', pred: (e: RoomEvent) => boolean, ms: number, what: string) =>
    new Promise<number>((resolve, reject) => {
      const check = () => {
        for (let i = cursors[cursor]; i < events.length; i++) {
          if (pred(events[i]!)) {
            cursors[cursor] = i + 1;
            waiters.delete(check);
            clearTimeout(timer);
            resolve(i);
            return;
          }
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no ${what} within ${ms} ms; room saw: ${events.map((e) => e.type).join(', ')}`));
      }, ms);
      waiters.add(check);
      check();
    });
  const all = <T extends RoomEvent['type']>(type: T) => events.filter((e) => e.type === type) as Array<Ev<T>>;
  return {
    events,
    times,
    sink: (e) => {
      events.push(e);
      times.push(Date.now());
      for (const w of [...waiters]) w();
    },
    next: async <T extends RoomEvent['type']>(type: T, pred: (e: Ev<T>) => boolean = () => true, ms = 20_000) =>
      events[await wait('next', (e) => e.type === type && pred(e as Ev<T>), ms, type)] as Ev<T>,
    end: async (ms = 20_000) => {
      const i = await wait('end', isEnd, ms, 'turn end');
      return { ...(events[i] as TurnEnd), receivedAt: times[i]! };
    },
    all,
    notices: () => all('notice').map((n) => n.text),
  };
}

