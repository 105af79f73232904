import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient, type Client } from '@libsql/client';
import { afterEach, describe, expect, it } from 'vitest';
import { GroupCommit } from '../../../src/storage/group-commit.js';
import { DatasetStore } from '../../../src/storage/dataset.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'sb-group-'));
  dirs.push(d);
  return d;
};
const clients: Client[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function table(): Promise<Client> {
  const db = createClient({ url: `file:${path.join(tmp(), 'g.db')}` });
  clients.push(db);
  await db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)');
  return db;
}

describe('group commit', () => {
  it('runs the statements of one loop turn as one transaction, in call order, each with its own result', async () => {
    const db = await table();
    const g = new GroupCommit(db);
    const writes = ['a', 'b', 'c'].map((v) => g.run({ sql: 'INSERT INTO t (v) VALUES (?)', args: [v] }));
    const read = g.run('SELECT v FROM t ORDER BY id');
    const results = await Promise.all(writes);
    expect(results.map((r) => Number(r.lastInsertRowid))).toEqual([1, 2, 3]);
    // Queued after the writes: it sees them.
    expect((await read).rows.map((r) => r.v)).toEqual(['a', 'b', 'c']);
    expect(g.stats).toEqual({ statements: 4, transactions: 1 });
  });

  it('a failing statement fails alone: the others of its batch are still written', async () => {
    const db = await table();
    const g = new GroupCommit(db);
    const ok1 = g.run({ sql: 'INSERT INTO t (v) VALUES (?)', args: ['x'] });
    const dup = g.run({ sql: 'INSERT INTO t (v) VALUES (?)', args: ['x'] });
    const ok2 = g.run({ sql: 'INSERT INTO t (v) VALUES (?)', args: ['y'] });
    await expect(ok1).resolves.toBeDefined();
    await expect(dup).rejects.toThrow(/UNIQUE/);
    await expect(ok2).resolves.toBeDefined();
    expect((await db.execute('SELECT v FROM t ORDER BY v')).rows.map((r) => r.v)).toEqual(['x', 'y']);
  });

  it('statements queued while a batch commits form the next batch', async () => {
    const db = await table();
    const g = new GroupCommit(db);
    const first = g.run({ sql: 'INSERT INTO t (v) VALUES (?)', args: ['1'] });
    await Promise.resolve();
    const later = first.then(() => Promise.all(['2', '3'].map((v) => g.run({ sql: 'INSERT INTO t (v) VALUES (?)', args: [v] }))));
    await later;
    await g.drain();
    expect(g.stats).toEqual({ statements: 3, transactions: 2 });
    expect((await db.execute('SELECT count(*) AS n FROM t')).rows[0]!.n).toBe(3);
  });

  it('the dataset store commits concurrent writes together, and closing waits for them', async () => {
    const file = path.join(tmp(), 'threads.db');
    const s = await DatasetStore.open(file);
    const posted = Array.from({ length: 20 }, (_, i) => s.enqueue(`room/chat/t${i}`, { room: 'room', channel: 'chat', thread: `t${i}`, text: `hello ${i}`, from: { id: `u${i}` } }));
    const acks = (await Promise.all(posted)).map((e) => s.ack(e.id));
    void s.append('room/chat/t0', { kind: 'notice', level: 'info', text: 'queued before close' });
    await Promise.all(acks);
    // 20 inserts in one transaction; the 20 deletes and the append in another.
    expect(s.commitStats).toEqual({ statements: 41, transactions: 2 });
    await s.close();
    const again = await DatasetStore.open(file);
    expect(await again.pending()).toEqual([]);
    expect((await again.history('room/chat/t0')).map((r) => r.kind)).toEqual(['notice']);
    await again.close();
  });
});
