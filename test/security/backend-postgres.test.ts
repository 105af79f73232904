// `postgres` storage end to end: a supervisor over the real codex app-server keeps history,
// owner, thread room and the thread binding in PostgreSQL (no JSON binding files), and a
// restarted supervisor on the same database continues the same Codex thread.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/storage/postgres/store.js';
import { say } from '../support/mock-model.js';
import { postgresPerFile } from '../support/postgres.js';
import { turnEnd, world, type World } from './backend-world.js';

const server = postgresPerFile();
let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

describe('postgres storage', () => {
  it('history, owner, thread room and binding live in the database; a restart continues the thread', async () => {
    const url = await server.freshDatabase();
    w = await world([say('first answer'), say('second answer')]);
    const first = await w.supervisor({ storage: { kind: 'postgres', url } });
    let ended = turnEnd(first.sb);
    await first.sb.post({ room: 'lab', from: { id: 'ann', name: 'Ann', role: 'member' }, text: 'hello' });
    expect((await ended).type).toBe('turn.completed');
    await first.sb.stop();

    const second = await w.supervisor({ storage: { kind: 'postgres', url } });
    ended = turnEnd(second.sb);
    await second.sb.post({ room: 'lab', from: { id: 'bob', role: 'member' }, text: 'again' });
    expect((await ended).type).toBe('turn.completed');
    const texts = (await second.sb.history('lab')).flatMap((r) => (r.kind === 'message' ? [`${r.role}:${r.text}`] : []));
    expect(texts).toEqual(['user:hello', 'assistant:first answer', 'user:again', 'assistant:second answer']);
    await second.sb.stop();

    const bindingsDir = path.join(w.box.root, 'bindings');
    expect(existsSync(bindingsDir) ? readdirSync(bindingsDir, { recursive: true }).filter((f) => String(f).endsWith('.json')) : []).toEqual([]);
    const store = await PostgresStore.open(url);
    try {
      expect((await store.owners()).map((o) => [o.session, o.owner])).toEqual([['lab/chat/main', 'ann']]);
      expect(await store.pending()).toEqual([]);
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      const rows = (await c.query<{ agent: string; key: string; thread: string }>("SELECT agent, key, body->>'threadId' AS thread FROM bindings")).rows;
      await c.end();
      expect(rows).toHaveLength(1);
      expect(rows[0]!.key).toBe('lab/chat/main');
      // One thread for both turns: the second supervisor resumed what the first bound.
      expect((await store.threadsOfRoom('lab')).map((t) => t.threadId)).toEqual([rows[0]!.thread]);
    } finally {
      await store.close();
    }
  }, 180_000);
});
