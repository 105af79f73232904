// Issue 11 #1, #2, #3 (room server half): identity and authority come from verified
// credentials only. A real RoomServer over real WebSockets; the backend records what reached it.
import { afterEach, describe, expect, it } from 'vitest';
import { RoomServer } from '../../src/room/server.js';
import { RelayBackend } from '../../src/room/relay.js';
import { auth, client, cred, notice, sleep, startServer, type Cleanup } from './room-support.js';

const cleanup: Cleanup = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('#1 no open room names, no cross-room credentials, Origin allow-list', () => {
  it('a room name without a credential is refused on a signed server', async () => {
    const { url, posts } = await startServer(cleanup);
    const c = client(cleanup, url);
    await c.send({ type: 'join', room: 'other' });
    expect(await c.closed).toEqual({ code: 4401, reason: 'this server needs a room credential (switchboard token)' });
    expect(posts).toEqual([]);
  });

  it('a credential for room A cannot join room B, and sees nothing of B', async () => {
    const { url, events$ } = await startServer(cleanup);
    const tokenA = await cred('alpha', 'ann', 'owner');
    const wrong = client(cleanup, url);
    await wrong.send({ type: 'join', token: tokenA, room: 'beta' });
    expect(await wrong.closed).toEqual({ code: 4403, reason: 'the credential is for another room, not "beta"' });
    const a = client(cleanup, url);
    expect(await a.join({ token: tokenA })).toMatchObject({ room: 'alpha', participant: { id: 'ann', role: 'owner' } });
    events$.next(notice('beta/chat/main', 'secret of beta'));
    events$.next(notice('alpha/chat/main', 'for alpha'));
    await a.next((f) => f.type === 'event');
    await sleep(50);
    expect(JSON.stringify(a.frames)).not.toContain('secret of beta');
  });

  it('a forged, tampered or wrongly signed credential is refused with 4401', async () => {
    const { url } = await startServer(cleanup, { limits: { joinTimeoutMs: 500 } });
    const good = await cred('alpha', 'ann', 'member');
    const [h, p, s] = good.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
    const tampered = [h, Buffer.from(JSON.stringify({ ...claims, role: 'owner' })).toString('base64url'), s].join('.');
    const { createRoomAuth } = await import('../../src/auth/index.js');
    const foreign = await createRoomAuth({ secret: 'another-secret-another-secret-0123456789' }).mint({ room: 'alpha', id: 'ann', role: 'owner' });
    for (const token of [tampered, foreign, 'not-a-jwt', 'x'.repeat(5000)]) {
      const c = client(cleanup, url);
      await c.send({ type: 'join', token });
      const closed = await c.closed;
      expect(closed.code === 4401 || closed.code === 4400).toBe(true);
    }
  });

  it('a browser Origin not in the allow-list is refused at the upgrade; no Origin (CLI) and the own origin are fine', async () => {
    const { url, server } = await startServer(cleanup);
    const evil = client(cleanup, url, { origin: 'https://evil.example' });
    await expect(evil.opened).rejects.toMatchObject({ status: 403 });
    expect(server.stats().connections).toBe(0);
    const cli = client(cleanup, url);
    await cli.opened;
    const port = new URL(url).port;
    const own = client(cleanup, url, { origin: `http://localhost:${port}` });
    await own.opened;
    const allowed = await startServer(cleanup, { allowedOrigins: ['https://chat.example.com'] });
    await client(cleanup, allowed.url, { origin: 'https://chat.example.com' }).opened;
    await expect(client(cleanup, allowed.url, { origin: `http://localhost:${port}` }).opened).rejects.toMatchObject({ status: 403 });
  });

  it('shared-token mode refuses rooms it has no token for; shared and open modes refuse a non-loopback host', async () => {
    const { url } = await startServer(cleanup, { tokens: { lab: 'tok' } });
    const c = client(cleanup, url);
    await c.send({ type: 'join', room: 'elsewhere', participant: { id: 'eve' } });
    expect(await c.closed).toEqual({ code: 4401, reason: 'room "elsewhere" requires a valid token' });
    const { b } = (await import('./room-support.js')).scriptedBackend();
    await expect(new RoomServer({ backend: b, tokens: { lab: 'tok' }, host: '0.0.0.0' }).start()).rejects.toThrow(/refusing to bind 0\.0\.0\.0 in shared-token mode/);
    await expect(new RoomServer({ backend: b, mode: 'none', host: '0.0.0.0' }).start()).rejects.toThrow(/refusing to bind 0\.0\.0\.0 in open mode/);
    await expect(new RoomServer({ backend: b }).start()).rejects.toThrow(/signed mode needs a RoomAuth/);
  });
});

