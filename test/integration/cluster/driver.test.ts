// Exactly one driver per conversation: ClusterDrivers of several nodes on one real PostgreSQL.
// What a node would send to Codex is recorded per inbox entry (the Codex side is a recorder
// here; the supervisor test drives the real app-server).
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { ClusterDriver } from '../../../src/cluster/driver.js';
import { candidateSessions } from '../../../src/cluster/candidates.js';
import { fencedHistory } from '../../../src/cluster/fenced-store.js';
import type { RoomEvent } from '../../../src/events/room-events.js';
import type { Lease, QueuedMessage } from '../../../src/storage/cluster.js';
import { PostgresStore } from '../../../src/storage/postgres/store.js';
import { postgresPerFile } from '../../support/postgres.js';
import { memoryLogger } from '../../support/log.js';

const server = postgresPerFile();

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
}, 60_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const msg = (text: string) => ({ room: 'r', channel: 'chat', thread: 'main', from: { id: 'ann' }, text });
const SESSION = 'r/chat/main';

interface Sent {
  node: string;
  entry: QueuedMessage;
}

/** A node: its own pool, a driver whose dispatch records the send and starts a "turn" the test ends. */
async function node(
  url: string,
  name: string,
  sent: Sent[],
  opts: { ttlMs?: number; maxSessions?: number; pollMs?: number; taken?: (e: QueuedMessage) => boolean; starts?: (e: QueuedMessage) => boolean; clock?: SimulatedClock; failAcks?: number } = {},
) {
  const store = await PostgresStore.open(url);
  const events: RoomEvent[] = [];
  const dropped: string[] = [];
  const { log, lines } = memoryLogger('warn');
  let turn = 0;
  const candidates = candidateSessions(store.pool, name);
  let scans = 0;
  const driver: ClusterDriver = new ClusterDriver({
    cluster: withFailingAcks(store.cluster(name), opts.failAcks ?? 0),
    candidates: (limit) => (scans++, candidates(limit)),
    ttlMs: opts.ttlMs ?? 10_000,
    maxSessions: opts.maxSessions ?? 8,
    pollMs: opts.pollMs ?? 100,
    dispatch: async (session, entry) => {
      sent.push({ node: name, entry });
      if (opts.starts && !opts.starts(entry)) return 'turn';
      const e: RoomEvent = { type: 'turn.started', session, at: Date.now(), turnId: `${name}-t${++turn}`, threadId: 'th-1' } as RoomEvent;
      events.push(e);
      driver.onEvent(e);
      return 'turn';
    },
    drop: (s) => dropped.push(s),
    sentAlready: async (_s, e) => (opts.taken?.(e) ? { threadId: 'th-1' } : undefined),
    emit: (e) => events.push(e),
    log,
    turnStartTimeoutMs: 30_000,
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  const end = (session = SESSION) => {
    const started = [...events].reverse().find((e) => e.type === 'turn.started' && e.session === session) as Extract<RoomEvent, { type: 'turn.started' }>;
    driver.onEvent({ type: 'turn.completed', session, at: Date.now(), turnId: started.turnId, threadId: 'th-1' } as RoomEvent);
  };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await driver.stop();
    await store.close();
  };
  cleanup.push(stop);
  return { store, driver, events, dropped, end, stop, name, scans: () => scans, lines };
}

/** The first `n` acks fail as a lost connection would (not fenced). */
function withFailingAcks<C extends { ack(l: Lease, id: string): Promise<void> }>(cluster: C, n: number): C {
  if (!n) return cluster;
  return Object.assign(Object.create(cluster) as C, { ack: (l: Lease, id: string) => (n-- > 0 ? Promise.reject(new Error('Connection terminated unexpectedly')) : cluster.ack(l, id)) });
}

async function until(what: () => boolean, ms = 8_000): Promise<void> {
  const t0 = Date.now();
  while (!what()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await sleep(25);
  }
}

describe('cluster driver', () => {
  it('three nodes: one conversation has one driver; its messages run once each, in posting order', async () => {
    const url = await server.freshDatabase();
    const sent: Sent[] = [];
    const ns = await Promise.all(['a', 'b', 'c'].map((n) => node(url, n, sent)));
    await Promise.all(ns.map((n) => n.driver.start()));
    // Posted on different nodes.
    for (const [i, n] of [ns[0]!, ns[1]!, ns[2]!].entries()) await n.store.cluster(n.name).enqueue(SESSION, msg(`m${i + 1}`));
    for (const n of ns) n.driver.wake();
    await until(() => sent.length === 1);
    await sleep(400);
    expect(sent).toHaveLength(1);
    const driver = ns.find((n) => n.name === sent[0]!.node)!;
    expect(ns.filter((n) => n.driver.drives(SESSION)).map((n) => n.name)).toEqual([driver.name]);
    for (let k = 1; k <= 3; k++) {
      await until(() => sent.length === k);
      driver.end();
    }
    await sleep(300);
    expect(sent.map((s) => s.entry.message.text)).toEqual(['m1', 'm2', 'm3']);
    expect(new Set(sent.map((s) => s.node))).toEqual(new Set([driver.name]));
    const left = await driver.store.pool.query('SELECT count(*)::int AS n FROM inbox');
    expect(left.rows[0].n).toBe(0);
  });

  it('a driver that dies mid-turn: another node takes over after the TTL; a message Codex took is not sent again, the room is told; the queue follows in order', async () => {
    const url = await server.freshDatabase();
    const sent: Sent[] = [];
    const a = await node(url, 'a', sent, { ttlMs: 1_000 });
    await a.driver.start();
    await a.store.cluster('a').enqueue(SESSION, msg('first'));
    a.driver.wake();
    await until(() => sent.length === 1);
    const firstId = sent[0]!.entry.id;
    await a.store.cluster('a').enqueue(SESSION, msg('second'));
    // "kill -9": renewals stop, nothing is released, nothing more runs there.
    await a.driver.keeper.stop();
    (a.driver as unknown as { actor: { stop(): void } }).actor.stop();
    const b = await node(url, 'b', sent, { ttlMs: 1_000, taken: (e) => e.id === firstId });
    const t0 = Date.now();
    await b.driver.start();
    await until(() => b.events.some((e) => e.type === 'turn.interrupted'), 5_000);
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(b.events.find((e) => e.type === 'notice')).toMatchObject({ level: 'warning', text: expect.stringContaining('"first"') });
    await until(() => sent.length === 2);
    expect(sent.map((s) => [s.node, s.entry.message.text])).toEqual([
      ['a', 'first'],
      ['b', 'second'],
    ]);
    expect(sent[1]!.entry.reclaimed).toBe(false);
    b.end();
    await sleep(300);
    expect((await b.store.pool.query('SELECT 1 FROM inbox')).rowCount).toBe(0);
  });

  it('a reclaimed message Codex never took runs again on the new driver, once', async () => {
    const url = await server.freshDatabase();
    const sent: Sent[] = [];
    const a = await node(url, 'a', sent, { ttlMs: 800 });
    await a.driver.start();
    await a.store.cluster('a').enqueue(SESSION, msg('only'));
    a.driver.wake();
    await until(() => sent.length === 1);
    await a.driver.keeper.stop();
    (a.driver as unknown as { actor: { stop(): void } }).actor.stop();
    const b = await node(url, 'b', sent, { ttlMs: 800, taken: () => false });
    await b.driver.start();
    await until(() => sent.length === 2, 5_000);
    expect(sent[1]).toMatchObject({ node: 'b', entry: { reclaimed: true, message: { text: 'only' } } });
    expect(b.events.find((e) => e.type === 'notice')).toMatchObject({ level: 'info', text: expect.stringContaining('node b runs it now') });
    b.end();
    await sleep(300);
    expect(sent).toHaveLength(2);
  });

  it('a node restarted under the same id takes its conversations back at once, under a new epoch: a message its old process claimed runs again after the thread check, once', async () => {
    const url = await server.freshDatabase();
    const sent: Sent[] = [];
    // Claimed, dispatched, then the process dies before Codex took it (no turn starts).
    const before = await node(url, 'a', sent, { starts: () => false });
    await before.driver.start();
    const queued = await before.store.cluster('a').enqueue(SESSION, msg('claimed before the crash'));
    before.driver.wake();
    await until(() => sent.length === 1);
    // "kill -9": renewals stop, nothing is released; the lease stays live for its 10 s TTL.
    await before.driver.keeper.stop();
    (before.driver as unknown as { actor: { stop(): void } }).actor.stop();
    const checked: string[] = [];
    const after = await node(url, 'a', sent, { taken: (e) => (checked.push(e.id), false) });
    const t0 = Date.now();
    await after.driver.start();
    await until(() => sent.length === 2, 5_000);
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(sent[1]!.entry).toMatchObject({ id: queued.id, reclaimed: true });
    expect(checked).toEqual([queued.id]);
    expect((await after.store.cluster('a').leaseOf(SESSION))!.epoch).toBe(2);
    after.end();
    await sleep(300);
    expect(sent).toHaveLength(2);
    expect((await after.store.pool.query('SELECT 1 FROM inbox')).rowCount).toBe(0);
  });

  it('a paused-then-resumed old driver cannot write: its ack is fenced, it stops driving and drops the session', async () => {
    const url = await server.freshDatabase();
    const sent: Sent[] = [];
    const a = await node(url, 'a', sent, { ttlMs: 800 });
    await a.driver.start();
    await a.store.cluster('a').enqueue(SESSION, msg('x'));
    a.driver.wake();
    await until(() => sent.length === 1);
    // Paused: no renewals (its timer is stopped), the lease runs out, b takes it.
    await a.driver.keeper.stop();
    const b = await node(url, 'b', sent, { ttlMs: 800, taken: () => true });
    await b.driver.start();
    await until(() => b.driver.drives(SESSION), 5_000);
    // Still paused: a's history write under its old lease is refused (fenced), b's goes in.
    const note = { kind: 'notice' as const, level: 'info' as const, text: 'late' };
    await expect(fencedHistory(a.store, a.store.cluster('a'), a.driver).append(SESSION, note)).rejects.toThrow(/rejected: node a holds epoch 1/);
    await expect(fencedHistory(b.store, b.store.cluster('b'), b.driver).append(SESSION, { ...note, text: 'b' })).resolves.toMatchObject({ text: 'b' });
    // Resumed: a's turn ends and it tries to ack.
    a.end();
    await until(() => a.dropped.includes(SESSION));
    expect(a.driver.drives(SESSION)).toBe(false);
    // Once it knows, it does not even try: nothing of the conversation is written by a any more.
    await expect(fencedHistory(a.store, a.store.cluster('a'), a.driver).append(SESSION, note)).rejects.toThrow(/no longer drives/);
    expect((await b.store.history(SESSION)).map((r) => (r as { text?: string }).text)).toEqual(['b']);
    // b reclaimed the message, found Codex had it and acked it; a's late ack was refused, not applied.
    expect(b.events.some((e) => e.type === 'turn.interrupted')).toBe(true);
    expect(sent.map((s) => s.node)).toEqual(['a']);
  });

  it('a dispatched message whose turn never starts is acked after the turn-start timeout, with a notice; the next one runs', async () => {
    const url = await server.freshDatabase();
    const sent: Sent[] = [];
    const clock = new SimulatedClock();
    const a = await node(url, 'a', sent, { starts: (e) => e.message.text !== 'stuck', clock });
    await a.driver.start();
    await a.store.cluster('a').enqueue(SESSION, msg('stuck'));
    await a.store.cluster('a').enqueue(SESSION, msg('next'));
    a.driver.wake();
    await until(() => sent.length === 1);
    // Not yet: the queue waits for the turn.
    clock.increment(29_000);
    await sleep(300);
    expect(sent).toHaveLength(1);
    clock.increment(1_000);
    await until(() => sent.length === 2);
    expect(sent.map((s) => s.entry.message.text)).toEqual(['stuck', 'next']);
    expect(a.events.find((e) => e.type === 'notice')).toMatchObject({ level: 'warning', text: expect.stringContaining('No turn started for "stuck" within 30 s') });
    // The stuck message's session actor is dropped, so a late turn of it cannot pass for the next one's.
    expect(a.dropped).toEqual([SESSION]);
    // A turn that starts in time is not given up.
    clock.increment(60_000);
    await sleep(200);
    expect(a.events.filter((e) => e.type === 'notice')).toHaveLength(1);
    a.end();
    await until(() => sent.length === 2);
    await sleep(300);
    expect((await a.store.pool.query('SELECT 1 FROM inbox')).rowCount).toBe(0);
  });

  it('more conversations than maxSessions: idle leases are given up for queued conversations, so every one runs', async () => {
    const url = await server.freshDatabase();
    const sent: Sent[] = [];
    const a = await node(url, 'a', sent, { maxSessions: 3 });
    await a.driver.start();
    const sessions = Array.from({ length: 7 }, (_, i) => `r/chat/s${i}`);
    for (const s of sessions) await a.store.cluster('a').enqueue(s, msg(s));
    a.driver.wake();
    for (const k of [3, 6, 7]) {
      await until(() => sent.length === k);
      await sleep(200);
      // Never more than maxSessions running, nor holding a lease.
      expect(sent).toHaveLength(k);
      expect(sessions.filter((s) => a.driver.drives(s)).length).toBeLessThanOrEqual(3);
      for (const s of sent.slice(k - (k === 7 ? 1 : 3)).map((x) => x.entry.session)) a.end(s);
    }
    await until(() => a.dropped.length === 4);
    expect(new Set(sent.map((s) => s.entry.message.text))).toEqual(new Set(sessions));
    expect(a.dropped.every((s) => !a.driver.drives(s))).toBe(true);
    await sleep(200);
    // Released, not left to run out: the database holds three leases, all a's.
    const leases = await a.store.pool.query('SELECT node FROM session_leases WHERE expires_at > now()');
    expect(leases.rows.map((r) => r.node)).toEqual(['a', 'a', 'a']);
  });

  it('a conversation runs its next message at once after each end, 8 in a row without a scan; the 9th after a scan; each once, in order', async () => {
    const url = await server.freshDatabase();
    const sent: Sent[] = [];
    // No timer scans in the test's time: a scan happens only when the driver asks for one.
    const a = await node(url, 'a', sent, { pollMs: 60_000 });
    const texts = Array.from({ length: 10 }, (_, i) => `m${i + 1}`);
    for (const t of texts) await a.store.cluster('a').enqueue(SESSION, msg(t));
    await a.driver.start();
    await until(() => sent.length === 1);
    const scans = a.scans();
    for (let k = 2; k <= 8; k++) {
      a.end();
      await until(() => sent.length === k);
    }
    expect(a.scans()).toBe(scans);
    // Then it waits for a scan like any other conversation (the driver wakes itself for it).
    a.end();
    await until(() => sent.length === 9);
    expect(a.scans()).toBeGreaterThan(scans);
    a.end();
    await until(() => sent.length === 10);
    a.end();
    await sleep(300);
    expect(sent.map((s) => s.entry.message.text)).toEqual(texts);
    expect(new Set(sent.map((s) => s.entry.id)).size).toBe(texts.length);
    expect((await a.store.pool.query('SELECT 1 FROM inbox')).rowCount).toBe(0);
  });

  it('a scan while a turn end claims the next message claims nothing more for that conversation: one message at a time', async () => {
    const url = await server.freshDatabase();
    const sent: Sent[] = [];
    let ended = 0;
    let most = 0;
    // Taken as each message is dispatched: messages dispatched and not ended yet, this one included.
    const a = await node(url, 'a', sent, { starts: () => ((most = Math.max(most, sent.length - ended)), true) });
    const texts = Array.from({ length: 12 }, (_, i) => `m${i + 1}`);
    for (const t of texts) await a.store.cluster('a').enqueue(SESSION, msg(t));
    await a.driver.start();
    for (let k = 1; k <= texts.length && most <= 1; k++) {
      await until(() => sent.length >= k || most > 1);
      // Scans right before and after the end, so one runs while the end's ack claims the next message.
      a.driver.wake();
      ended++;
      a.end();
      for (let i = 0; i < 4; i++) {
        await new Promise((r) => setImmediate(r));
        a.driver.wake();
      }
    }
    await sleep(300);
    expect(most).toBe(1);
    expect(sent.map((s) => s.entry.message.text)).toEqual(texts);
    expect((await a.store.pool.query('SELECT 1 FROM inbox')).rowCount).toBe(0);
  });

  it('a full node scanning while a turn end claims the next message keeps that conversation: no lease given up, no message reclaimed', async () => {
    const url = await server.freshDatabase();
    const sent: Sent[] = [];
    const a = await node(url, 'a', sent, { maxSessions: 1 });
    const other = 'r/chat/other';
    await a.store.cluster('a').enqueue(SESSION, msg('m1'));
    await a.store.cluster('a').enqueue(SESSION, msg('m2'));
    await a.driver.start();
    await until(() => sent.length === 1);
    await a.store.cluster('a').enqueue(other, msg('o1'));
    // A scan while m1's end claims m2: the node is full (m2 is about to run), so it takes nothing.
    a.driver.wake();
    a.end();
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setImmediate(r));
      a.driver.wake();
    }
    await until(() => sent.length === 2);
    a.end(sent[1]!.entry.session);
    await until(() => sent.length === 3);
    a.end(sent[2]!.entry.session);
    await sleep(300);
    expect(sent.map((s) => [s.entry.message.text, s.entry.reclaimed])).toEqual([
      ['m1', false],
      ['m2', false],
      ['o1', false],
    ]);
    expect(a.events.filter((e) => e.type === 'notice')).toEqual([]);
    expect((await a.store.pool.query('SELECT 1 FROM inbox')).rowCount).toBe(0);
  });
  it('an ack the database failed (not fenced) is tried again at the next scan: the finished message leaves the queue', async () => {
    const url = await server.freshDatabase();
    const sent: Sent[] = [];
    const a = await node(url, 'a', sent, { failAcks: 1 });
    await a.driver.start();
    await a.store.cluster('a').enqueue(SESSION, msg('only'));
    a.driver.wake();
    await until(() => sent.length === 1);
    a.end();
    await until(() => a.lines().some((l) => /acknowledging a finished message failed/.test(l)));
    for (let i = 0; (await a.store.pending()).length > 0; i++) {
      if (i > 100) throw new Error('the message never left the queue');
      await sleep(50);
    }
    expect(sent.map((x) => x.entry.message.text)).toEqual(['only']);
  });
});
