// Grouped inbox enqueues on PostgreSQL: posts of one loop turn (and those made while a batch is in
// flight) go in one statement, in call order, each caller getting its own row or its own error.
import pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import { PostgresStore } from '../../../src/storage/postgres/store.js';
import { postgresPerFile } from '../../support/postgres.js';
import { queryNames, storesPerTest } from '../../support/postgres-stores.js';

const server = postgresPerFile();

const stores = storesPerTest(server);
const store = async (): Promise<PostgresStore> => (await stores.nodes(1))[0]!;
const msg = (text: string) => ({ room: 'r', channel: 'c', thread: 't', from: { id: 'u' }, text });
const nextTurn = () => new Promise((r) => setImmediate(r));

const queries = queryNames;
const INSERT = 'inbox-enqueue-batch';
const READ_BACK = 'inbox-enqueue-read-back';

/** Another node's connection to the same database, to hold a transaction open. */
async function otherNode(s: PostgresStore): Promise<pg.Client> {
  const other = new pg.Client({ connectionString: (s.pool as unknown as { options: { connectionString: string } }).options.connectionString });
  await other.connect();
  return other;
}
/** Resolves once a query of `s`'s database waits on a lock (our INSERT, on the other node's row). */
async function blockedOnLock(s: PostgresStore): Promise<void> {
  const watcher = await otherNode(s);
  try {
    const q = `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`;
    while ((await watcher.query<{ n: number }>(q)).rows[0]!.n === 0) await new Promise((r) => setTimeout(r, 10));
  } finally {
    await watcher.end();
  }
}
const OTHER_INSERT = `INSERT INTO inbox (id, session, at, body, client_user_message_id) VALUES (gen_random_uuid(), 'r/c/t', 1, $1, $2)`;

async function positions(s: PostgresStore): Promise<string[]> {
  return (await s.pool.query<{ id: string }>('SELECT id FROM inbox ORDER BY position')).rows.map((r) => r.id);
}

