import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@libsql/client';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { DatasetStore } from '../../../src/storage/dataset.js';
import { MemoryStore } from '../../../src/storage/memory.js';
import { PostgresStore } from '../../../src/storage/postgres/store.js';
import { startPostgres, type TestPostgres } from '../../support/postgres.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'sb-store-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
// One PostgreSQL for the file, a fresh database per store.
let pg: TestPostgres | undefined;
beforeAll(async () => {
  pg = await startPostgres();
}, 60_000);
afterAll(async () => pg?.stop(), 60_000);

describe.each([
  ['dataset', async () => DatasetStore.open(path.join(tmp(), 'threads.db'))],
  ['none', async () => new MemoryStore()],
  ['postgres', async () => PostgresStore.open(await pg!.freshDatabase())],
])('%s store', (_name, open) => {
  it('appends and reads history per session, in order', async () => {
    const s = await open();
    await s.append('a', { kind: 'message', role: 'user', author: { id: 'u1', name: 'Ann' }, text: 'hi' });
    await s.append('b', { kind: 'model', model: 'gpt-5.5' });
    await s.append('a', { kind: 'tool', toolId: 'c1', toolKind: 'command', title: 'ls', status: 'completed', data: { exitCode: 0 } });
    const a = await s.history('a');
    expect(a.map((r) => r.kind)).toEqual(['message', 'tool']);
    expect(a[0]!.seq).toBeLessThan(a[1]!.seq);
    expect(await s.history('a', { afterSeq: a[0]!.seq })).toHaveLength(1);
    await s.close();
  });

  it('finds the newest record of a kind in a session, not another session\'s', async () => {
    const s = await open();
    await s.append('a', { kind: 'harness', harness: 'codex', reason: 'default' });
    await s.append('a', { kind: 'model', model: 'gpt-5.5' });
    await s.append('a', { kind: 'harness', harness: 'llm', reason: '/model' });
    await s.append('a/sub', { kind: 'harness', harness: 'codex', reason: 'a sub-session' });
    await s.append('b', { kind: 'model', model: 'x' });
    expect(await s.lastOfKind('a', 'harness')).toMatchObject({ kind: 'harness', harness: 'llm', session: 'a' });
    expect(await s.lastOfKind('a', 'model')).toMatchObject({ model: 'gpt-5.5' });
    expect(await s.lastOfKind('b', 'harness')).toBeUndefined();
    await s.close();
  });

  it('rejects a malformed record instead of storing it', async () => {
    const s = await open();
    await expect(s.append('a', { kind: 'message', role: 'robot', text: 1 } as never)).rejects.toThrow(/role|text/);
    expect(await s.history('a')).toEqual([]);
    await s.close();
  });

  it('keeps inbox messages until acknowledged', async () => {
    const s = await open();
    const m = { room: 'r', channel: 'c', thread: 't', from: { id: 'u' }, text: 'do it' };
    const e1 = await s.enqueue('r/c/t', m);
    const e2 = await s.enqueue('r/c/t', { ...m, text: 'and this' });
    await s.ack(e1.id);
    expect((await s.pending()).map((e) => e.id)).toEqual([e2.id]);
    await s.close();
  });

  it('marks a taken message with its turn and thread', async () => {
    const s = await open();
    const e = await s.enqueue('r/c/t', { room: 'r', channel: 'c', thread: 't', from: { id: 'u', role: 'member' }, text: 'go' });
    await s.take(e.id, 'turn-1', 'thr-1');
    expect(await s.pending()).toMatchObject([{ id: e.id, session: 'r/c/t', turnId: 'turn-1', threadId: 'thr-1', message: { text: 'go', from: { role: 'member' } } }]);
    await s.close();
  });

  it('pages history under a prefix, newest first by cursor, never mixing rooms', async () => {
    const s = await open();
    for (let i = 1; i <= 6; i++) await s.append(i % 2 ? 'lab/chat/main' : 'lab_x/chat/main', { kind: 'notice', level: 'info', text: `n${i}` });
    const text = (rs: Array<{ kind: string }>) => rs.map((r) => (r as { text?: string }).text);
    expect(text(await s.historyByPrefix('lab'))).toEqual(['n1', 'n3', 'n5']);
    const newest = await s.historyByPrefix('lab', { limit: 2 });
    expect(text(newest)).toEqual(['n3', 'n5']);
    expect(text(await s.historyByPrefix('lab', { limit: 2, before: newest[0]!.seq }))).toEqual(['n1']);
    expect(text(await s.historyByPrefix('lab', { after: newest[0]!.seq }))).toEqual(['n5']);
    // A limit outside 1..10000 is clamped, never trusted.
    expect(text(await s.historyByPrefix('lab', { limit: 0 }))).toEqual(['n5']);
    expect(await s.historyByPrefix('lab', { limit: 1e9 })).toHaveLength(3);
    await s.close();
  });

  it('the first poster owns a conversation; the first room keeps a thread', async () => {
    const s = await open();
    expect(await s.claimOwner('r/c/t', { id: 'ann', name: 'Ann' })).toMatchObject({ session: 'r/c/t', owner: 'ann', name: 'Ann' });
    expect(await s.claimOwner('r/c/t', { id: 'bob' })).toMatchObject({ owner: 'ann' });
    expect((await s.owners()).map((o) => o.owner)).toEqual(['ann']);
    await s.recordThread('thr-1', 'r/c/t');
    await s.recordThread('thr-2', 'r/c/u');
    await s.recordThread('thr-1', 'other/c/t');
    expect(await s.roomOfThread('thr-1')).toBe('r');
    expect(await s.roomOfThread('nope')).toBeUndefined();
    expect((await s.threadsOfRoom('r')).map((t) => t.threadId)).toEqual(['thr-2', 'thr-1']);
    await s.close();
  });
});

