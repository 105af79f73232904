// `/stop` forwarding on a real PostgreSQL, with the driving node's real event feed and stand-ins
// for its driver: the command is a row the driver takes when woken and after its LISTEN
// connection reconnects (a NOTIFY sent while it was down is not lost); a forwarded /stop that is
// too old is dropped, not run; rows nobody will take are deleted.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { EventFeed } from '../../../src/cluster/event-feed.js';
import { StopForwarding } from '../../../src/cluster/stop-forwarding.js';
import { PostgresStore } from '../../../src/storage/postgres/store.js';
import type { InboxMessage } from '../../../src/storage/types.js';
import { memoryLogger } from '../../support/log.js';
import { postgresPerFile } from '../../support/postgres.js';

const server = postgresPerFile();
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
}, 60_000);

const SESSION = 'lab/chat/main';
const stop = (text = '/stop'): InboxMessage => ({ room: 'lab', channel: 'chat', thread: 'main', from: { id: 'ann', role: 'member' }, text });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(25);
  }
}

/** A node's stop forwarding on its own pool; `feed`: a real event feed (LISTEN), else none (it only sends). */
async function node(url: string, name: string, o: { feed?: boolean; reconnectMs?: number; drives?: boolean } = {}) {
  const store = await PostgresStore.open(url);
  const { log, records } = memoryLogger('info');
  const ran: Array<{ session: string; text: string; id: string }> = [];
  const queued: string[] = [];
  // Without a feed it still NOTIFYs, as a node does (its LISTEN plays no part in sending).
  const notify = async (channel: string, payload: string) => void (await store.pool.query('SELECT pg_notify($1, $2)', [channel, payload]));
  const feed = o.feed ? new EventFeed({ pool: store.pool, url, node: name, deliver: () => undefined, log, reconnectMs: o.reconnectMs ?? 200 }) : { listen: () => undefined, notify };
  const stops = new StopForwarding({
    pool: store.pool,
    node: name,
    feed,
    drives: () => o.drives ?? false,
    runNow: async (session, msg, id) => void ran.push({ session, text: msg.text, id }),
    enqueue: async (_session, msg) => void queued.push(msg.text),
    log,
  });
  if (feed instanceof EventFeed) await feed.start();
  cleanup.push(async () => {
    if (feed instanceof EventFeed) await feed.stop();
    await store.close();
  });
  const warned = (msg: string) => records().filter((r) => r.level === 40 && r.msg === msg);
  return { store, stops, ran, queued, records, warned };
}

async function admin(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  cleanup.push(() => c.end());
  return c;
}
const leaseTo = (db: pg.Client, to: string) => db.query(`INSERT INTO session_leases (session, node, epoch, expires_at) VALUES ($1, $2, 1, now() + interval '1 minute')`, [SESSION, to]);
const rows = async (db: pg.Client) => (await db.query<{ id: string; to_node: string }>('SELECT id, to_node FROM forwarded_commands ORDER BY created_at')).rows;

