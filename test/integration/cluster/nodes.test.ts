// Several nodes end to end: in-process supervisors on one real PostgreSQL, each with its own real
// codex app-server (one CODEX_HOME, one scripted model, as app-servers sharing a disk would be).
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createRoomAuth } from '../../../src/auth/index.js';
import { RoomServer } from '../../../src/room/server.js';
import type { Supervisor } from '../../../src/supervisor/supervisor.js';
import type { RoomEvent } from '../../../src/events/room-events.js';
import { say, type ResponsesRequest } from '../../support/mock-model.js';
import { makeSandbox } from '../../support/sandbox.js';
import { postgresPerFile } from '../../support/postgres.js';
import type { PostgresStore } from '../../../src/storage/postgres/store.js';
import { ClusterTeardown, lastUserText, until } from '../../support/cluster-test.js';

const server = postgresPerFile();

const t = new ClusterTeardown();
const { supervisors: open, closers } = t;
afterEach(() => t.run(), 60_000);

async function cluster(names: string[], extra: Record<string, unknown> = {}, script: Parameters<typeof makeSandbox>[0] = (req) => say(`re: ${lastUserText(req)}`)) {
  return t.nodes(await server.freshDatabase(), names, script, extra);
}

const auth = createRoomAuth({ secret: 'nodes-test-room-secret-0123456789abcdef' });

/** A room server on a node, and a room client joined on it: the frames it received. */
async function roomClient(sb: Supervisor, id: string) {
  const server = new RoomServer({ backend: sb, auth });
  const url = await server.start();
  closers.push(() => server.stop());
  const ws = new WebSocket(url);
  closers.push(() => ws.terminate());
  const frames: Array<Record<string, unknown>> = [];
  ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Record<string, unknown>));
  await new Promise((r) => ws.once('open', r));
  const join = async () => ws.send(JSON.stringify({ type: 'join', token: await auth.mint({ room: 'lab', id, role: 'member', name: id }) }));
  await join();
  await until(() => frames.some((f) => f.type === 'joined'));
  const events = () => frames.filter((f) => f.type === 'event').map((f) => f.event as RoomEvent);
  const say = (text: string) => ws.send(JSON.stringify({ type: 'message', text }));
  return { frames, events, say, server };
}

const drives = (n: { sb: Supervisor }) => (n.sb as unknown as { cluster: { driver: { drives(s: string): boolean } } }).cluster.driver.drives('lab/chat/main');
const completed = (events: RoomEvent[]) => events.filter((e) => e.type === 'message.completed').map((e) => (e as { text: string }).text);

