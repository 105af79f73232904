// Several nodes on one PostgreSQL: session leases with a fencing epoch, writes rejected once the
// epoch moved on, and the inbox as a queue two claimers never hand out twice.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import pg from 'pg';
import { BindingCorruptError, type Binding } from '../../../src/session/bindings.js';
import { FencedWriteError, type Lease } from '../../../src/storage/cluster.js';
import { LeaseKeeper } from '../../../src/storage/lease-keeper.js';
import { deferredBindings } from '../../../src/storage/postgres/bindings.js';
import { PostgresStore } from '../../../src/storage/postgres/store.js';
import { postgresPerFile } from '../../support/postgres.js';
import { storesPerTest } from '../../support/postgres-stores.js';

const server = postgresPerFile();

const stores = storesPerTest(server);
const nodes = (n: number) => stores.nodes(n);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const msg = (text: string) => ({ room: 'r', channel: 'c', thread: 't', from: { id: 'u' }, text });

describe('session leases', () => {
  it('one node holds a session; renew extends it, keeping the epoch', async () => {
    const [s1, s2] = await nodes(2);
    const a = s1!.cluster('node-a');
    const b = s2!.cluster('node-b');
    const lease = await a.acquire('r/c/t', 10_000);
    expect(lease).toMatchObject({ session: 'r/c/t', node: 'node-a', epoch: 1 });
    expect(await b.acquire('r/c/t', 10_000)).toBeUndefined();
    const renewed = await a.renew(lease!, 20_000);
    expect(renewed.epoch).toBe(1);
    expect(renewed.expiresAt).toBeGreaterThan(lease!.expiresAt + 5_000);
    expect(await b.leaseOf('r/c/t')).toEqual(renewed);
  });

  it('the same node id acquiring its own live lease again (a restart) gets it at once with a higher epoch: the old one is fenced, its claim reclaimed', async () => {
    const [s1, s2] = await nodes(2);
    const before = s1!.cluster('node-a');
    const old = (await before.acquire('r/c/t', 60_000))!;
    const queued = await before.enqueue('r/c/t', msg('claimed before the restart'));
    expect(await before.claim(old)).toMatchObject({ id: queued.id, reclaimed: false });
    // The restarted process: same node id, its own pool, the old lease still live.
    const after = s2!.cluster('node-a');
    const lease = (await after.acquire('r/c/t', 60_000))!;
    expect(lease).toMatchObject({ node: 'node-a', epoch: 2 });
    expect(await after.acquire('r/c/t', 60_000)).toMatchObject({ node: 'node-a', epoch: 3 });
    const current = (await after.leaseOf('r/c/t'))!;
    await expect(before.append(old, { kind: 'model', model: 'x' })).rejects.toBeInstanceOf(FencedWriteError);
    expect(await after.claim(current)).toMatchObject({ id: queued.id, reclaimed: true });
  });

  it('an expired lease is taken over with epoch + 1, and the old holder cannot renew it', async () => {
    const [s1, s2] = await nodes(2);
    const a = s1!.cluster('node-a');
    const b = s2!.cluster('node-b');
    const old = (await a.acquire('r/c/t', 300))!;
    await sleep(400);
    const taken = await b.acquire('r/c/t', 10_000);
    expect(taken).toMatchObject({ node: 'node-b', epoch: 2 });
    const err = await a.renew(old, 10_000).catch((e: Error) => e);
    expect(err).toBeInstanceOf(FencedWriteError);
    expect((err as Error).message).toMatch(/node node-a holds epoch 1, but the lease is now epoch 2 of node node-b/);
  });

  it('a released lease is free at once, with the next epoch', async () => {
    const [s1, s2] = await nodes(2);
    const a = s1!.cluster('node-a');
    const b = s2!.cluster('node-b');
    const lease = (await a.acquire('r/c/t', 60_000))!;
    await a.release(lease);
    expect(await b.acquire('r/c/t', 60_000)).toMatchObject({ node: 'node-b', epoch: 2 });
    // Released and taken back by the first node: still a new epoch, so its old lease stays fenced.
    await b.release((await b.leaseOf('r/c/t'))!);
    expect(await a.acquire('r/c/t', 60_000)).toMatchObject({ node: 'node-a', epoch: 3 });
    await expect(a.append(lease, { kind: 'model', model: 'x' })).rejects.toBeInstanceOf(FencedWriteError);
  });

  it('a paused old holder that resumes has every write rejected; the new driver writes on', async () => {
    const [s1, s2] = await nodes(2);
    const a = s1!.cluster('node-a');
    const b = s2!.cluster('node-b');
    const lease = (await a.acquire('r/c/t', 300))!;
    await a.append(lease, { kind: 'notice', level: 'info', text: 'a before pause' });
    const queued = await a.enqueue('r/c/t', msg('hello'));
    // node-a stops renewing (a GC pause, a SIGSTOP): its lease runs out and node-b takes over.
    await sleep(400);
    const bLease = (await b.acquire('r/c/t', 10_000))!;
    expect(bLease.epoch).toBe(2);
    await b.append(bLease, { kind: 'notice', level: 'info', text: 'b drives' });
    // node-a resumes, unaware: each kind of write is refused.
    await expect(a.append(lease, { kind: 'notice', level: 'info', text: 'a after pause' })).rejects.toThrow(/holds epoch 1, but the lease is now epoch 2 of node node-b/);
    await expect(a.claim(lease)).rejects.toBeInstanceOf(FencedWriteError);
    await expect(a.take(lease, queued.id, 'turn-a', 'thr')).rejects.toBeInstanceOf(FencedWriteError);
    await expect(a.ack(lease, queued.id)).rejects.toBeInstanceOf(FencedWriteError);
    const texts = (await s2!.history('r/c/t')).map((r) => (r.kind === 'notice' ? r.text : ''));
    expect(texts).toEqual(['a before pause', 'b drives']);
    expect((await s2!.pending()).map((e) => [e.id, e.turnId])).toEqual([[queued.id, undefined]]);
  });

  it('writes racing a takeover: each either lands before the new epoch or is fenced, none after', async () => {
    const [s1, s2] = await nodes(2);
    const a = s1!.cluster('node-a');
    const b = s2!.cluster('node-b');
    const lease = (await a.acquire('r/c/t', 400))!;
    let stop = false;
    const landed: number[] = [];
    let fenced = 0;
    // Four writers of the old holder, writing as fast as they can through the expiry and the takeover.
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        try {
          landed.push((await a.append(lease, { kind: 'notice', level: 'info', text: `a${w}.${i}` })).seq);
        } catch (err) {
          expect(err).toBeInstanceOf(FencedWriteError);
          fenced++;
        }
      }
    };
    const writers = Promise.all([0, 1, 2, 3].map(writer));
    await sleep(500);
    let bLease: Lease | undefined;
    while (!(bLease = await b.acquire('r/c/t', 60_000))) await sleep(20);
    const first = await b.append(bLease, { kind: 'notice', level: 'info', text: 'b' });
    await sleep(200);
    stop = true;
    await writers;
    expect(fenced).toBeGreaterThan(0);
    expect(landed.length).toBeGreaterThan(0);
    expect(Math.max(...landed)).toBeLessThan(first.seq);
    const fromA = (await s1!.history('r/c/t')).filter((r) => r.kind === 'notice' && r.text.startsWith('a'));
    expect(fromA.map((r) => r.seq).sort((x, y) => x - y)).toEqual([...landed].sort((x, y) => x - y));
  });

  it('a takeover waits for a fenced write in flight: the old holder never writes after the new epoch begins', async () => {
    const [s1, s2] = await nodes(2);
    // A slow insert (a trigger sleeping 600 ms), so the takeover comes while the write runs.
    const c = new pg.Client({ connectionString: stores.lastUrl });
    await c.connect();
    await c.query(`CREATE FUNCTION slow() RETURNS trigger AS $$ BEGIN IF NEW.body->>'text' = 'slow' THEN PERFORM pg_sleep(0.6); END IF; RETURN NEW; END $$ LANGUAGE plpgsql`);
    await c.query('CREATE TRIGGER slow BEFORE INSERT ON history FOR EACH ROW EXECUTE FUNCTION slow()');
    const a = s1!.cluster('node-a');
    const b = s2!.cluster('node-b');
    const lease = (await a.acquire('r/c/t', 50))!;
    await sleep(100);
    let wroteAt = 0;
    const write = a.append(lease, { kind: 'notice', level: 'info', text: 'slow' }).then(() => (wroteAt = Date.now()));
    // The write has passed its lease check once its backend sleeps in the trigger.
    while (Number((await c.query("SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event = 'PgSleep'")).rows[0].n) === 0) await sleep(10);
    const taken = await b.acquire('r/c/t', 60_000);
    const tookAt = Date.now();
    await write;
    await c.end();
    expect(taken).toMatchObject({ node: 'node-b', epoch: 2 });
    // Without the lock the takeover would be done about 0.5 s before the write; with it, after (some ms of event-loop slack).
    expect(tookAt).toBeGreaterThan(wroteAt - 100);
  });

  it('a lease is not usable by another node', async () => {
    const [s1] = await nodes(1);
    const lease = (await s1!.cluster('node-a').acquire('r/c/t', 10_000))!;
    await expect(s1!.cluster('node-b').append(lease, { kind: 'model', model: 'x' })).rejects.toThrow(/lease of node node-a used by node node-b/);
  });

  it('nodes report heartbeats; a silent node drops out of the live list', async () => {
    const [s1, s2] = await nodes(2);
    await s1!.cluster('node-a').heartbeat();
    await s2!.cluster('node-b').heartbeat();
    expect((await s1!.cluster('node-a').liveNodes(10_000)).map((n) => n.node)).toEqual(['node-a', 'node-b']);
    await sleep(1500);
    await s2!.cluster('node-b').heartbeat();
    expect((await s1!.cluster('node-a').liveNodes(1000)).map((n) => n.node)).toEqual(['node-b']);
  });
});

