// Issue 11 #5 and #14: a client that does not read cannot grow the host's memory, history
// comes in pages (newest first), and rates and connection counts are capped.
import { afterEach, describe, expect, it } from 'vitest';
import type { StoredRecord } from '../../src/storage/types.js';
import { DEFAULT_ROOM_LIMITS } from '../../src/room/limits.js';
import { client, cred, notice, sleep, startServer, until, type Cleanup, type Frame } from './room-support.js';

const cleanup: Cleanup = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const records = (n: number, room = 'lab'): StoredRecord[] =>
  Array.from({ length: n }, (_, i) => ({ kind: 'message', role: 'user', text: `message ${i + 1} ${'x'.repeat(200)}`, seq: i + 1, session: `${room}/chat/main`, at: i }));
const pause = (ws: { _socket?: { pause(): void; resume(): void } }) => ws._socket!;
const mib = (n: number) => Math.round((n / 1024 / 1024) * 10) / 10;

describe('#5 send backpressure and history pages', () => {
  it('a client that never reads is closed with 4408 once its send buffer is over the cap', async () => {
    const { url, events$ } = await startServer(cleanup, { limits: { maxBufferedBytes: 512 * 1024, slowConsumerGraceMs: 30_000 } });
    const c = client(cleanup, url);
    await c.join({ token: await cred('lab', 'slow') });
    const sock = pause(c.ws as never);
    sock.pause();
    const big = 'y'.repeat(4096);
    for (let i = 0; i < 5000; i++) events$.next(notice('lab/chat/main', `${i} ${big}`)); // ~20 MiB
    sock.resume();
    expect(await c.closed).toEqual({ code: 4408, reason: 'send buffer over limit (slow consumer)' });
    const got = c.frames.filter((f) => f.type === 'event').length;
    expect(got).toBeGreaterThan(0);
    expect(got).toBeLessThan(5000);
  });

  it('150 non-reading clients of a 10,000-record room keep host memory bounded', async () => {
    const { url, events$, server } = await startServer(cleanup, {
      history: records(10_000),
      limits: { maxBufferedBytes: 1024 * 1024, slowConsumerGraceMs: 200, maxConnectionsPerAddress: 500, maxConnectionsPerRoom: 500, joinBurst: 500 },
    });
    const token = await cred('lab', 'flood');
    const socks = [];
    global.gc?.();
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 150; i++) {
      const c = client(cleanup, url);
      await c.send({ type: 'join', token });
      socks.push(c);
    }
    await until(() => server.stats().rooms.lab === 150, 'all joined', 30_000);
    for (const c of socks) pause(c.ws as never).pause();
    const big = 'z'.repeat(4096);
    let peak = 0;
    for (let i = 0; i < 2000; i++) {
      // Without the cap this would queue ~8 MiB per socket, 1.2 GiB in all.
      events$.next(notice('lab/chat/main', `${i} ${big}`));
      if (i % 200 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    await until(() => server.stats().connections === 0, 'slow consumers cut off', 30_000);
    await sleep(200);
    global.gc?.();
    const after = process.memoryUsage().rss;
    console.log(`#5 figures: rss before ${mib(before)} MiB, peak ${mib(peak)} MiB, after ${mib(after)} MiB (150 sockets, 10,000 records, 2,000 x 4 KiB events, cap 1 MiB/socket)`);
    expect(peak - before).toBeLessThan(400 * 1024 * 1024);
    // The joined page is the newest 200 records, not all 10,000.
    const joined = socks[0]!.frames.find((f) => f.type === 'joined');
    if (joined) expect((joined.history as StoredRecord[]).length).toBe(200);
  }, 90_000);

  it('joined carries the newest page; older pages come by cursor; page size is capped', async () => {
    const { url } = await startServer(cleanup, { history: records(1500) });
    const c = client(cleanup, url);
    const joined = await c.join({ token: await cred('lab', 'late') });
    const page = joined.history as StoredRecord[];
    expect(page.map((r) => r.seq)).toEqual(Array.from({ length: 200 }, (_, i) => 1301 + i));
    expect(joined.historyBefore).toBe(1301);
    await c.send({ type: 'history', before: 1301, limit: 100 });
    const older = await c.next((f) => f.type === 'history');
    expect((older.records as StoredRecord[]).map((r) => r.seq)).toEqual(Array.from({ length: 100 }, (_, i) => 1201 + i));
    expect(older.before).toBe(1201);
    await c.send({ type: 'history', before: 1201, limit: 50_000 });
    const capped = await c.next((f) => f.type === 'history' && f !== older);
    expect((capped.records as StoredRecord[]).length).toBe(DEFAULT_ROOM_LIMITS.historyPageMax);
    expect((capped.records as StoredRecord[]).at(-1)!.seq).toBe(1200);
    await c.send({ type: 'history', before: 201, limit: 1000 });
    const last = await c.next((f) => f.type === 'history' && f !== older && f !== capped);
    expect((last.records as StoredRecord[]).length).toBe(200);
    expect(last.before).toBeUndefined();
  });
});

describe('#14 rate limits and connection caps', () => {
  it('1,000 messages from one client: most are refused with retryAfterMs, nothing of them posted', async () => {
    const { url, posts } = await startServer(cleanup);
    const c = client(cleanup, url);
    await c.join({ token: await cred('lab', 'spammer') });
    for (let i = 0; i < 1000; i++) await c.send({ type: 'message', text: `spam ${i}` });
    await until(() => posts.length + c.frames.filter((f) => f.code === 'rate_limited').length === 1000, 'all 1000 answered');
    const refused = c.frames.filter((f) => f.code === 'rate_limited') as Array<Frame & { retryAfterMs: number }>;
    expect(posts.length).toBeLessThanOrEqual(DEFAULT_ROOM_LIMITS.messageBurst + 5);
    expect(refused.length).toBeGreaterThanOrEqual(1000 - DEFAULT_ROOM_LIMITS.messageBurst - 5);
    expect(refused.every((f) => f.retryAfterMs > 0 && f.type === 'error')).toBe(true);
    // Another participant is not starved by the spammer.
    const other = client(cleanup, url);
    await other.join({ token: await cred('lab', 'ann') });
    await other.send({ type: 'message', text: 'still heard' });
    await until(() => posts.some((p) => p.text === 'still heard'), 'ann posted');
  });

  it('joins per participant are rate limited', async () => {
    const { url } = await startServer(cleanup, { limits: { joinBurst: 2, joinsPerSecond: 0.1 } });
    const token = await cred('lab', 'flapper');
    for (let i = 0; i < 2; i++) await client(cleanup, url).join({ token });
    const third = client(cleanup, url);
    await third.send({ type: 'join', token });
    expect(await third.next((f) => f.type === 'error')).toMatchObject({ code: 'rate_limited', retryAfterMs: expect.any(Number) });
    expect(third.frames.some((f) => f.type === 'joined')).toBe(false);
  });

  it('connections over the per-address cap are closed with 4429', async () => {
    const { url } = await startServer(cleanup, { limits: { maxConnectionsPerAddress: 5 } });
    const cs = Array.from({ length: 5 }, () => client(cleanup, url));
    await Promise.all(cs.map((c) => c.opened));
    const sixth = client(cleanup, url);
    expect(await sixth.closed).toEqual({ code: 4429, reason: 'too many connections from your address' });
    // A slot frees up when one leaves.
    cs[0]!.ws.close();
    await cs[0]!.closed;
    await sleep(50);
    await client(cleanup, url).join({ token: await cred('lab', 'ann') });
  });

  it('joins over the per-room cap are closed with 4429', async () => {
    const { url } = await startServer(cleanup, { limits: { maxConnectionsPerRoom: 2 } });
    await client(cleanup, url).join({ token: await cred('lab', 'a') });
    await client(cleanup, url).join({ token: await cred('lab', 'b') });
    const third = client(cleanup, url);
    await third.send({ type: 'join', token: await cred('lab', 'c') });
    expect(await third.closed).toEqual({ code: 4429, reason: 'room "lab" is full' });
    await client(cleanup, url).join({ token: await cred('other', 'd') });
  });
});