describe('grouped enqueues', () => {
  it('posts of one loop turn are one statement, queued in call order', async () => {
    const s = await store();
    const c = s.cluster('node-a');
    const sent = queries(s);
    const queued = await Promise.all(Array.from({ length: 50 }, (_, i) => c.enqueue('r/c/t', msg(`m${i}`))));
    expect(sent).toEqual([INSERT]);
    expect(queued.map((q) => q.message.text)).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
    expect(new Set(queued.map((q) => q.id)).size).toBe(50);
    expect(queued.every((q) => q.reclaimed === false && q.session === 'r/c/t')).toBe(true);
    expect(await positions(s)).toEqual(queued.map((q) => q.id));
  });

  it('posts made while a batch is in flight form the next statement, after it', async () => {
    const s = await store();
    const c = s.cluster('node-a');
    const sent = queries(s);
    const first = c.enqueue('r/c/t', msg('first'));
    await nextTurn();
    expect(sent).toEqual([INSERT]);
    const rest = Array.from({ length: 20 }, (_, i) => c.enqueue('r/c/t', msg(`later${i}`)));
    const all = [await first, ...(await Promise.all(rest))];
    expect(sent).toEqual([INSERT, INSERT]);
    expect(await positions(s)).toEqual(all.map((q) => q.id));
  });

  it('keeps call order across sessions: each session claims its own messages in order', async () => {
    const s = await store();
    const c = s.cluster('node-a');
    const sent = queries(s);
    const posts = Array.from({ length: 12 }, (_, i) => c.enqueue(i % 3 === 0 ? 'a/c/t' : 'b/c/t', msg(`m${i}`)));
    const queued = await Promise.all(posts);
    expect(sent).toEqual([INSERT]);
    expect(await positions(s)).toEqual(queued.map((q) => q.id));
    for (const session of ['a/c/t', 'b/c/t']) {
      const lease = (await c.acquire(session, 60_000))!;
      const claimed: string[] = [];
      for (let m; (m = await c.claim(lease)); ) {
        claimed.push(m.message.text);
        await c.ack(lease, m.id);
      }
      expect(claimed).toEqual(queued.filter((q) => q.session === session).map((q) => q.message.text));
    }
  });

  it('a re-post with the same clientUserMessageId in the same batch gets the first one’s row', async () => {
    const s = await store();
    const c = s.cluster('node-a');
    const id = '6f1c1d7e-3a41-4c49-9d8e-0f1e2d3c4b5a';
    const sent = queries(s);
    const [p, other, q] = await Promise.all([c.enqueue('r/c/t', msg('once'), id), c.enqueue('r/c/t', msg('other')), c.enqueue('r/c/t', msg('again'), id.toUpperCase())]);
    expect(sent).toEqual([INSERT]);
    expect(q).toEqual(p);
    expect(p).toMatchObject({ clientUserMessageId: id, message: { text: 'once' }, reclaimed: false });
    expect(await positions(s)).toEqual([p.id, other.id]);
  });

  it('a re-post in a later batch gets the queued row, marked reclaimed once a driver claimed it', async () => {
    const s = await store();
    const c = s.cluster('node-a');
    const id = '0b7c6a39-52a4-4c1e-8f3e-2f1a7d9c4e11';
    const sent = queries(s);
    const p = await c.enqueue('r/c/t', msg('once'), id);
    const q = await c.enqueue('r/c/t', msg('twice'), id);
    expect(q).toEqual(p);
    const lease = (await c.acquire('r/c/t', 60_000))!;
    await c.claim(lease);
    expect(await c.enqueue('r/c/t', msg('thrice'), id)).toMatchObject({ id: p.id, message: { text: 'once' }, reclaimed: true });
    expect(sent.filter((n) => n === INSERT)).toHaveLength(3);
    expect((await s.pending()).map((e) => e.id)).toEqual([p.id]);
  });

  it('a re-post racing one from another node is read back once that one commits', async () => {
    const s = await store();
    const c = s.cluster('node-a');
    const id = '3c2b1a09-8f7e-4d6c-9b5a-4f3e2d1c0b9a';
    const other = await otherNode(s);
    try {
      // The other node's INSERT, not committed yet: ours waits on the unique index, then skips it.
      await other.query('BEGIN');
      await other.query(OTHER_INSERT, [JSON.stringify(msg('theirs')), id]);
      const sent = queries(s);
      const ours = c.enqueue('r/c/t', msg('ours'), id);
      await blockedOnLock(s);
      await other.query('COMMIT');
      expect(await ours).toMatchObject({ clientUserMessageId: id, message: { text: 'theirs' } });
      expect(sent).toEqual([INSERT, READ_BACK]);
    } finally {
      await other.end();
    }
  });

  it('a racing re-post already done with by the time it is read back is rejected; the rest of its batch is queued', async () => {
    const s = await store();
    const c = s.cluster('node-a');
    const id = '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d';
    const other = await otherNode(s);
    try {
      await other.query('BEGIN');
      await other.query(OTHER_INSERT, [JSON.stringify(msg('theirs')), id]);
      const sent = queries(s);
      // The other node's driver runs and acks the message between our statement and our read-back.
      const query = vi.mocked(s.pool.query);
      const spied = query.getMockImplementation()! as (...a: unknown[]) => Promise<unknown>;
      query.mockImplementation(((...a: unknown[]) => {
        if ((a[0] as { name?: string }).name !== READ_BACK) return spied(...a);
        return other.query('DELETE FROM inbox WHERE client_user_message_id = $1', [id]).then(() => spied(...a));
      }) as never);
      const posts = Promise.allSettled([c.enqueue('r/c/t', msg('x')), c.enqueue('r/c/t', msg('ours'), id), c.enqueue('r/c/t', msg('y'))]);
      await blockedOnLock(s);
      await other.query('COMMIT');
      const [before, again, after] = await posts;
      expect(again).toMatchObject({ status: 'rejected', reason: { message: `message ${id} was queued and is already done with` } });
      expect([before.status, after.status]).toEqual(['fulfilled', 'fulfilled']);
      expect(sent).toEqual([INSERT, READ_BACK]);
      expect((await s.pending()).map((e) => e.message.text)).toEqual(['x', 'y']);
    } finally {
      await other.end();
    }
  });

  it('an invalid message is rejected alone; the others of its batch are queued', async () => {
    const s = await store();
    const c = s.cluster('node-a');
    const sent = queries(s);
    const [a, bad, b] = await Promise.allSettled([c.enqueue('r/c/t', msg('a')), c.enqueue('r/c/t', { ...msg('bad'), text: 42 } as never), c.enqueue('r/c/t', msg('b'))]);
    expect(bad.status).toBe('rejected');
    expect([a.status, b.status]).toEqual(['fulfilled', 'fulfilled']);
    expect(sent).toEqual([INSERT]);
    expect((await s.pending()).map((e) => e.message.text)).toEqual(['a', 'b']);
  });

  it('a value the database refuses fails only its own post: the batch is retried in halves', async () => {
    const s = await store();
    const c = s.cluster('node-a');
    const sent = queries(s);
    const results = await Promise.allSettled([
      c.enqueue('r/c/t', msg('a')),
      c.enqueue('r/c/t', msg('nul \u0000 in jsonb')),
      c.enqueue('r/c/t', msg('bad id'), 'not-a-uuid'),
      c.enqueue('r/c/t', msg('b')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    // All four, then halves: [a, nul] → [a], [nul]; [bad id, b] → [bad id], [b].
    expect(sent).toEqual(Array(7).fill(INSERT));
    expect((await s.pending()).map((e) => e.message.text)).toEqual(['a', 'b']);
  });

  it('a failed statement rejects every post of its batch with its error', async () => {
    const s = await store();
    const c = s.cluster('node-a');
    const sent = queries(s);
    vi.mocked(s.pool.query).mockRejectedValueOnce(new Error('connection terminated') as never);
    const results = await Promise.allSettled([c.enqueue('r/c/t', msg('a')), c.enqueue('r/c/t', msg('b'))]);
    expect(results).toEqual([
      { status: 'rejected', reason: new Error('connection terminated') },
      { status: 'rejected', reason: new Error('connection terminated') },
    ]);
    // The next post is a batch of its own and goes through.
    await expect(c.enqueue('r/c/t', msg('c'))).resolves.toMatchObject({ message: { text: 'c' } });
    expect(sent).toEqual([INSERT]);
    expect((await s.pending()).map((e) => e.message.text)).toEqual(['c']);
  });
});