describe('inbox queue', () => {
  it('two concurrent claimers never get the same message, and together get all of them', async () => {
    const [s1, s2, s3] = await nodes(3);
    const lease = (await s1!.cluster('node-a').acquire('r/c/t', 60_000))!;
    const poster = s3!.cluster('node-c');
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) ids.push((await poster.enqueue('r/c/t', msg(`m${i}`))).id);
    // Two claimers of the driving node, each on its own pool, claiming as fast as they can.
    const claimer = async (s: PostgresStore) => {
      const got: string[] = [];
      for (;;) {
        const m = await s.cluster('node-a').claim(lease);
        if (!m) return got;
        got.push(m.id);
      }
    };
    const [x, y] = await Promise.all([claimer(s1!), claimer(s2!)]);
    const all = [...x, ...y];
    expect(new Set(all).size).toBe(all.length);
    expect([...all].sort()).toEqual([...ids].sort());
    expect(x.length).toBeGreaterThan(0);
    expect(y.length).toBeGreaterThan(0);
  });

  it('claims in order; after a takeover the unfinished message is claimed again, marked reclaimed, with its clientUserMessageId', async () => {
    const [s1, s2] = await nodes(2);
    const a = s1!.cluster('node-a');
    const b = s2!.cluster('node-b');
    const m1 = await b.enqueue('r/c/t', msg('first'));
    const m2 = await b.enqueue('r/c/t', msg('second'));
    await a.enqueue('other/c/t', msg('elsewhere'));
    expect(m1.clientUserMessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(m1.clientUserMessageId).not.toBe(m2.clientUserMessageId);
    const aLease = (await a.acquire('r/c/t', 300))!;
    const c1 = await a.claim(aLease);
    expect(c1).toMatchObject({ id: m1.id, clientUserMessageId: m1.clientUserMessageId, reclaimed: false, message: { text: 'first' } });
    await a.take(aLease, m1.id, 'turn-1', 'thr-1');
    // node-a dies mid-turn: node-b takes the session and claims the same message first.
    await sleep(400);
    const bLease = (await b.acquire('r/c/t', 10_000))!;
    const again = await b.claim(bLease);
    expect(again).toMatchObject({ id: m1.id, clientUserMessageId: m1.clientUserMessageId, reclaimed: true, turnId: 'turn-1' });
    await b.ack(bLease, m1.id);
    expect(await b.claim(bLease)).toMatchObject({ id: m2.id, reclaimed: false });
    expect(await b.claim(bLease)).toBeUndefined();
  });

  it('a re-post with the same clientUserMessageId queues the message once', async () => {
    const [s1, s2] = await nodes(2);
    const id = '6f1c1d7e-3a41-4c49-9d8e-0f1e2d3c4b5a';
    const [p, q] = await Promise.all([s1!.cluster('node-a').enqueue('r/c/t', msg('once'), id), s2!.cluster('node-b').enqueue('r/c/t', msg('once'), id)]);
    expect(p.id).toBe(q.id);
    expect((await s1!.pending()).map((e) => e.clientUserMessageId)).toEqual([id]);
  });
});

