// The room's model list: the catalog logic against a scripted connection (paging, hidden
// models, sanitizing, one discovery at a time, fallback and its cache), then the real path:
// a Supervisor over the fake app-server answering `model/list`, through a RoomServer's
// `models` frame.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelCatalog } from '../../../src/supervisor/model-catalog.js';
import { createSupervisor, type Supervisor } from '../../../src/supervisor/supervisor.js';
import { RoomServer } from '../../../src/room/server.js';
import { memoryLogger } from '../../support/log.js';
import { auth, client, cred, type Cleanup } from '../../security/room-support.js';

const cleanup: Cleanup = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

type Page = { data: Array<Record<string, unknown>>; nextCursor: string | null };
function scriptedConn(pages: Page[] | (() => Promise<never>)) {
  const calls: Array<Record<string, unknown>> = [];
  return {
    calls,
    conn: {
      request: async (method: string, params: Record<string, unknown>) => {
        calls.push({ method, ...params });
        if (typeof pages === 'function') return pages();
        const i = params.cursor ? Number(params.cursor) : 0;
        return pages[i]!;
      },
    } as never,
  };
}

const { log } = memoryLogger('silent');
const discovery = { enabled: true, timeoutMs: 200 };

describe('ModelCatalog', () => {
  it('pages through model/list, leaves hidden models out, strips control characters, marks the default', async () => {
    const { conn, calls } = scriptedConn([
      { data: [{ id: 'a', model: 'gpt-5.5', displayName: 'GPT-5.5\u001b[31m', isDefault: true }, { id: 'h', model: 'secret-model', hidden: true }], nextCursor: '1' },
      { data: [{ id: 'b', model: 'gpt-5.4-mini\u0007', displayName: 'x'.repeat(500) }], nextCursor: null },
    ]);
    const list = await new ModelCatalog({ conn, agent: {}, discovery, log }).list();
    expect(list.source).toBe('model/list');
    expect(list.models).toEqual([
      { model: 'gpt-5.5', displayName: 'GPT-5.5[31m', isDefault: true },
      { model: 'gpt-5.4-mini', displayName: 'x'.repeat(200), isDefault: false },
    ]);
    expect(calls.map((c) => c.cursor)).toEqual([undefined, '1']);
  });

  it('asks once for concurrent callers and reuses the catalog', async () => {
    const { conn, calls } = scriptedConn([{ data: [{ id: 'a', model: 'm1' }], nextCursor: null }]);
    const cat = new ModelCatalog({ conn, agent: {}, discovery, log });
    await Promise.all([cat.list(), cat.list(), cat.list()]);
    await cat.list();
    expect(calls).toHaveLength(1);
  });

  it('a failing or silent model/list gives the fallback list with the reason, reused for a while', async () => {
    const failing = scriptedConn(() => Promise.reject(new Error('boom')));
    const a = await new ModelCatalog({ conn: failing.conn, agent: { model: 'openai/gpt-5.2' }, discovery, log }).list();
    expect(a).toMatchObject({ source: 'fallback', note: 'model/list failed: boom' });
    expect(a.models.filter((m) => m.isDefault).map((m) => m.model)).toEqual(['gpt-5.2']);

    const silent = scriptedConn(() => new Promise<never>(() => undefined));
    let now = 0;
    const cat = new ModelCatalog({ conn: silent.conn, agent: {}, discovery, log, now: () => now });
    expect(await cat.list()).toMatchObject({ source: 'fallback', note: 'model/list did not answer within 200 ms' });
    now += 10_000;
    await cat.list();
    expect(silent.calls).toHaveLength(1);
    now += 60_000;
    await cat.list();
    expect(silent.calls).toHaveLength(2);
  });

  it('configured models are the list (no discovery), the first one the default', async () => {
    const { conn, calls } = scriptedConn([]);
    const list = await new ModelCatalog({ conn, agent: { models: ['openai/gpt-5.5', 'gpt-5.4-mini'] }, discovery, log }).list();
    expect(list).toEqual({ source: 'static', models: [{ model: 'gpt-5.5', isDefault: true }, { model: 'gpt-5.4-mini', isDefault: false }] });
    expect(calls).toEqual([]);
  });
});

describe('the models frame through a Supervisor over the fake app-server', () => {
  const fake = fileURLToPath(new URL('../../support/fake-app-server.mjs', import.meta.url));

  async function supervisor(env: Record<string, string> = {}): Promise<Supervisor> {
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-models-'));
    const sb = createSupervisor(
      {
        appServer: { command: process.execPath, args: [fake], env: { ...process.env, ...env } as Record<string, string>, discovery: { enabled: true, timeoutMs: 500 } },
        agents: { defaults: { cwd: dir } },
        sessions: { bindingsDir: path.join(dir, 'bindings') },
        storage: { kind: 'none' },
      } as never,
      { log: memoryLogger('silent').log, baseDir: dir, stateDir: dir },
    );
    cleanup.push(async () => {
      await sb.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    await sb.start();
    return sb;
  }

  it('answers the app-server’s catalog to a room participant', async () => {
    const sb = await supervisor();
    const server = new RoomServer({ backend: sb, auth, web: false });
    const url = await server.start();
    cleanup.push(() => server.stop());
    const c = client(cleanup, url);
    await c.join({ token: await cred('lab', 'bob', 'member') });
    await c.send({ type: 'models' });
    expect(await c.next((f) => f.type === 'models')).toEqual({ type: 'models', source: 'model/list', models: [{ model: 'fake-model', displayName: 'Fake', isDefault: false }] });
  });

  it('falls back when model/list does not answer in time', async () => {
    const sb = await supervisor({ FAKE_SILENT_METHODS: 'model/list' });
    expect(await sb.models()).toMatchObject({ source: 'fallback', note: 'model/list did not answer within 500 ms', models: [{ model: 'gpt-5.5' }, { model: 'gpt-5.4-mini' }, { model: 'gpt-5.2' }] });
  });
});
