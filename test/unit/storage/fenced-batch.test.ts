// Grouped writes on PostgreSQL: a node's fenced writes (FencedBatch: appends, takes, acks and
// claims of every conversation) and its unfenced history appends (AppendBatch) go in one
// statement per loop turn, each caller still getting its own result, or its own FencedWriteError.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { FencedWriteError, type Lease } from '../../../src/storage/cluster.js';
import type { PostgresClusterStore } from '../../../src/storage/postgres/cluster.js';
import { PostgresStore } from '../../../src/storage/postgres/store.js';
import type { StoredRecord } from '../../../src/storage/types.js';
import { postgresPerFile } from '../../support/postgres.js';
import { queryNames, storesPerTest } from '../../support/postgres-stores.js';

const server = postgresPerFile();

const stores = storesPerTest(server);
const nodes = (n: number) => stores.nodes(n);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const msg = (text: string) => ({ room: 'r', channel: 'c', thread: 't', from: { id: 'u' }, text });
const note = (text: string) => ({ kind: 'notice' as const, level: 'info' as const, text });
const textOf = (r: StoredRecord) => (r.kind === 'notice' ? r.text : '');

const FENCED = 'switchboard_fenced_batch_1';
const APPEND = 'switchboard_history_append_batch';
const queries = queryNames;

/** A lease of node-a that node-b has taken over: every write under it must be fenced. */
async function staleLease(a: PostgresClusterStore, b: PostgresClusterStore, session: string): Promise<Lease> {
  const old = (await a.acquire(session, 200))!;
  await sleep(300);
  expect(await b.acquire(session, 60_000)).toMatchObject({ node: 'node-b', epoch: old.epoch + 1 });
  return old;
}

/** Each session's records in the order they were appended: seqs increase, and history() agrees. */
async function expectCallOrder(s: PostgresStore, sessions: string[], out: StoredRecord[], texts: string[]): Promise<void> {
  for (const session of sessions) {
    const mine = out.filter((r) => r.session === session);
    const wanted = texts.filter((t) => t.startsWith(`${session}#`));
    expect(mine.map(textOf)).toEqual(wanted);
    const seqs = mine.map((r) => r.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new Set(seqs).size).toBe(seqs.length);
    const stored = await s.history(session);
    expect(stored.map((r) => [r.seq, textOf(r)])).toEqual(mine.map((r) => [r.seq, textOf(r)]));
  }
}