describe('bindings', () => {
  const at = '2026-01-02T03:04:05.000Z';
  const binding = (key: string, threadId = 'thr_1'): Binding => ({ schemaVersion: 1, key, threadId, harness: 'codex', model: null, cwd: '/ws', createdAt: at, updatedAt: at });

  it('a binding one node saves, another loads; per agent; removed for all', async () => {
    const [s1, s2] = await nodes(2);
    await s1!.bindings('bot').save(binding('r/c/t'));
    await s1!.bindings('bot').save(binding('r/c/t', 'thr_2'));
    expect(await s2!.bindings('bot').load('r/c/t')).toEqual(binding('r/c/t', 'thr_2'));
    expect(await s2!.bindings('other-bot').load('r/c/t')).toBeUndefined();
    await s2!.bindings('bot').remove('r/c/t');
    expect(await s1!.bindings('bot').load('r/c/t')).toBeUndefined();
    await expect(s1!.bindings('bot').save({ ...binding('k'), threadId: '' })).rejects.toThrow();
  });

  it('an unusable row: BindingCorruptError, moved aside under another key, never read again', async () => {
    const [s1] = await nodes(1);
    const c = new pg.Client({ connectionString: stores.lastUrl });
    await c.connect();
    await c.query("INSERT INTO bindings (agent, key, body) VALUES ('bot', 'k', $1)", [JSON.stringify({ ...binding('k'), schemaVersion: 2 })]);
    const err = await s1!.bindings('bot').load('k').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BindingCorruptError);
    expect((err as BindingCorruptError).detail).toMatch(/schemaVersion 2 is newer/);
    expect(await s1!.bindings('bot').load('k')).toBeUndefined();
    const keys = (await c.query<{ key: string }>("SELECT key FROM bindings WHERE agent = 'bot'")).rows.map((r) => r.key);
    await c.end();
    expect(keys).toEqual([expect.stringMatching(/^k\.corrupt-\d+$/)]);
  });

  it('deferred bindings reach the store once it is open, and say so before', async () => {
    const [s1] = await nodes(1);
    let store: PostgresStore | undefined;
    const b = deferredBindings(() => store, 'bot');
    await expect(b.load('k')).rejects.toThrow(/before the postgres store was opened/);
    store = s1;
    await b.save(binding('k'));
    expect(await s1!.bindings('bot').load('k')).toEqual(binding('k'));
  });
});

