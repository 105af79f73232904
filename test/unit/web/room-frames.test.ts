// The room protocol's web additions over a real RoomServer and real sockets: presence on
// join/leave, `joined.participants`/`joined.inspector`, the `models` frame (rate-limited,
// `unavailable` without a catalog), and who may open the inspector.
import { afterEach, describe, expect, it } from 'vitest';
import { Subject } from 'rxjs';
import { RoomServer, type RoomServerOptions } from '../../../src/room/server.js';
import { RelayBackend } from '../../../src/room/relay.js';
import type { ModelList, RoomBackend, RoomInspector } from '../../../src/room/protocol.js';
import type { RoomEvent } from '../../../src/events/room-events.js';
import { auth, client, cred, sleep, type Cleanup, type Frame } from '../../security/room-support.js';

const cleanup: Cleanup = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const CATALOG: ModelList = { models: [{ model: 'gpt-5.5', displayName: 'GPT-5.5', isDefault: true }, { model: 'gpt-5.4-mini', isDefault: false }], source: 'model/list' };

function backend(models?: () => Promise<ModelList>): RoomBackend & { asked: number } {
  const b = {
    asked: 0,
    events$: new Subject<RoomEvent>(),
    post: () => undefined,
    decide: () => ({ ok: false as const, reason: 'no' }),
    history: async () => [],
    ...(models ? { models: () => (b.asked++, models()) } : {}),
  };
  return b;
}

/** An inspector that records who subscribed and which unsubscribes ran. */
function fakeInspector() {
  const subs: Array<{ room: string; open: boolean }> = [];
  const inspector: RoomInspector = {
    subscribe(room, send) {
      const s = { room, open: true };
      subs.push(s);
      send({ type: 'inspect', actors: [{ id: `session:${room}/chat/main`, parent: null, machine: 'session', status: 'active', value: 'idle', at: 1 }], events: [] });
      return () => void (s.open = false);
    },
  };
  return { inspector, subs };
}

async function start(opts: Partial<RoomServerOptions> & { backend: RoomBackend }) {
  const server = new RoomServer({ auth, web: false, ...opts });
  const url = await server.start();
  cleanup.push(() => server.stop());
  return { server, url };
}

const presenceOf = (f: Frame) => (f.participants as Array<Record<string, unknown>>).map((p) => [p.id, p.role, p.connections]);

describe('presence', () => {
  it('joined lists who is there; everyone gets a presence frame on each join and leave, one entry per id', async () => {
    const { url } = await start({ backend: backend(), agent: { id: 'bot' } });
    const ann = client(cleanup, url);
    const joined = await ann.join({ token: await cred('lab', 'ann', 'owner', 'Ann') });
    expect(joined.participants).toEqual([
      { id: 'ann', name: 'Ann', role: 'owner', connections: 1 },
      { id: 'bot', role: 'agent', connections: 1 },
    ]);
    const bob1 = client(cleanup, url);
    await bob1.join({ token: await cred('lab', 'bob', 'member') });
    const bob2 = client(cleanup, url);
    await bob2.join({ token: await cred('lab', 'bob', 'member') });
    await ann.next((f) => f.type === 'presence' && presenceOf(f).some(([id, , n]) => id === 'bob' && n === 2));
    // Another room's presence never reaches lab.
    const eve = client(cleanup, url);
    await eve.join({ token: await cred('other', 'eve', 'owner') });
    bob2.ws.close();
    const after = await ann.next((f) => f.type === 'presence' && presenceOf(f).some(([id, , n]) => id === 'bob' && n === 1));
    expect(presenceOf(after)).toEqual([
      ['ann', 'owner', 1],
      ['bob', 'member', 1],
      ['bot', 'agent', 1],
    ]);
    expect(JSON.stringify(ann.frames)).not.toContain('eve');
    bob1.ws.close();
    await ann.next((f) => f.type === 'presence' && !presenceOf(f).some(([id]) => id === 'bob'));
  });

  it('a burst of joins is announced in a few frames, not one per join (O(n) bytes per change, not O(n²))', async () => {
    const { url } = await start({ backend: backend() });
    const ann = client(cleanup, url);
    await ann.join({ token: await cred('lab', 'ann', 'owner') });
    const tokens = await Promise.all(Array.from({ length: 30 }, (_, i) => cred('lab', `m${i}`, 'member')));
    await Promise.all(tokens.map((token) => client(cleanup, url).join({ token })));
    const last = await ann.next((f) => f.type === 'presence' && (f.participants as unknown[]).length === 31);
    expect(last).toBeDefined();
    expect(ann.frames.filter((f) => f.type === 'presence').length).toBeLessThan(10);
  });

  it('a relay agent is listed with role agent while it is connected', async () => {
    const { url } = await start({ backend: new RelayBackend() });
    const ann = client(cleanup, url);
    await ann.join({ token: await cred('lab', 'ann', 'owner') });
    const agent = client(cleanup, url);
    await agent.join({ token: await cred('lab', 'bot', 'agent') });
    await ann.next((f) => f.type === 'presence' && presenceOf(f).some(([id, role]) => id === 'bot' && role === 'agent'));
  });
});

