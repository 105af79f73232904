// A RoomServer with a scripted backend, for the `switchboard chat` tests: what the client
// posts and decides is recorded; the test (or a hook) plays room events.
import { Subject } from 'rxjs';
import { RoomServer } from '../../src/room/server.js';
import type { RoomBackend } from '../../src/room/protocol.js';
import type { RoomEvent } from '../../src/events/room-events.js';
import type { StoredRecord } from '../../src/storage/types.js';
import type { RoomAuth } from '../../src/auth/token.js';

export type Post = Parameters<RoomBackend['post']>[0];
export type Decision = Parameters<RoomBackend['decide']>[0];

export interface ScriptedRoom {
  url: string;
  server: RoomServer;
  events$: Subject<RoomEvent>;
  posts: Post[];
  decisions: Decision[];
  /** Emit an event of a conversation (default `lab/chat/main`); `session` and `at` are filled in. */
  emit(e: DistributiveOmit<RoomEvent, 'session' | 'at'> & { session?: string }): void;
  stop(): Promise<void>;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export async function scriptedRoom(opts: {
  history?: StoredRecord[];
  tokens?: Record<string, string>;
  /** Signed credentials (default: shared when `tokens` is given, else open; both loopback-only). */
  auth?: RoomAuth;
  /** A fixed port (to restart a server on the same URL). */
  port?: number;
  onPost?: (p: Post, room: ScriptedRoom) => void;
  onDecide?: (d: Decision, room: ScriptedRoom) => { ok: true } | { ok: false; reason: string } | void;
} = {}): Promise<ScriptedRoom> {
  const events$ = new Subject<RoomEvent>();
  const posts: Post[] = [];
  const decisions: Decision[] = [];
  const history = opts.history ?? [];
  let room: ScriptedRoom;
  const backend: RoomBackend = {
    events$,
    post: (p) => {
      posts.push(p);
      opts.onPost?.(p, room);
    },
    decide: (d) => {
      decisions.push(d);
      return opts.onDecide?.(d, room) ?? { ok: true };
    },
    history: async (r, filter) =>
      history.filter((h) => {
        const [hr, hc, ht] = h.session.split('/');
        return hr === r && (!filter?.channel || hc === filter.channel) && (!filter?.thread || ht === filter.thread);
      }),
  };
  const server = new RoomServer({ backend, tokens: opts.tokens, auth: opts.auth, port: opts.port, mode: opts.auth ? 'signed' : opts.tokens ? 'shared' : 'none' });
  const url = await server.start();
  room = {
    url,
    server,
    events$,
    posts,
    decisions,
    emit: (e) => events$.next({ session: 'lab/chat/main', at: Date.now(), ...e } as RoomEvent),
    stop: () => server.stop(),
  };
  return room;
}

/** Poll `cond` until it holds or the deadline passes (then throw with `describe()`). */
export async function waitFor(cond: () => boolean, what: string, describe: () => string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n--- output so far ---\n${describe()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
