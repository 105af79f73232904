// Room events across nodes on a real PostgreSQL: what one node publishes reaches the others (not
// itself), in order; a feed whose LISTEN connection is killed reconnects and catches up by seq,
// without losing or repeating an event.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { EventFeed } from '../../../src/cluster/event-feed.js';
import type { RoomEvent } from '../../../src/events/room-events.js';
import { PostgresStore } from '../../../src/storage/postgres/store.js';
import { startPostgres, type TestPostgres } from '../../support/postgres.js';
import { memoryLogger } from '../../support/log.js';

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => server?.stop(), 60_000);
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
}, 60_000);

async function feed(url: string, node: string) {
  const store = await PostgresStore.open(url);
  const got: RoomEvent[] = [];
  const { log, records } = memoryLogger('warn');
  const f = new EventFeed({ pool: store.pool, url, node, deliver: (e) => got.push(e), log, reconnectMs: 200 });
  await f.start();
  cleanup.push(async () => {
    await f.stop();
    await store.close();
  });
  return { f, got, records };
}
const notice = (text: string): RoomEvent => ({ type: 'notice', session: 'lab/chat/main', at: Date.now(), level: 'info', text });
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
});