describe('several nodes on one database', () => {
  it('posts on any node run once each, in order, on the one node driving the conversation', async () => {
    const nodes = await cluster(['a', 'b', 'c']);
    // A room client joined on each node, each posting through its own node.
    const clients = await Promise.all(nodes.map((n) => roomClient(n.sb, `u-${n.node}`)));
    const postedOn = (i: number, text: string) => until(() => clients[i]!.events().some((e) => e.type === 'message.posted' && (e as { text: string }).text === text));
    for (const [i, text] of ['one', 'two', 'three'].entries()) {
      clients[i]!.say(text);
      await postedOn(i, text); // in posting order
    }
    // Every node's room clients see the turns live, whichever node drives them.
    await until(() => nodes.every((n) => completed(n.events).length === 3) && clients.every((cl) => completed(cl.events()).length === 3));
    for (const n of nodes) expect(completed(n.events)).toEqual(['re: one', 're: two', 're: three']);
    expect(nodes.filter(drives)).toHaveLength(1);
    // The posts too: each node's clients saw all three, once.
    const posted = (events: RoomEvent[]) => events.filter((e) => e.type === 'message.posted').map((e) => (e as { text: string }).text);
    for (const n of nodes) expect(posted(n.events)).toEqual(['one', 'two', 'three']);
    // The scripted model answered each message once.
    const asked = t.box!.model.requests.map(lastUserText);
    for (const t of ['one', 'two', 'three']) expect(asked.filter((x) => x === t)).toHaveLength(1);
    // Every node's room client saw every post and answer once, in order.
    for (const cl of clients) {
      expect(completed(cl.events())).toEqual(['re: one', 're: two', 're: three']);
      expect(cl.events().filter((e) => e.type === 'message.posted').map((e) => (e as { text: string }).text)).toEqual(['one', 'two', 'three']);
    }
    // History is shared: every node reads the same conversation, complete; a client joining
    // on any node gets it.
    for (const n of nodes) await n.sb.flush();
    const histories = await Promise.all(nodes.map((n) => n.sb.history('lab')));
    for (const h of histories) expect(h).toEqual(histories[0]);
    const texts = histories[0]!.filter((r) => r.kind === 'message').map((r) => (r as { text: string }).text);
    expect(texts).toEqual(['one', 're: one', 'two', 're: two', 'three', 're: three']);
    const late = await Promise.all(nodes.map((n) => roomClient(n.sb, `late-${n.node}`)));
    const joinedWith = (frames: Array<Record<string, unknown>>) => frames.find((f) => f.type === 'joined')!.history as Array<{ kind: string; text?: string }>;
    for (const l of late) expect(joinedWith(l.frames).filter((r) => r.kind === 'message').map((r) => r.text)).toEqual(texts);
  }, 180_000);

  it('the driving node stops: another node takes the conversation at once and continues the same Codex thread', async () => {
    const nodes = await cluster(['a', 'b']);
    const [a] = nodes;
    await a!.sb.post({ room: 'lab', from: { id: 'ann', name: 'Ann' }, text: 'first' });
    await until(() => nodes.every((n) => completed(n.events).length === 1));
    const driver = nodes.find(drives)!;
    const other = nodes.find((n) => n !== driver)!;
    const threadOf = (events: RoomEvent[]) => ([...events].reverse().find((e) => e.type === 'turn.started') as { threadId: string } | undefined)?.threadId;
    const thread = threadOf(driver.events);
    await driver.sb.stop();
    open.splice(open.indexOf(driver.sb), 1);
    const t0 = Date.now();
    await other.sb.post({ room: 'lab', from: { id: 'ann', name: 'Ann' }, text: 'second' });
    await until(() => completed(other.events).length === 2);
    // A graceful stop released the lease: no wait for the TTL.
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(completed(other.events)).toEqual(['re: first', 're: second']);
    expect(drives(other)).toBe(true);
    expect(threadOf(other.events)).toBe(thread);
    const asked = t.box!.model.requests.map(lastUserText);
    expect(asked.filter((x) => x === 'first')).toHaveLength(1);
    expect(asked.filter((x) => x === 'second')).toHaveLength(1);
  }, 180_000);

  it('a message posted for a second agent runs on it (one for an agent the node lacks is not run, the room told); /stop posted on a node that does not drive the conversation stops the turn at once', async () => {
    const agents = { list: [{ id: 'alpha', default: true }, { id: 'beta', model: 'gpt-beta' }] };
    const script = (req: ResponsesRequest) => (lastUserText(req) === 'long' ? { ...say('never sent'), stallMs: 120_000 } : say(`re: ${lastUserText(req)}`));
    const nodes = await cluster(['a', 'b'], { agents }, script);
    await nodes[0]!.sb.post({ room: 'lab', from: { id: 'ann', name: 'Ann' }, text: 'long', agent: 'beta' });
    await until(() => t.box!.model.requests.some((r) => lastUserText(r) === 'long'));
    // Queued, then run on the agent it was posted for, not the default one.
    expect(t.box!.model.requests.find((r) => lastUserText(r) === 'long')!.model).toBe('gpt-beta');
    const driver = nodes.find(drives)!;
    const other = nodes.find((n) => n !== driver)!;
    // The queue holds "long" until its turn ends: a queued /stop would wait behind it for ever.
    await other.sb.post({ room: 'lab', from: { id: 'ann', name: 'Ann' }, text: '/stop' });
    const t0 = Date.now();
    await until(() => driver.events.some((e) => e.type === 'turn.interrupted'), 20_000);
    expect(Date.now() - t0).toBeLessThan(15_000);
    await until(() => other.events.some((e) => e.type === 'turn.interrupted'));
    // Run on the driving node only: the other node never opened the conversation.
    expect(other.sb.status().sessions).toEqual([]);
    expect(drives(other)).toBe(false);
    // The queue moved on; the default agent answers a post for no agent.
    await other.sb.post({ room: 'lab', thread: 'side', from: { id: 'ann', name: 'Ann' }, text: 'after' });
    await until(() => nodes.every((n) => completed(n.events).includes('re: after')));
    expect(t.box!.model.requests.find((r) => lastUserText(r) === 'after')!.model).not.toBe('gpt-beta');
    // Queued for an agent this node does not have (nodes configured apart): not run, the room told.
    const store = (driver.sb as unknown as { store: PostgresStore }).store;
    await store.cluster(driver.node).enqueue('lab/chat/main', { room: 'lab', channel: 'chat', thread: 'main', from: { id: 'ann' }, text: 'for gamma', agent: 'gamma' });
    (driver.sb as unknown as { cluster: { driver: { wake(): void } } }).cluster.driver.wake();
    await until(() => driver.events.some((e) => e.type === 'notice' && e.text.startsWith('Agent "gamma" is not configured')));
    await until(async () => (await store.pool.query('SELECT 1 FROM inbox')).rowCount === 0);
    expect(drives(driver)).toBe(true);
  }, 180_000);
});