describe('fenced batch', () => {
  it('50 appends of 10 conversations in one loop turn are one statement; each conversation keeps call order', async () => {
    const [s] = await nodes(1);
    const c = s!.cluster('node-a');
    const sessions = Array.from({ length: 10 }, (_, i) => `r/c/s${i}`);
    const leases = new Map<string, Lease>();
    for (const session of sessions) leases.set(session, (await c.acquire(session, 60_000))!);
    const sent = queries(s!);
    const stats = { ...c.batch.stats };
    // Interleaved, so call order differs from grouping by conversation.
    const texts = Array.from({ length: 50 }, (_, i) => `${sessions[(i * 7) % 10]}#${i}`);
    const out = await Promise.all(texts.map((t) => c.append(leases.get(t.split('#')[0]!)!, note(t))));
    expect(sent).toEqual([FENCED]);
    expect({ statements: c.batch.stats.statements - stats.statements, writes: c.batch.stats.writes - stats.writes }).toEqual({ statements: 1, writes: 50 });
    expect(out.map(textOf)).toEqual(texts);
    expect(out.map((r) => r.session)).toEqual(texts.map((t) => t.split('#')[0]));
    await expectCallOrder(s!, sessions, out, texts);
  });

  it('writes under a stale lease are fenced one by one; the others of the same statement land', async () => {
    const [s1, s2] = await nodes(2);
    const a = s1!.cluster('node-a');
    const b = s2!.cluster('node-b');
    const current = (await a.acquire('r/c/live', 60_000))!;
    const old = await staleLease(a, b, 'r/c/gone');
    const queued = await b.enqueue('r/c/gone', msg('theirs'));
    const sent = queries(s1!);
    const results = await Promise.allSettled([
      a.append(current, note('live 1')),
      a.append(old, note('gone 1')),
      a.claim(old),
      a.append(current, note('live 2')),
      a.take(old, queued.id, 'turn-a', 'thr'),
      a.ack(old, queued.id),
      a.append(old, note('gone 2')),
      a.append(current, note('live 3')),
    ]);
    expect(sent).toEqual([FENCED]);
    const live = [0, 3, 7].map((i) => results[i]!);
    expect(live.map((r) => (r.status === 'fulfilled' ? textOf(r.value as StoredRecord) : r.reason))).toEqual(['live 1', 'live 2', 'live 3']);
    for (const i of [1, 2, 4, 5, 6]) {
      const r = results[i]!;
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(FencedWriteError);
      expect(((r as PromiseRejectedResult).reason as Error).message).toMatch(/holds epoch 1, but the lease is now epoch 2 of node node-b/);
    }
    expect((await s1!.history('r/c/live')).map(textOf)).toEqual(['live 1', 'live 2', 'live 3']);
    expect(await s1!.history('r/c/gone')).toEqual([]);
    // The stale claim, take and ack did nothing: the message waits for node-b, untouched.
    const row = await s1!.pool.query('SELECT claimed_by, turn_id FROM inbox WHERE id = $1', [queued.id]);
    expect(row.rows).toEqual([{ claimed_by: null, turn_id: null }]);
  });

  it('a take and the ack of the same message in one statement: the message is gone from the inbox', async () => {
    const [s] = await nodes(1);
    const c = s!.cluster('node-a');
    const lease = (await c.acquire('r/c/t', 60_000))!;
    const m = await c.enqueue('r/c/t', msg('done at once'));
    const other = await c.enqueue('r/c/t', msg('still queued'));
    expect(await c.claim(lease)).toMatchObject({ id: m.id });
    const sent = queries(s!);
    await Promise.all([c.take(lease, m.id, 'turn-1', 'thr-1'), c.ack(lease, m.id)]);
    expect(sent).toEqual([FENCED]);
    expect((await s!.pending()).map((e) => e.id)).toEqual([other.id]);
  });

  it('an ack and a claim of the same conversation in one statement: the claim gets the next message', async () => {
    const [s] = await nodes(1);
    const c = s!.cluster('node-a');
    const first = (await c.acquire('r/c/t', 60_000))!;
    const ids: string[] = [];
    for (const t of ['m1', 'm2', 'm3', 'm4']) ids.push((await c.enqueue('r/c/t', msg(t))).id);
    expect(await c.claim(first)).toMatchObject({ id: ids[0], reclaimed: false });
    const sent = queries(s!);
    const [, next] = await Promise.all([c.ack(first, ids[0]!), c.claim(first)]);
    expect(next).toMatchObject({ id: ids[1], reclaimed: false, message: { text: 'm2' } });
    // The same after a restart (a new epoch): the acked message was claimed at an older epoch, so
    // only the ack's own message being left out keeps the claim from handing it out.
    const lease = (await c.acquire('r/c/t', 60_000))!;
    expect(lease.epoch).toBe(first.epoch + 1);
    const [, after] = await Promise.all([c.ack(lease, ids[1]!), c.claim(lease)]);
    expect(after).toMatchObject({ id: ids[2], reclaimed: false, message: { text: 'm3' } });
    // A message never claimed, acked in the claim's statement, is not handed out either.
    const [, last] = await Promise.all([c.ack(lease, ids[2]!), c.ack(lease, ids[3]!), c.claim(lease)]);
    expect(last).toBeUndefined();
    expect(sent.filter((n) => n === FENCED)).toHaveLength(3);
    expect(await s!.pending()).toEqual([]);
  });

  it('two claims of one conversation in one loop turn: two statements, two messages in queue order', async () => {
    const [s] = await nodes(1);
    const c = s!.cluster('node-a');
    const lease = (await c.acquire('r/c/t', 60_000))!;
    const other = (await c.acquire('r/c/u', 60_000))!;
    const ids: string[] = [];
    for (const t of ['m1', 'm2', 'm3']) ids.push((await c.enqueue('r/c/t', msg(t))).id);
    const u = await c.enqueue('r/c/u', msg('u1'));
    const sent = queries(s!);
    const [x, y, z] = await Promise.all([c.claim(lease), c.claim(lease), c.claim(other)]);
    expect([x?.id, y?.id]).toEqual([ids[0], ids[1]]);
    // Another conversation's claim is not held back: it goes with the first.
    expect(z?.id).toBe(u.id);
    expect(sent).toEqual([FENCED, FENCED]);
  });

  it('a failed statement rejects every caller of its batch; nothing of it is written, and the next batch runs', async () => {
    const [s] = await nodes(1);
    const c = s!.cluster('node-a');
    const lease = (await c.acquire('r/c/t', 60_000))!;
    const other = (await c.acquire('r/c/u', 60_000))!;
    const m = await c.enqueue('r/c/t', msg('m1'));
    // A history row the database refuses (a trigger): the whole statement fails.
    const admin = new pg.Client({ connectionString: stores.lastUrl });
    await admin.connect();
    try {
      await admin.query(`CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN IF NEW.body->>'text' = 'refused' THEN RAISE EXCEPTION 'refused by test'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`);
      await admin.query('CREATE TRIGGER refuse BEFORE INSERT ON history FOR EACH ROW EXECUTE FUNCTION refuse()');
    } finally {
      await admin.end();
    }
    const results = await Promise.allSettled([c.append(other, note('fine')), c.claim(lease), c.append(lease, note('refused')), c.append(other, note('fine too'))]);
    for (const r of results) expect(r).toMatchObject({ status: 'rejected', reason: { message: expect.stringMatching(/refused by test/) } });
    expect(await s!.history('r/c/u')).toEqual([]);
    // The failed claim claimed nothing: the next batch hands the message out.
    const [claimed, written] = await Promise.all([c.claim(lease), c.append(other, note('after'))]);
    expect(claimed).toMatchObject({ id: m.id, reclaimed: false });
    expect((await s!.history('r/c/u')).map(textOf)).toEqual([textOf(written)]);
  });
});


