// Room events across nodes on a real PostgreSQL: what one node publishes reaches the others (not
// itself), in order, one row per batch; a node never reads its own rows back; a feed whose LISTEN
// connection is killed reconnects and catches up by seq, without losing or repeating an event.
import { afterEach, describe, expect, it, vi } from 'vitest';
import pg from 'pg';
import { EventFeed, type EventFeedOptions } from '../../../src/cluster/event-feed.js';
import type { RoomEvent } from '../../../src/events/room-events.js';
import { PostgresStore } from '../../../src/storage/postgres/store.js';
import { postgresPerFile } from '../../support/postgres.js';
import { memoryLogger } from '../../support/log.js';

const server = postgresPerFile();
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
}, 60_000);

async function feed(url: string, node: string, extra: Partial<EventFeedOptions> = {}) {
  const store = await PostgresStore.open(url);
  const got: RoomEvent[] = [];
  const { log, records } = memoryLogger('warn');
  // Every statement the feed sends through its pool, from before start() on.
  const queries = vi.spyOn(store.pool, 'query');
  const f = new EventFeed({ pool: store.pool, url, node, deliver: (e) => got.push(e), log, reconnectMs: 200, ...extra });
  await f.start();
  cleanup.push(async () => {
    await f.stop();
    await store.close();
  });
  const texts = () => queries.mock.calls.map(([q]) => (typeof q === 'string' ? q : (q as { text: string }).text));
  /** The statements that read room_events (the publishing INSERT reads only what it inserted). */
  const reads = () => texts().filter((t) => /FROM room_events/.test(t));
  const inserts = () => texts().filter((t) => /INSERT INTO room_events/.test(t));
  /** Until every statement sent so far has answered (a publish has marked its seq read once its INSERT answered). */
  const settled = () => Promise.allSettled(queries.mock.results.map((r) => r.value as Promise<unknown>));
  return { f, got, records, queries, texts, reads, inserts, settled };
}
async function admin(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  cleanup.push(() => c.end());
  return c;
}
const notice = (text: string, session = 'lab/chat/main'): RoomEvent => ({ type: 'notice', session, at: Date.now(), level: 'info', text });
const texts = (got: RoomEvent[]) => got.map((e) => (e as { text: string }).text);
async function until(what: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('room event feed', () => {
  it('events published by one node reach every other node live, in order, and not the publisher', async () => {
    const url = await server.freshDatabase();
    const [a, b, c] = [await feed(url, 'a'), await feed(url, 'b'), await feed(url, 'c')];
    for (const t of ['1', '2', '3']) a.f.publish(notice(t));
    await until(() => b.got.length === 3 && c.got.length === 3);
    expect(texts(b.got)).toEqual(['1', '2', '3']);
    expect(texts(c.got)).toEqual(['1', '2', '3']);
    await new Promise((r) => setTimeout(r, 200));
    expect(a.got).toEqual([]);
  });

  it('one row per published batch, delivered in order; rows of an older node (one event each) and of bad elements are read', async () => {
    const url = await server.freshDatabase();
    const [a, b] = [await feed(url, 'a'), await feed(url, 'b')];
    const db = await admin(url);
    for (const t of ['1', '2', '3']) a.f.publish(notice(t));
    await until(() => b.got.length === 3);
    for (const t of ['4', '5']) a.f.publish(notice(t));
    await until(() => b.got.length === 5);
    // An older node: one event object per row, the NOTIFY only its seq.
    await db.query(`WITH ins AS (INSERT INTO room_events (node, session, body) VALUES ('old', $1, $2) RETURNING seq) SELECT pg_notify('switchboard_room_events', seq::text) FROM ins`, ['lab/chat/main', JSON.stringify(notice('old'))]);
    await until(() => b.got.length === 6);
    // A batch with an element of an unexpected shape: the others are delivered.
    const mixed = [notice('7'), { nope: 1 }, notice('8')];
    await db.query(`WITH ins AS (INSERT INTO room_events (node, session, body) VALUES ('x', '*', $1) RETURNING seq) SELECT pg_notify('switchboard_room_events', seq::text || ':x') FROM ins`, [JSON.stringify(mixed)]);
    // A row over the bound is not read at all.
    const long = Array.from({ length: 501 }, (_, i) => notice(`long ${i}`));
    await db.query(`WITH ins AS (INSERT INTO room_events (node, session, body) VALUES ('x', '*', $1) RETURNING seq) SELECT pg_notify('switchboard_room_events', seq::text || ':x') FROM ins`, [JSON.stringify(long)]);
    for (const t of ['9', '10']) a.f.publish(notice(t));
    await until(() => b.got.length === 10);
    await new Promise((r) => setTimeout(r, 200));
    expect(texts(b.got)).toEqual(['1', '2', '3', '4', '5', 'old', '7', '8', '9', '10']);
    const rows = await db.query<{ node: string; n: number }>("SELECT node, jsonb_array_length(body) AS n FROM room_events WHERE node = 'a' ORDER BY seq");
    expect(rows.rows.map((r) => r.n)).toEqual([3, 2, 2]);
    expect(b.records().filter((r) => r.msg === 'a published room event of an unexpected shape was skipped')).toMatchObject([{ skipped: 1 }]);
    expect(b.records().some((r) => r.msg === 'a published row of too many room events was skipped')).toBe(true);
  });

  it('a node publishing alone never reads its own rows back, and each batch is one statement', async () => {
    const url = await server.freshDatabase();
    const a = await feed(url, 'a');
    // Its connect reads once what came since start() (the newest seq); from then on nothing is read.
    await until(() => a.reads().length === 2);
    const b = await feed(url, 'b');
    a.queries.mockClear();
    for (const batch of [['1', '2'], ['3'], ['4', '5', '6']]) {
      for (const t of batch) a.f.publish(notice(t));
      await until(() => b.got.length === Number(batch.at(-1)));
    }
    // a's own NOTIFYs reached it when b's did (same commit): time to act on them.
    await new Promise((r) => setTimeout(r, 300));
    expect(a.reads()).toEqual([]);
    expect(a.texts()).toEqual(a.inserts());
    expect(a.inserts()).toHaveLength(3);
    // Named: PostgreSQL plans the INSERT once per connection.
    expect(a.queries.mock.calls.map(([q]) => (q as { name?: string }).name)).toEqual(Array(3).fill('switchboard_room_events_publish'));
    expect(texts(b.got)).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(a.got).toEqual([]);
  });

  it("a node's own NOTIFY makes it read again while a seq below is missing: a late commit is delivered, a rollback given up", async () => {
    const url = await server.freshDatabase();
    let now = 0;
    const a = await feed(url, 'a', { gapGraceMs: 1_000, now: () => now });
    await until(() => a.reads().length === 2);
    const other = await admin(url);
    const insert = `WITH ins AS (INSERT INTO room_events (node, session, body) VALUES ('x', $1, $2) RETURNING seq)
      SELECT pg_notify('switchboard_room_events', seq::text || ':x') FROM ins`;
    // Another node's insert commits late: a's row takes the seq after it.
    await other.query('BEGIN');
    await other.query(insert, ['other/chat/main', JSON.stringify([notice('late', 'other/chat/main')])]);
    a.queries.mockClear();
    a.f.publish(notice('1'));
    await until(() => a.inserts().length === 1);
    await a.settled();
    // The gap is known once the INSERT answered; the next own NOTIFY asks for it.
    a.f.publish(notice('2'));
    await until(() => a.reads().length >= 1);
    expect(a.got).toEqual([]);
    await other.query('COMMIT');
    await until(() => a.got.length === 1);
    expect(texts(a.got)).toEqual(['late']);
    // A rolled-back insert: read again until the grace period ends, then no more.
    await other.query('BEGIN');
    await other.query(insert, ['other/chat/main', JSON.stringify([notice('never', 'other/chat/main')])]);
    await other.query('ROLLBACK');
    a.queries.mockClear();
    a.f.publish(notice('3'));
    await until(() => a.inserts().length === 1);
    await a.settled();
    now += 1_000;
    a.queries.mockClear();
    a.f.publish(notice('4'));
    await until(() => a.records().some((r) => String(r.msg).startsWith('room events given up')));
    await until(() => a.inserts().length === 1);
    await a.settled();
    await new Promise((r) => setTimeout(r, 300));
    expect(a.reads()).toEqual([]);
    expect(a.got).toHaveLength(1);
  });

  it('a killed LISTEN connection: the feed reconnects and catches up what was published meanwhile', async () => {
    const url = await server.freshDatabase();
    const a = await feed(url, 'a');
    const b = await feed(url, 'b');
    a.f.publish(notice('before'));
    await until(() => b.got.length === 1);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    cleanup.push(() => admin.end());
    const killed = await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()");
    expect(killed.rowCount).toBe(2);
    for (const t of ['during 1', 'during 2']) a.f.publish(notice(t));
    await until(() => b.got.length === 3);
    expect(texts(b.got)).toEqual(['before', 'during 1', 'during 2']);
    expect(b.records().some((r) => r.msg === 'room event feed lost its connection; reconnecting')).toBe(true);
    a.f.publish(notice('after'));
    await until(() => b.got.length === 4);
    expect(texts(b.got)).toEqual(['before', 'during 1', 'during 2', 'after']);
  });

  it('a row of an unexpected shape is skipped, not delivered', async () => {
    const url = await server.freshDatabase();
    const b = await feed(url, 'b');
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    cleanup.push(() => admin.end());
    await admin.query(`INSERT INTO room_events (node, session, body) VALUES ('x', 's', '{"nope": 1}'); NOTIFY switchboard_room_events, '1'`);
    const a = await feed(url, 'a');
    a.f.publish(notice('ok'));
    await until(() => b.got.length === 1);
    expect(texts(b.got)).toEqual(['ok']);
    expect(b.records().some((r) => r.msg === 'a published room event of an unexpected shape was skipped')).toBe(true);
  });

  it('a row that commits after a later one is still delivered; a seq never committed is given up after the grace period, logged', async () => {
    const url = await server.freshDatabase();
    let now = 0;
    const b = await feed(url, 'b', { gapGraceMs: 1_000, now: () => now });
    const a = await feed(url, 'a');
    // Another node's publish whose transaction commits late: its seq is below a's rows.
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    cleanup.push(() => other.end());
    const insert = `WITH ins AS (INSERT INTO room_events (node, session, body) VALUES ('x', $1, $2) RETURNING seq)
      SELECT pg_notify('switchboard_room_events', seq::text) FROM ins`;
    await other.query('BEGIN');
    await other.query(insert, ['other/chat/main', JSON.stringify(notice('late', 'other/chat/main'))]);
    a.f.publish(notice('1'));
    a.f.publish(notice('2'));
    await until(() => b.got.length === 2);
    await other.query('COMMIT');
    await until(() => b.got.length === 3);
    expect(texts(b.got)).toEqual(['1', '2', 'late']);
    // A rolled-back insert leaves its seq unused for good: asked for until the grace period ends.
    await other.query('BEGIN');
    await other.query(insert, ['other/chat/main', JSON.stringify(notice('never', 'other/chat/main'))]);
    await other.query('ROLLBACK');
    a.f.publish(notice('3'));
    await until(() => b.got.length === 4);
    now += 1_000;
    a.f.publish(notice('4'));
    await until(() => b.got.length === 5);
    expect(texts(b.got)).toEqual(['1', '2', 'late', '3', '4']);
    expect(b.records().filter((r) => String(r.msg).startsWith('room events given up'))).toMatchObject([{ count: 1, why: 'not committed within 1000 ms' }]);
  });

  it('listen/notify: another channel on the same LISTEN connection, kept across a reconnect', async () => {
    const url = await server.freshDatabase();
    const store = await PostgresStore.open(url);
    const { log } = memoryLogger('warn');
    const heard: string[] = [];
    const f = new EventFeed({ pool: store.pool, url, node: 'b', deliver: () => undefined, log, reconnectMs: 100 });
    f.listen('switchboard_test', (p) => void (p !== undefined && heard.push(p)));
    await f.start();
    cleanup.push(async () => {
      await f.stop();
      await store.close();
    });
    // A NOTIFY reaches only a live LISTEN: sent again until heard (the connection comes up asynchronously).
    const hear = async (payload: string) => {
      for (let i = 0; !heard.includes(payload); i++) {
        if (i > 200) throw new Error(`never heard ${payload}`);
        await f.notify('switchboard_test', payload);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await hear('one');
    const killed = await store.pool.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()");
    expect(killed.rowCount).toBe(1);
    await hear('two');
    expect(heard.filter((p) => p === 'one')).toHaveLength(1);
  });
});
