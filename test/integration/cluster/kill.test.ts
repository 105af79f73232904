// kill -9 of the driving node mid-turn: node A is a process (its own app-server), nodes B and C
// in-process supervisors on the same PostgreSQL and CODEX_HOME, each with its room's clients
// (events$) and each posting. B or C takes the conversation over within the lease TTL, finds the
// cut-off message already in the Codex thread (not sent again, the room told), and runs the
// messages queued behind it; every node's clients and history then tell the same story.
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSupervisor, type Supervisor } from '../../../src/supervisor/supervisor.js';
import type { RoomEvent } from '../../../src/events/room-events.js';
import { processRegistry } from '../../../src/process/registry.js';
import { say } from '../../support/mock-model.js';
import { makeSandbox, type Sandbox } from '../../support/sandbox.js';
import { spawnHost } from '../../support/host-process.js';
import { memoryLogger } from '../../support/log.js';
import { postgresPerFile } from '../../support/postgres.js';
import { lastUserText, until } from '../../support/cluster-test.js';

const server = postgresPerFile();

let box: Sandbox | undefined;
const children: ChildProcess[] = [];
const supervisors: Supervisor[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const sb of supervisors.splice(0)) await sb.stop();
  // The killed node's app-server outlives it (as after a real kill -9); its owner is gone.
  processRegistry.reapOrphans();
  await box?.assertNoProcesses();
  await box?.close();
  box = undefined;
}, 60_000);

const TTL = 2_000;

describe('several nodes: kill -9 of the driving node', () => {
  it('three nodes: another node takes over within the TTL; the cut-off message runs exactly once; those queued on the other nodes follow; clients and history agree on every node', async () => {
    box = await makeSandbox((req) => (lastUserText(req) === 'first' ? { ...say('never sent'), stallMs: 120_000 } : say(`re: ${lastUserText(req)}`)));
    const url = await server.freshDatabase();
    const storage = { kind: 'postgres', url };
    const a = spawnHost(box, { storage, cluster: { node: 'a', leaseTtlMs: TTL } });
    children.push(a.child);
    await until(() => a.lines.find((l) => 'ready' in l));
    a.child.stdin!.write(`post ${JSON.stringify({ room: 'lab', from: { id: 'ann', name: 'Ann' }, text: 'first' })}\n`);
    // Codex took "first": the model is answering it (stalled).
    await until(() => a.lines.find((l) => (l.event as RoomEvent | undefined)?.type === 'turn.started'));
    await until(() => box!.model.requests.some((r) => lastUserText(r) === 'first'));

    const inProcess = async (node: string) => {
      const { log } = memoryLogger('warn');
      const config = {
        appServer: { env: box!.env },
        agents: { defaults: { cwd: box!.workspace } },
        storage,
        cluster: { node, leaseTtlMs: TTL },
      };
      const sb = createSupervisor(config as never, { log, baseDir: box!.root, stateDir: path.join(box!.root, node) });
      supervisors.push(sb);
      const events: RoomEvent[] = [];
      sb.events$.subscribe((e) => events.push(e));
      await sb.start();
      return { sb, events };
    };
    const [b, c] = await Promise.all([inProcess('b'), inProcess('c')]);
    await b.sb.post({ room: 'lab', from: { id: 'ann', name: 'Ann' }, text: 'second' });
    await c.sb.post({ room: 'lab', from: { id: 'bob', name: 'Bob' }, text: 'third' });
    await new Promise((r) => setTimeout(r, 500));
    // A still drives the conversation: B and C have run nothing.
    expect([...b.events, ...c.events].filter((e) => e.type === 'turn.started')).toEqual([]);

    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    await new Promise((r) => a.child.once('exit', r));
    const events = await until(() => [b.events, c.events].find((ev) => ev.some((e) => e.type === 'turn.interrupted')), 30_000);
    const interrupted = events.find((e) => e.type === 'turn.interrupted');
    // The lease ran out (TTL), then B's next scan took it: well within two TTLs of the kill.
    expect(Date.now() - killedAt).toBeLessThan(2 * TTL + 3_000);
    expect(interrupted).toMatchObject({ reason: 'the node driving the conversation stopped' });
    expect(events.find((e) => e.type === 'notice' && e.level === 'warning')).toMatchObject({ text: expect.stringContaining('"first"') });
    // Both nodes' clients see the queued messages answered, once each, in posting order.
    const completed = (ev: RoomEvent[]) => ev.filter((e) => e.type === 'message.completed').map((e) => (e as { text: string }).text);
    await until(() => [b, c].every((n) => completed(n.events).length === 2 && n.events.filter((e) => e.type === 'turn.completed').length === 2), 60_000);
    for (const n of [b, c]) expect(completed(n.events)).toEqual(['re: second', 're: third']);
    // Each post was announced once to each node's clients (one message id each).
    const posted = (ev: RoomEvent[]) => ev.filter((e) => e.type === 'message.posted') as Array<Extract<RoomEvent, { type: 'message.posted' }>>;
    for (const n of [b, c]) expect(posted(n.events).map((e) => e.text)).toEqual(['second', 'third']);
    const ids = new Map(posted(b.events).map((e) => [e.messageId, e.text]));
    expect(ids.size).toBe(2);
    // Exactly once each, counted at the scripted model per message id (its text is unique).
    const asked = box.model.requests.map(lastUserText);
    expect(asked.filter((t) => t === 'first')).toHaveLength(1);
    for (const text of ids.values()) expect(asked.filter((t) => t === text)).toHaveLength(1);
    // History through every live node: the same, complete, nothing twice.
    await b.sb.flush();
    await c.sb.flush();
    const [hb, hc] = await Promise.all([b.sb.history('lab'), c.sb.history('lab')]);
    expect(hc).toEqual(hb);
    const said = hb.filter((r) => r.kind === 'message').map((r) => (r as { text: string }).text);
    expect(said).toEqual(['first', 'second', 're: second', 'third', 're: third']);
  }, 180_000);
});