describe('#2 identity from the credential, one join per socket', () => {
  it('a join frame claiming an id or role in signed mode is refused', async () => {
    const { url, decisions } = await startServer(cleanup);
    const c = client(cleanup, url);
    await c.send({ type: 'join', token: await cred('lab', 'mallory', 'observer'), participant: { id: 'ann', role: 'owner' } });
    expect(await c.closed).toEqual({ code: 4400, reason: 'identity comes from the credential: send no "participant" in signed mode' });
    expect(decisions).toEqual([]);
  });

  it('a second join frame is refused and the first identity stays', async () => {
    const { url, posts } = await startServer(cleanup);
    const c = client(cleanup, url);
    await c.join({ token: await cred('lab', 'obs', 'observer') });
    await c.send({ type: 'join', token: await cred('lab', 'ann', 'owner') });
    expect(await c.next((f) => f.code === 'already_joined')).toMatchObject({ type: 'error', error: 'this socket has already joined; one join per connection' });
    await c.send({ type: 'message', text: 'let me in' });
    expect(await c.next((f) => f.code === 'forbidden')).toMatchObject({ error: 'observers cannot post messages' });
    expect(c.frames.filter((f) => f.type === 'joined')).toHaveLength(1);
    expect(posts).toEqual([]);
  });

  it('an observer credential cannot post or decide; the verified role reaches the backend', async () => {
    const { url, posts, decisions } = await startServer(cleanup);
    const o = client(cleanup, url);
    await o.join({ token: await cred('lab', 'olga', 'observer') });
    await o.send({ type: 'message', text: 'hi' });
    await o.send({ type: 'approval.decide', approvalId: 'ap1', decision: 'accept' });
    expect(await o.next((f) => f.type === 'decided')).toEqual({ type: 'decided', approvalId: 'ap1', ok: false, reason: 'observers cannot decide approvals' });
    expect(posts).toEqual([]);
    expect(decisions).toEqual([]);
    const a = client(cleanup, url);
    await a.join({ token: await cred('lab', 'ann', 'approver', 'Ann') });
    await a.send({ type: 'message', text: 'hello' });
    await a.send({ type: 'approval.decide', approvalId: 'ap1', decision: 'accept' });
    expect(await a.next((f) => f.type === 'decided')).toMatchObject({ ok: true });
    expect(posts).toEqual([{ room: 'lab', channel: 'chat', thread: 'main', from: { id: 'ann', name: 'Ann', role: 'approver' }, text: 'hello' }]);
    expect(decisions).toEqual([{ approvalId: 'ap1', by: 'ann', role: 'approver', decision: 'accept', room: 'lab' }]);
  });

  it('a socket that never joins is closed', async () => {
    const { url } = await startServer(cleanup, { limits: { joinTimeoutMs: 200 } });
    const c = client(cleanup, url);
    expect(await c.closed).toEqual({ code: 4400, reason: 'no join within 200 ms' });
  });
});

describe('#3 relay agents need an agent credential; one agent per room', () => {
  async function relay() {
    const backend = new RelayBackend({ decideTimeoutMs: 2000 });
    const server = new RoomServer({ backend, auth });
    const url = await server.start();
    cleanup.push(() => server.stop());
    return { url, backend };
  }

  it('a member credential cannot act as the agent, and an agent credential cannot post or decide', async () => {
    const { url } = await relay();
    const m = client(cleanup, url);
    await m.join({ token: await cred('lab', 'mallory', 'member') });
    await m.send({ type: 'agent.event', event: { type: 'message.completed', session: 'lab/chat/main', text: 'forged answer' } });
    expect(await m.next((f) => f.type === 'error')).toMatchObject({ error: "agent.event is only accepted from the room's agent" });
    const bot = client(cleanup, url);
    await bot.join({ token: await cred('lab', 'bot', 'agent') });
    await bot.send({ type: 'message', text: 'as a user' });
    expect(await bot.next((f) => f.code === 'forbidden')).toMatchObject({ error: 'an agent credential cannot post user messages' });
    await bot.send({ type: 'approval.decide', approvalId: 'ap1', decision: 'accept' });
    expect(await bot.next((f) => f.type === 'decided')).toMatchObject({ ok: false, reason: 'an agent credential cannot decide approvals' });
    expect(m.frames.some((f) => f.type === 'agent.message')).toBe(false);
  });

  it('a second agent is refused while the first is connected; nobody replaces it silently', async () => {
    const { url } = await relay();
    const first = client(cleanup, url);
    await first.join({ token: await cred('lab', 'bot', 'agent') });
    const second = client(cleanup, url);
    await second.send({ type: 'join', token: await cred('lab', 'bot2', 'agent') });
    expect(await second.closed).toEqual({ code: 4409, reason: 'room "lab" already has an agent' });
    const user = client(cleanup, url);
    await user.join({ token: await cred('lab', 'ann', 'owner') });
    await user.send({ type: 'message', text: 'who answers?' });
    expect(await first.next((f) => f.type === 'agent.message')).toMatchObject({ message: { text: 'who answers?', from: { id: 'ann', role: 'owner' } } });
    // Once the first is gone, a new agent may attach.
    first.ws.close();
    await first.closed;
    await sleep(50);
    const third = client(cleanup, url);
    expect(await third.join({ token: await cred('lab', 'bot3', 'agent') })).toMatchObject({ participant: { role: 'agent' } });
  });
});