describe('models frame', () => {
  it('answers the backend catalog; without one: unavailable', async () => {
    const { url } = await start({ backend: backend(async () => CATALOG) });
    const c = client(cleanup, url);
    await c.join({ token: await cred('lab', 'bob', 'member') });
    await c.send({ type: 'models' });
    expect(await c.next((f) => f.type === 'models')).toEqual({ type: 'models', ...CATALOG });

    const relay = await start({ backend: new RelayBackend() });
    const r = client(cleanup, relay.url);
    await r.join({ token: await cred('lab', 'bob', 'member') });
    await r.send({ type: 'models' });
    expect(await r.next((f) => f.type === 'error')).toMatchObject({ code: 'unavailable' });
  });

  it('needs a join, takes no extra fields, and is rate-limited like history pages', async () => {
    const b = backend(async () => CATALOG);
    const { url } = await start({ backend: b, limits: { historyBurst: 3, historyPerSecond: 0.001 } });
    const c = client(cleanup, url);
    await c.send({ type: 'models' });
    expect(await c.next((f) => f.type === 'error')).toMatchObject({ code: 'not_joined' });
    await c.join({ token: await cred('lab', 'bob', 'member') });
    await c.send({ type: 'models', extra: 1 });
    await c.next((f) => f.type === 'error' && f.code === 'bad_frame');
    for (let i = 0; i < 5; i++) await c.send({ type: 'models' });
    await c.next((f) => f.type === 'error' && f.code === 'rate_limited');
    await sleep(50);
    expect(c.frames.filter((f) => f.type === 'models')).toHaveLength(3);
    expect(b.asked).toBe(3);
  });
});

describe('inspect frame', () => {
  it('owners and approvers may inspect (joined.inspector true); members and observers are refused', async () => {
    const { inspector, subs } = fakeInspector();
    const { url } = await start({ backend: backend(), inspector });
    for (const role of ['owner', 'approver'] as const) {
      const c = client(cleanup, url);
      expect((await c.join({ token: await cred('lab', `p-${role}`, role) })).inspector).toBe(true);
      await c.send({ type: 'inspect', on: true });
      expect(await c.next((f) => f.type === 'inspect')).toMatchObject({ actors: [{ id: 'session:lab/chat/main' }] });
    }
    for (const role of ['member', 'observer'] as const) {
      const c = client(cleanup, url);
      expect((await c.join({ token: await cred('lab', `p-${role}`, role) })).inspector).toBe(false);
      await c.send({ type: 'inspect', on: true });
      expect(await c.next((f) => f.type === 'error')).toEqual({ type: 'error', code: 'forbidden', error: 'the inspector is for room owners and approvers' });
      expect(c.frames.some((f) => f.type === 'inspect')).toBe(false);
    }
    expect(subs.map((s) => s.room)).toEqual(['lab', 'lab']);
  });

  it('off and closing the socket end the subscription', async () => {
    const { inspector, subs } = fakeInspector();
    const { url } = await start({ backend: backend(), inspector });
    const a = client(cleanup, url);
    await a.join({ token: await cred('lab', 'ann', 'owner') });
    await a.send({ type: 'inspect', on: true });
    await a.next((f) => f.type === 'inspect');
    await a.send({ type: 'inspect', on: false });
    await sleep(50);
    expect(subs[0]!.open).toBe(false);
    const b = client(cleanup, url);
    await b.join({ token: await cred('lab', 'bea', 'approver') });
    await b.send({ type: 'inspect', on: true });
    await b.next((f) => f.type === 'inspect');
    expect(subs[1]!.open).toBe(true);
    b.ws.close();
    await sleep(100);
    expect(subs[1]!.open).toBe(false);
  });

  it('a relay room server has no inspector: unavailable, and joined.inspector is false', async () => {
    const { url } = await start({ backend: new RelayBackend() });
    const c = client(cleanup, url);
    expect((await c.join({ token: await cred('lab', 'ann', 'owner') })).inspector).toBe(false);
    await c.send({ type: 'inspect', on: true });
    expect(await c.next((f) => f.type === 'error')).toMatchObject({ code: 'unavailable' });
  });
});