// Failing on purpose (a bug, src not changed here): a value PostgreSQL refuses in one record (a NUL
// in jsonb, e.g. binary command output in a tool record) fails the whole statement, so other
// conversations' appends and acks of the same batch fail with it. One statement per write failed
// alone; EnqueueBatch retries a data error in halves for this reason.
describe('a record the database refuses', () => {
  const refused = { kind: 'tool' as const, toolId: 't1', toolKind: 'command', title: 'cat a.bin', data: { output: 'a\u0000b' } };

  it('fails only its own fenced write, not the other conversations of its batch', async () => {
    const [s] = await nodes(1);
    const c = s!.cluster('node-a');
    const bad = (await c.acquire('r/c/bad', 60_000))!;
    const good = (await c.acquire('r/c/good', 60_000))!;
    const m = await c.enqueue('r/c/good', msg('done'));
    expect(await c.claim(good)).toMatchObject({ id: m.id });
    const results = await Promise.allSettled([c.append(good, note('before')), c.append(bad, refused), c.ack(good, m.id), c.append(good, note('after'))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((await s!.history('r/c/good')).map(textOf)).toEqual(['before', 'after']);
    expect(await s!.pending()).toEqual([]);
  });

  it('fails only its own unfenced append, not the others of its batch', async () => {
    const [s] = await nodes(1);
    const results = await Promise.allSettled([s!.append('r/c/good', note('before')), s!.append('r/c/bad', refused), s!.append('r/c/good', note('after'))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((await s!.history('r/c/good')).map(textOf)).toEqual(['before', 'after']);
  });
});

describe('append batch (history appends outside a lease)', () => {
  it('appends of many conversations in one loop turn are one INSERT; seqs follow call order', async () => {
    const [s] = await nodes(1);
    const sessions = Array.from({ length: 8 }, (_, i) => `r/c/s${i}`);
    const sent = queries(s!);
    const texts = Array.from({ length: 40 }, (_, i) => `${sessions[(i * 3) % 8]}#${i}`);
    const out = await Promise.all(texts.map((t) => s!.append(t.split('#')[0]!, note(t))));
    expect(sent).toEqual([APPEND]);
    expect(out.map(textOf)).toEqual(texts);
    expect(out.map((r) => r.session)).toEqual(texts.map((t) => t.split('#')[0]));
    // Across conversations too: one sequence, in call order.
    const seqs = out.map((r) => r.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    await expectCallOrder(s!, sessions, out, texts);
  });

  it('appends made while a batch is in flight form the next INSERT, after it', async () => {
    const [s] = await nodes(1);
    const sent = queries(s!);
    const first = s!.append('r/c/t', note('r/c/t#first'));
    await new Promise((r) => setImmediate(r));
    expect(sent).toEqual([APPEND]);
    const rest = Array.from({ length: 10 }, (_, i) => s!.append('r/c/t', note(`r/c/t#later${i}`)));
    const out = [await first, ...(await Promise.all(rest))];
    expect(sent).toEqual([APPEND, APPEND]);
    await expectCallOrder(s!, ['r/c/t'], out, out.map(textOf));
  });
});
