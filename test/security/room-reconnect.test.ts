// Issue 11 #8 (server half + relay agent): resume gives exactly the missed frames, and the
// relay agent reconnects after `room serve` restarts, gets the queued message once, and
// flushes what it produced while offline in order.
import { Subject } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { RoomServer } from '../../src/room/server.js';
import { RelayBackend } from '../../src/room/relay.js';
import { AgentClient, type AgentTarget } from '../../src/room/agent-client.js';
import type { RoomEvent } from '../../src/events/room-events.js';
import { auth, client, cred, notice, sleep, startServer, until, type Cleanup, type Frame } from './room-support.js';

const cleanup: Cleanup = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const texts = (frames: Frame[]) => frames.filter((f) => f.type === 'event').map((f) => (f.event as { text?: string }).text);

describe('#8 resume after a drop', () => {
  it('a client that rejoins with resume gets exactly the frames it missed, then live ones', async () => {
    const { url, events$ } = await startServer(cleanup);
    const token = await cred('lab', 'ann');
    const first = client(cleanup, url);
    const j1 = await first.join({ token });
    expect(j1).toMatchObject({ resumed: false, seq: 0, pending: [] });
    for (const t of ['e1', 'e2', 'e3']) events$.next(notice('lab/chat/main', t));
    await until(() => texts(first.frames).length === 3, 'three events');
    const last = first.frames.filter((f) => f.type === 'event').at(-1)!.seq as number;
    first.ws.close();
    await first.closed;
    for (const t of ['e4', 'e5']) events$.next(notice('lab/chat/main', t));
    events$.next({ type: 'approval.requested', session: 'lab/chat/main', at: 1, approvalId: 'ap9', turnId: 't', kind: 'command', title: 'Run: ls', choices: ['accept', 'decline'] } as unknown as RoomEvent);
    const again = client(cleanup, url);
    const j2 = await again.join({ token, resume: { epoch: j1.epoch, seq: last } });
    expect(j2).toMatchObject({ resumed: true, history: [], epoch: j1.epoch, seq: 6 });
    expect((j2.pending as Array<{ approvalId: string }>).map((p) => p.approvalId)).toEqual(['ap9']);
    events$.next(notice('lab/chat/main', 'e6'));
    await until(() => texts(again.frames).includes('e6'), 'live event');
    expect(again.frames.filter((f) => f.type === 'event').map((f) => f.seq)).toEqual([4, 5, 6, 7]);
    expect(texts(again.frames)).toEqual(['e4', 'e5', undefined, 'e6']);
  });

  it('a resume from another epoch or beyond the ring gets resumed:false and the newest history page', async () => {
    const { url, events$ } = await startServer(cleanup, { limits: { replayEvents: 2 } });
    const token = await cred('lab', 'ann');
    const j = await client(cleanup, url).join({ token });
    const other = await client(cleanup, url).join({ token, resume: { epoch: 'some-old-epoch', seq: 3 } });
    expect(other).toMatchObject({ resumed: false });
    for (const t of ['a', 'b', 'c', 'd']) events$.next(notice('lab/chat/main', t));
    const gone = await client(cleanup, url).join({ token, resume: { epoch: j.epoch, seq: 1 } });
    expect(gone).toMatchObject({ resumed: false, seq: 4 });
  });
});

function target() {
  const events$ = new Subject<RoomEvent>();
  const posts: string[] = [];
  const t: AgentTarget = {
    events$,
    post: async (m) => void posts.push(m.text),
    decide: (d) => (d.role === 'owner' ? { ok: true } : { ok: false, reason: 'not yours' }),
  };
  return { t, events$, posts };
}

describe('#8 the relay agent reconnects', () => {
  it('after room serve restarts: the queued message arrives once, offline events are flushed in order', async () => {
    const s1 = new RoomServer({ backend: new RelayBackend(), auth });
    const url = await s1.start();
    const port = Number(new URL(url).port);
    let s2: RoomServer | undefined;
    cleanup.push(() => s2?.stop());
    const { t, events$, posts } = target();
    const agent = new AgentClient(t, { url, room: 'lab', token: await cred('lab', 'bot', 'agent'), retryInitialMs: 3000, retryMaxMs: 3000, giveUpAfterMs: 60_000 });
    cleanup.push(() => agent.close());
    await agent.connect();
    const u1 = client(cleanup, url);
    await u1.join({ token: await cred('lab', 'ann', 'owner') });
    await u1.send({ type: 'message', text: 'one' });
    await until(() => posts.length === 1, 'first message');

    await s1.stop();
    // Produced while the room server is down: buffered by the agent.
    events$.next(notice('lab/chat/main', 'offline 1'));
    events$.next(notice('lab/chat/main', 'offline 2'));
    s2 = new RoomServer({ backend: new RelayBackend(), auth, port });
    await s2.start();
    const u2 = client(cleanup, url);
    await u2.join({ token: await cred('lab', 'ann', 'owner') });
    await u2.send({ type: 'message', text: 'two' });
    // No agent yet: the message waits in the room's queue.
    expect(await u2.next((f) => f.type === 'event' && String((f.event as { text: string }).text).includes('queued'))).toBeTruthy();
    await until(() => posts.length === 2, 'queued message delivered', 15_000);
    await until(() => texts(u2.frames).includes('offline 2'), 'offline events flushed', 5000);
    events$.next(notice('lab/chat/main', 'live again'));
    await until(() => texts(u2.frames).includes('live again'), 'live event');
    await sleep(300);
    expect(posts).toEqual(['one', 'two']);
    const seen = texts(u2.frames).filter((x) => x && !x.includes('queued'));
    expect(seen).toEqual(['offline 1', 'offline 2', 'live again']);
  }, 30_000);

  it('gives up after the configured time with a message', async () => {
    const s = new RoomServer({ backend: new RelayBackend(), auth });
    const url = await s.start();
    const { t } = target();
    const agent = new AgentClient(t, { url, room: 'lab', token: await cred('lab', 'bot', 'agent'), retryInitialMs: 100, retryMaxMs: 200, giveUpAfterMs: 1000 });
    cleanup.push(() => agent.close());
    await agent.connect();
    await s.stop();
    const err = await agent.done;
    expect(err.message).toMatch(/^gave up reconnecting to ws:\/\/127\.0\.0\.1:\d+ after 1 s/);
  });

  it('a refused credential is not retried', async () => {
    const s = new RoomServer({ backend: new RelayBackend(), auth });
    const url = await s.start();
    cleanup.push(() => s.stop());
    const agent = new AgentClient(target().t, { url, room: 'lab', token: await cred('other', 'bot', 'agent') });
    cleanup.push(() => agent.close());
    await expect(agent.connect()).rejects.toMatchObject({ code: 4403 });
  });
});