describe('/stop forwarded to the driving node', () => {
  it('is a row the driver takes once: at once when its LISTEN is up, after its reconnect when it was down', async () => {
    const url = await server.freshDatabase();
    const db = await admin(url);
    const b = await node(url, 'b', { feed: true, reconnectMs: 1_500, drives: true });
    const a = await node(url, 'a');
    await leaseTo(db, 'b');
    // b's feed connects asynchronously: a first /stop is forwarded once it listens.
    await until(async () => (await db.query("SELECT 1 FROM pg_stat_activity WHERE query LIKE 'LISTEN%'")).rowCount === 1);
    const first = randomUUID();
    expect(await a.stops.forward(SESSION, stop(), first)).toBe(true);
    await until(() => b.ran.length === 1);
    expect(b.ran).toEqual([{ session: SESSION, text: '/stop', id: first }]);
    expect(await rows(db)).toEqual([]);

    // b's LISTEN connection is cut; a /stop forwarded before it is back is run once it is.
    const killed = await db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()");
    expect(killed.rowCount).toBe(1);
    await until(() => b.warned('room event feed lost its connection; reconnecting').length === 1);
    const second = randomUUID();
    expect(await a.stops.forward(SESSION, stop(' /stop '), second)).toBe(true);
    expect((await rows(db)).map((r) => [r.id, r.to_node])).toEqual([[second, 'b']]);
    await sleep(300);
    expect(b.ran).toHaveLength(1); // not yet: nobody heard the NOTIFY
    await until(() => b.ran.length === 2);
    expect(b.ran[1]).toEqual({ session: SESSION, text: ' /stop ', id: second });
    expect(await rows(db)).toEqual([]);
    // Each ran once: later wake-ups find nothing.
    await b.stops.take();
    expect(b.ran).toHaveLength(2);
    expect(a.ran).toEqual([]);
  });

  it('a forwarded /stop older than the bound by the database clock is dropped, logged, not run; a fresh one behind it runs', async () => {
    const url = await server.freshDatabase();
    const db = await admin(url);
    const b = await node(url, 'b', { drives: true });
    const a = await node(url, 'a');
    await leaseTo(db, 'b');
    const old = randomUUID();
    await db.query(`INSERT INTO forwarded_commands (id, session, to_node, from_node, body, created_at) VALUES ($1, $2, 'b', 'a', $3, now() - interval '20 seconds')`, [old, SESSION, JSON.stringify(stop())]);
    const fresh = randomUUID();
    expect(await a.stops.forward(SESSION, stop(), fresh)).toBe(true);
    await b.stops.take();
    expect(b.ran.map((r) => r.id)).toEqual([fresh]);
    expect(b.warned('a forwarded /stop came too late and was dropped: it could stop a later turn')).toMatchObject([{ session: SESSION, from: 'a', staleMs: 15_000 }]);
    expect(await rows(db)).toEqual([]);
  });

  it('rows of a node gone for an hour are deleted, rows of an unexpected shape ignored; no lease: queued here; a lease moved on: queued there', async () => {
    const url = await server.freshDatabase();
    const db = await admin(url);
    const b = await node(url, 'b', { drives: false });
    const a = await node(url, 'a');
    // No live lease: nothing forwarded, the caller queues it.
    expect(await a.stops.forward(SESSION, stop(), randomUUID())).toBe(false);
    // A lease of a's own (its driver not yet running the conversation): queued too.
    await leaseTo(db, 'a');
    expect(await a.stops.forward(SESSION, stop(), randomUUID())).toBe(false);
    expect(await rows(db)).toEqual([]);
    await db.query('DELETE FROM session_leases');
    await leaseTo(db, 'b');
    const insert = (to: string, body: unknown, age: string) =>
      db.query(`INSERT INTO forwarded_commands (id, session, to_node, from_node, body, created_at) VALUES ($1, $2, $3, 'a', $4, now() - $5::interval)`, [randomUUID(), SESSION, to, JSON.stringify(body), age]);
    await insert('gone', stop(), '2 hours');
    await insert('gone', stop(), '1 minute');
    await insert('b', { nope: 1 }, '0 seconds');
    await insert('b', stop('hello'), '0 seconds');
    // b no longer drives the conversation when the /stop arrives: it waits in the queue.
    expect(await a.stops.forward(SESSION, stop(), randomUUID())).toBe(true);
    await b.stops.take();
    expect(b.ran).toEqual([]);
    expect(b.queued).toEqual(['/stop']);
    expect(b.warned('a forwarded command of an unexpected shape was ignored')).toHaveLength(1);
    expect(b.warned('a forwarded command that is not a /stop was ignored')).toHaveLength(1);
    // The row of a node that may still come back stays; the hour-old one went.
    expect((await rows(db)).map((r) => r.to_node)).toEqual(['gone']);
  });
});
