// Issue 11 #5 (backend half) and #13 (database errors): history pages newest-first by cursor
// through sb.history(), in both store kinds; a database that cannot be opened names its file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DatasetStore } from '../../src/storage/dataset.js';
import { MemoryStore } from '../../src/storage/memory.js';
import type { ThreadStore } from '../../src/storage/types.js';
import { world, type World } from './backend-world.js';

let w: World | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await w?.close();
  w = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'sb-store-'));
  dirs.push(d);
  return d;
};

async function fill(store: ThreadStore, n: number): Promise<void> {
  for (let i = 1; i <= n; i++) {
    // Two threads of one room, and another room: paging is per room, and across its threads.
    await store.append(i % 2 ? 'lab/chat/main' : 'lab/chat/side', { kind: 'notice', level: 'info', text: `n${i}` });
    await store.append('other/chat/main', { kind: 'notice', level: 'info', text: `x${i}` });
  }
}
const texts = (rs: Array<{ kind: string }>) => rs.map((r) => (r as unknown as { text: string }).text);

describe('#5 history paging', () => {
  it('sb.history returns the newest page by default, older pages by `before`, newer by `after`; no limit keeps the old listing', async () => {
    w = await world([]);
    const store = await DatasetStore.open(path.join(w.box.root, 'paged.db'));
    await fill(store, 25);
    const { sb } = await w.supervisor({ storage: { kind: 'dataset', path: path.join(w.box.root, 'paged.db') } });
    const newest = await sb.history('lab', { limit: 10 });
    expect(texts(newest)).toEqual(Array.from({ length: 10 }, (_, i) => `n${16 + i}`));
    const older = await sb.history('lab', { limit: 10, before: newest[0]!.seq });
    expect(texts(older)).toEqual(Array.from({ length: 10 }, (_, i) => `n${6 + i}`));
    const oldest = await sb.history('lab', { limit: 10, before: older[0]!.seq });
    expect(texts(oldest)).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
    expect(await sb.history('lab', { limit: 10, before: oldest[0]!.seq })).toEqual([]);
    const newer = await sb.history('lab', { limit: 3, after: older.at(-1)!.seq });
    expect(texts(newer)).toEqual(['n16', 'n17', 'n18']);
    expect(texts(await sb.history('lab', { thread: 'main', channel: 'chat', limit: 2 }))).toEqual(['n23', 'n25']);
    // Existing callers (no limit, no cursor): the whole history, oldest first.
    expect(texts(await sb.history('lab'))).toEqual(Array.from({ length: 25 }, (_, i) => `n${i + 1}`));
    // seq is monotonic across the store: pages never mix rooms.
    expect(newest.every((r) => r.session.startsWith('lab/'))).toBe(true);
    await store.close();
  }, 60_000);

  it('the memory store pages the same way, and a limit outside 1..10000 is clamped', async () => {
    const mem = new MemoryStore();
    await fill(mem, 25);
    const dataset = await DatasetStore.open(path.join(tmp(), 'h.db'));
    await fill(dataset, 25);
    for (const s of [mem, dataset]) {
      expect(texts(await s.historyByPrefix('lab', { limit: 4 }))).toEqual(['n22', 'n23', 'n24', 'n25']);
      expect(texts(await s.historyByPrefix('lab', { limit: 0 }))).toEqual(['n25']);
      expect(await s.historyByPrefix('lab', { limit: 1e9 })).toHaveLength(25);
      expect(texts(await s.historyByPrefix('lab', { after: 0, limit: 2 }))).toEqual(['n1', 'n2']);
    }
    await dataset.close();
  });
});

describe('#13 database errors name the file', () => {
  it('a corrupt database file: the error names the path and what to do', async () => {
    const file = path.join(tmp(), 'threads.db');
    writeFileSync(file, 'this is not a database, just text that is long enough to look like a header '.repeat(100));
    const err = await DatasetStore.open(file).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toContain(`thread storage ${file} cannot be used:`);
    expect(err?.message).toMatch(/move it aside .*or set storage\.path to another file/);
  });

  it('an unopenable location (its directory is a file): the error names the path', async () => {
    const notDir = path.join(tmp(), 'plain-file');
    writeFileSync(notDir, 'x');
    const file = path.join(notDir, 'threads.db');
    const err = await DatasetStore.open(file).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toContain(`thread storage ${file} cannot be used:`);
  });

  it('the supervisor refuses to start on a corrupt database, naming the file', async () => {
    w = await world([]);
    const file = path.join(w.box.root, 'bad.db');
    writeFileSync(file, 'garbage '.repeat(1000));
    await expect(w.supervisor({ storage: { kind: 'dataset', path: file } })).rejects.toThrow(`thread storage ${file} cannot be used`);
  }, 60_000);
});