describe('dataset store durability', () => {
  it('survives reopen', async () => {
    const file = path.join(tmp(), 'threads.db');
    const s1 = await DatasetStore.open(file);
    await s1.append('a', { kind: 'harness', harness: 'codex', reason: 'forced by config' });
    await s1.close();
    const s2 = await DatasetStore.open(file);
    expect(await s2.history('a')).toMatchObject([{ kind: 'harness', harness: 'codex' }]);
    await s2.close();
  });

  it('refuses a database of another schema version with a clear message', async () => {
    const file = path.join(tmp(), 'threads.db');
    const db = createClient({ url: `file:${file}` });
    await db.execute('CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    await db.execute("INSERT INTO meta VALUES ('schemaVersion', '99')");
    db.close();
    await expect(DatasetStore.open(file)).rejects.toThrow(/has schema version 99; this Switchboard reads version 1/);
  });

  it('a kill -9 of the writer loses nothing that was acknowledged', async () => {
    const file = path.join(tmp(), 'threads.db');
    const writer = fileURLToPath(new URL('../../support/storage-writer.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', writer, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    // The writer writes until it is killed: never leave it running (a test that times out included).
    onTestFinished(() => void (child.exitCode === null && child.kill('SIGKILL')));
    const acked: string[] = [];
    let inboxId = '';
    let buf = '';
    await new Promise<void>((resolve) => {
      child.stdout!.on('data', (d) => {
        buf += String(d);
        const lines = buf.split('\n');
        buf = lines.pop()!;
        for (const l of lines) {
          if (l.startsWith('inbox ')) inboxId = l.slice(6);
          if (l.startsWith('ack ')) acked.push(l.split(' ')[2]!);
        }
        if (acked.length >= 50 && child.exitCode === null && !child.killed) {
          child.kill('SIGKILL');
        }
      });
      child.once('exit', () => resolve());
    });
    const s = await DatasetStore.open(file);
    const texts = new Set((await s.history('room/chat/t1')).map((r) => (r.kind === 'message' ? r.text : '')));
    expect(acked.length).toBeGreaterThanOrEqual(50);
    expect(acked.filter((t) => !texts.has(t))).toEqual([]);
    expect((await s.pending()).map((e) => e.id)).toEqual([inboxId]);
    await s.close();
  }, 90_000); // a tsx child process: slow to start on a loaded machine
});

