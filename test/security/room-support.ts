// Shared by the room security tests: a RoomServer over a real WebSocket with a scripted
// backend that records what reached it, and a client that collects frames.
import { Subject } from 'rxjs';
import WebSocket from 'ws';
import { RoomServer, type RoomServerOptions } from '../../src/room/server.js';
import type { RoomBackend } from '../../src/room/protocol.js';
import { createRoomAuth, type Role } from '../../src/auth/index.js';
import type { RoomEvent } from '../../src/events/room-events.js';
import type { StoredRecord } from '../../src/storage/types.js';

export const SECRET = 'security-test-secret-0123456789abcdef-xyz';
export const auth = createRoomAuth({ secret: SECRET });
export const cred = (room: string, id: string, role: Role = 'member', name?: string) => auth.mint({ room, id, role, name });

export type Cleanup = Array<() => Promise<void> | void>;

export function scriptedBackend(history: StoredRecord[] = []) {
  const events$ = new Subject<RoomEvent>();
  const posts: Array<Parameters<RoomBackend['post']>[0]> = [];
  const decisions: Array<Parameters<RoomBackend['decide']>[0]> = [];
  const b: RoomBackend = {
    events$,
    post: (m) => void posts.push(m),
    decide: (d) => {
      decisions.push(d);
      return d.role === 'owner' || d.role === 'approver' ? { ok: true } : { ok: false, reason: `${d.by} may not decide` };
    },
    // Deliberately the naive "everything, oldest first": the server must page it itself.
    history: async (room) => history.filter((h) => h.session.startsWith(`${room}/`)),
  };
  return { b, events$, posts, decisions };
}

export async function startServer(cleanup: Cleanup, opts: Partial<RoomServerOptions> & { history?: StoredRecord[] } = {}) {
  const be = scriptedBackend(opts.history);
  const { history: _h, ...rest } = opts;
  const server = new RoomServer({ backend: be.b, ...(rest.mode || rest.tokens ? {} : { auth }), ...rest });
  const url = await server.start();
  cleanup.push(() => server.stop());
  return { ...be, url, server };
}

export type Frame = Record<string, unknown>;

export function client(cleanup: Cleanup, url: string, opts: WebSocket.ClientOptions & { origin?: string } = {}) {
  const ws = new WebSocket(url, opts);
  cleanup.push(() => ws.terminate());
  const frames: Frame[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Frame));
  ws.on('error', () => undefined);
  const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: String(reason) })));
  const opened = new Promise<void>((resolve, reject) => {
    ws.on('open', () => resolve());
    ws.on('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
  });
  opened.catch(() => undefined);
  const next = async (pred: (f: Frame) => boolean, ms = 5000): Promise<Frame> => {
    const end = Date.now() + ms;
    for (;;) {
      const f = frames.find(pred);
      if (f) return f;
      if (Date.now() > end) throw new Error(`no matching frame; got ${JSON.stringify(frames).slice(0, 1500)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const send = async (obj: unknown) => {
    await opened;
    ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  };
  const join = async (frame: Frame) => {
    await send({ type: 'join', ...frame });
    return next((f) => f.type === 'joined');
  };
  return { ws, frames, next, send, join, closed, opened };
}

export const notice = (session: string, text: string): RoomEvent => ({ type: 'notice', session, at: Date.now(), level: 'info', text });
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