describe('lease keeper', () => {
  it('renews the lease every few seconds so no other node can take it; a graceful stop releases it', async () => {
    const [s1, s2] = await nodes(2);
    const lost: string[] = [];
    const keeper = new LeaseKeeper({ store: s1!.cluster('node-a'), ttlMs: 600, onLost: (l) => lost.push(l.session) });
    await keeper.start();
    const lease = (await keeper.acquire('r/c/t'))!;
    await sleep(1500);
    expect(await s2!.cluster('node-b').acquire('r/c/t', 10_000)).toBeUndefined();
    expect(keeper.current('r/c/t')).toMatchObject({ epoch: lease.epoch });
    expect(keeper.current('r/c/t')!.expiresAt).toBeGreaterThan(lease.expiresAt);
    expect((await s2!.cluster('node-b').liveNodes(10_000)).map((n) => n.node)).toEqual(['node-a']);
    await keeper.stop({ release: true });
    expect(await s2!.cluster('node-b').acquire('r/c/t', 10_000)).toMatchObject({ node: 'node-b', epoch: 2 });
    expect(lost).toEqual([]);
  });

  it('a lease taken over is reported lost at the next renewal', async () => {
    const [s1, s2] = await nodes(2);
    const lost: string[] = [];
    const keeper = new LeaseKeeper({ store: s1!.cluster('node-a'), ttlMs: 300, renewEveryMs: 10_000, onLost: (l, why) => lost.push(`${l.epoch} ${why}`) });
    await keeper.acquire('r/c/t');
    await sleep(400);
    await s2!.cluster('node-b').acquire('r/c/t', 10_000);
    await keeper.tick();
    expect(lost).toEqual([expect.stringMatching(/^1 .*now epoch 2 of node node-b/)]);
    expect(keeper.current('r/c/t')).toBeUndefined();
  });

  it('a database that stops answering: the lease is given up before it can run out', async () => {
    const [s1] = await nodes(1);
    const lost: string[] = [];
    const keeper = new LeaseKeeper({ store: s1!.cluster('node-a'), ttlMs: 600, renewEveryMs: 200, onLost: (_l, why) => lost.push(why) });
    await keeper.start();
    await keeper.acquire('r/c/t');
    await s1!.close();
    await sleep(900);
    await keeper.stop();
    expect(lost).toEqual([expect.stringMatching(/lease not renewed in time/)]);
  });

  it('a node paused (SIGSTOP) past its lease and resumed cannot write: every write is fenced, the lease reported lost', async () => {
    const [s1] = await nodes(1);
    const holder = fileURLToPath(new URL('../../support/lease-holder.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', holder, stores.lastUrl, 'node-a', 'r/c/t', '1000'], { stdio: ['ignore', 'pipe', 'inherit'] });
    onTestFinished(() => void (child.exitCode === null && child.kill('SIGKILL')));
    const lines: string[] = [];
    let buf = '';
    const waiters: Array<() => void> = [];
    child.stdout!.on('data', (d) => {
      buf += String(d);
      const parts = buf.split('\n');
      buf = parts.pop()!;
      lines.push(...parts);
      for (const w of waiters.splice(0)) w();
    });
    const until = async (pred: () => boolean) => {
      while (!pred()) await new Promise<void>((r) => waiters.push(r));
    };
    await until(() => lines.filter((l) => l.startsWith('wrote')).length >= 3);
    expect(lines[0]).toBe('lease 1');
    child.kill('SIGSTOP');
    const writtenBeforePause = lines.filter((l) => l.startsWith('wrote')).length;
    await sleep(1500);
    const b = s1!.cluster('node-b');
    const bLease = (await b.acquire('r/c/t', 60_000))!;
    expect(bLease.epoch).toBe(2);
    const mine = await b.append(bLease, { kind: 'notice', level: 'info', text: 'node-b drives' });
    child.kill('SIGCONT');
    await until(() => lines.some((l) => l.startsWith('fenced')) && lines.includes('lost'));
    child.kill('SIGKILL');
    expect(lines.find((l) => l.startsWith('fenced'))).toMatch(/node node-a holds epoch 1, but the lease is now epoch 2 of node node-b/);
    // The paused node wrote nothing after the takeover: at most the write in flight when it stopped.
    const history = await s1!.history('r/c/t');
    const fromA = history.filter((r) => r.kind === 'notice' && r.text.startsWith('node-a'));
    expect(fromA.every((r) => r.seq < mine.seq)).toBe(true);
    expect(fromA.length).toBeGreaterThanOrEqual(writtenBeforePause);
    expect(fromA.length).toBeLessThanOrEqual(writtenBeforePause + 1);
    expect(lines.filter((l) => l.startsWith('wrote')).length).toBe(fromA.length);
  }, 90_000);
});
