// The room server over a real WebSocket, against a scripted backend.
import { Subject } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { RoomServer } from '../../src/room/server.js';
import type { RoomBackend } from '../../src/room/protocol.js';
import { createRoomAuth, type Role } from '../../src/auth/index.js';
import type { RoomEvent } from '../../src/events/room-events.js';
import type { StoredRecord } from '../../src/storage/types.js';

const stops: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

function backend() {
  const events$ = new Subject<RoomEvent>();
  const posts: unknown[] = [];
  const decisions: unknown[] = [];
  const history: StoredRecord[] = [
    { kind: 'message', role: 'user', text: 'earlier question', seq: 1, session: 'lab/chat/main', at: 1 },
    { kind: 'message', role: 'assistant', text: 'earlier answer', seq: 2, session: 'lab/chat/main', at: 2 },
  ];
  const b: RoomBackend = {
    events$,
    post: (m) => void posts.push(m),
    decide: (d) => {
      decisions.push(d);
      return d.by === 'owner-1' ? { ok: true } : { ok: false, reason: `${d.by} may not decide this approval` };
    },
    history: async (room) => history.filter((h) => h.session.startsWith(`${room}/`)),
  };
  return { b, events$, posts, decisions };
}

const auth = createRoomAuth({ secret: 'room-server-test-secret-0123456789abcdef' });
const cred = (id: string, role: Role = 'member', room = 'lab', name?: string) => auth.mint({ room, id, role, name });

async function serve(tokens?: Record<string, string>) {
  const be = backend();
  // Signed credentials by default; a token map selects the shared-token demo mode.
  const server = new RoomServer({ backend: be.b, ...(tokens ? { tokens } : { auth }) });
  const url = await server.start();
  stops.push(() => server.stop());
  return { ...be, url, server };
}

function client(url: string) {
  const ws = new WebSocket(url);
  stops.push(() => ws.terminate());
  const frames: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (d) => {
    frames.push(JSON.parse(String(d)));
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: String(reason) })));
  const opened = new Promise<void>((r) => ws.on('open', () => r()));
  const next = async (pred: (f: Record<string, unknown>) => boolean, ms = 2000) => {
    const end = Date.now() + ms;
    for (;;) {
      const f = frames.find(pred);
      if (f) return f;
      if (Date.now() > end) throw new Error(`no matching frame; got ${JSON.stringify(frames)}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 50);
      });
    }
  };
  const send = async (obj: unknown) => {
    await opened;
    ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  };
  return { ws, frames, next, send, closed };
}

const ev = (session: string, text: string): RoomEvent => ({ type: 'notice', session, at: Date.now(), level: 'info', text });

describe('room server', () => {
  it('binds to 127.0.0.1 by default', async () => {
    const { url } = await serve();
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
  });

  it('refuses a join without the room token, with a clear close reason', async () => {
    const { url } = await serve({ lab: 's3cret' });
    const c = client(url);
    await c.send({ type: 'join', room: 'lab', participant: { id: 'u1' }, token: 'wrong' });
    expect(await c.closed).toEqual({ code: 4401, reason: 'room "lab" requires a valid token' });
    const ok = client(url);
    await ok.send({ type: 'join', room: 'lab', participant: { id: 'u1' }, token: 's3cret' });
    expect(await ok.next((f) => f.type === 'joined')).toMatchObject({ room: 'lab' });
  });

  it('a late joiner gets the history, then live events of its room only', async () => {
    const { url, events$ } = await serve();
    const c = client(url);
    await c.send({ type: 'join', token: await cred('u1', 'member', 'lab', 'Ann') });
    const joined = await c.next((f) => f.type === 'joined');
    expect((joined.history as StoredRecord[]).map((h) => (h.kind === 'message' ? h.text : ''))).toEqual(['earlier question', 'earlier answer']);
    events$.next(ev('other/chat/main', 'not for you'));
    events$.next(ev('lab/chat/main', 'for you'));
    const got = await c.next((f) => f.type === 'event');
    expect((got.event as { text: string }).text).toBe('for you');
    expect(c.frames.filter((f) => f.type === 'event')).toHaveLength(1);
  });

  it('bad frames get an error naming the problem; the connection and the room survive', async () => {
    const { url, posts } = await serve();
    const c = client(url);
    await c.send('{not json');
    expect((await c.next((f) => f.type === 'error')).error).toMatch(/^frame is not valid JSON/);
    await c.send({ type: 'message', text: 'before join' });
    expect(await c.next((f) => f.type === 'error' && String(f.error).startsWith('join a room first'))).toBeTruthy();
    await c.send({ type: 'join', room: 'lab/x', token: await cred('u1') });
    expect(await c.next((f) => f.type === 'error' && String(f.error).includes('room: use '))).toBeTruthy();
    await c.send({ type: 'teleport' });
    expect(await c.next((f) => f.type === 'error' && String(f.error).startsWith('bad frame: type'))).toBeTruthy();
    await c.send({ type: 'join', room: 'lab', token: await cred('u1') });
    await c.next((f) => f.type === 'joined');
    await c.send({ type: 'message', text: 'hello', channel: 'chat', thread: 'main' });
    await new Promise((r) => setTimeout(r, 50));
    expect(posts).toEqual([{ room: 'lab', channel: 'chat', thread: 'main', from: { id: 'u1', name: undefined, role: 'member' }, text: 'hello', attachments: undefined }]);
  });

  it('decisions carry the participant id; the backend decides who may', async () => {
    const { url, decisions } = await serve();
    const owner = client(url);
    await owner.send({ type: 'join', token: await cred('owner-1', 'owner') });
    await owner.next((f) => f.type === 'joined');
    await owner.send({ type: 'approval.decide', approvalId: 'ap1', decision: 'accept' });
    expect(await owner.next((f) => f.type === 'decided')).toEqual({ type: 'decided', approvalId: 'ap1', ok: true });
    const other = client(url);
    await other.send({ type: 'join', token: await cred('mallory') });
    await other.next((f) => f.type === 'joined');
    await other.send({ type: 'approval.decide', approvalId: 'ap1', decision: 'accept' });
    expect(await other.next((f) => f.type === 'decided')).toEqual({
      type: 'decided',
      approvalId: 'ap1',
      ok: false,
      reason: 'mallory may not decide this approval',
    });
    expect(decisions).toHaveLength(2);
  });

  it('observers cannot post', async () => {
    const { url, posts } = await serve();
    const c = client(url);
    await c.send({ type: 'join', token: await cred('o1', 'observer') });
    await c.next((f) => f.type === 'joined');
    await c.send({ type: 'message', text: 'hi' });
    expect((await c.next((f) => f.type === 'error')).error).toBe('observers cannot post messages');
    expect(posts).toEqual([]);
  });
});

describe('room server with the real supervisor contract', () => {
  it('passes the room along with a decision, and the supervisor accepts that shape', async () => {
    const { createSupervisor } = await import('../../src/supervisor/supervisor.js');
    const sb = createSupervisor({ storage: { kind: 'none' } });
    // Not started: an unknown approval is refused for being unknown, not for its shape.
    expect(sb.decide({ approvalId: 'ap-x', by: 'ann', decision: 'accept', room: 'lab' })).toEqual({ ok: false, reason: expect.stringMatching(/unknown approval|no such approval|not found/i) });
    await sb.stop();
  });
});
