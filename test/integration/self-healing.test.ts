// A WebSocket app-server (the real `codex app-server`, scripted model) goes away for 10 s and
// comes back on the same address: the host's connection goes degraded, every message meanwhile
// fails at once with exactly one notice per conversation, and the connection recovers by
// itself (no host restart): one notice per conversation that the agent is back, and the next
// message continues the same Codex thread.
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createSupervisor, type Supervisor } from '../../src/supervisor/supervisor.js';
import type { RoomEvent } from '../../src/events/room-events.js';
import { processRegistry } from '../../src/process/registry.js';
import { say } from '../support/mock-model.js';
import { makeSandbox, type Sandbox } from '../support/sandbox.js';
import { memoryLogger } from '../support/log.js';
import { waitFor } from '../support/procs.js';
import { startWsAppServer, type WsServer } from '../support/ws-app-server.js';

const TOKEN = 'sb-heal-token-1234567890';
const OUTAGE_MS = 10_000;
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  expect(processRegistry.list()).toEqual([]);
});

async function world(): Promise<{ sb: Supervisor; box: Sandbox; events: RoomEvent[]; server: () => WsServer; restart: () => Promise<void>; kill: () => Promise<void> }> {
  const box = await makeSandbox((_req, i) => say(`answer ${i + 1}`));
  cleanup.push(async () => {
    await box.assertNoProcesses();
    await box.close();
  });
  let server = await startWsAppServer(box.codex, box.codexHome, TOKEN);
  const port = Number(new URL(server.url).port);
  cleanup.push(() => server.stop());
  const { log } = memoryLogger('info');
  const sb = createSupervisor(
    {
      appServer: { transport: 'websocket', url: server.url, authToken: TOKEN },
      agents: { defaults: { cwd: box.workspace } },
      sessions: { bindingsDir: path.join(box.root, 'bindings') },
      storage: { kind: 'dataset', path: path.join(box.root, 'threads.db') },
    } as never,
    { log, baseDir: box.root, stateDir: box.root },
  );
  cleanup.push(() => sb.stop());
  const events: RoomEvent[] = [];
  sb.events$.subscribe((e) => events.push(e));
  return {
    sb,
    box,
    events,
    server: () => server,
    kill: () => server.stop(),
    restart: async () => {
      server = await startWsAppServer(box.codex, box.codexHome, TOKEN, port);
    },
  };
}

const notices = (events: RoomEvent[], session: string, pattern: RegExp) =>
  events.filter((e) => e.type === 'notice' && e.session === session && pattern.test(e.text));

async function turn(sb: Supervisor, events: RoomEvent[], thread: string, text: string): Promise<Extract<RoomEvent, { type: 'turn.started' }>> {
  const from = events.length;
  const { session } = await sb.post({ room: 'lab', thread, from: { id: 'ann', name: 'Ann' }, text });
  const ended = () => events.slice(from).find((e) => e.session === session && (e.type === 'turn.completed' || e.type === 'turn.failed'));
  expect(await waitFor(() => ended() !== undefined, 20_000)).toBe(true);
  expect(ended()).toMatchObject({ type: 'turn.completed' });
  return events.slice(from).find((e): e is Extract<RoomEvent, { type: 'turn.started' }> => e.type === 'turn.started' && e.session === session)!;
}

describe('self-healing connection to a WebSocket app-server', () => {
  it('down for 10 s and back: degraded, one notice per conversation, recovered with no host restart', async () => {
    const { sb, events, kill, restart } = await world();
    await sb.start();
    const a = await turn(sb, events, 'a', 'hello from a');
    const b = await turn(sb, events, 'b', 'hello from b');
    const conn = sb.codex.connection;
    const mark = events.length;

    const killedAt = Date.now();
    await kill();
    // Messages all through the outage, in both conversations; once degraded, each fails at once.
    const failed = () => events.slice(mark).filter((e) => e.type === 'turn.failed').length;
    let degradedAt: number | undefined;
    let posted = 0;
    const slowRefusals: number[] = [];
    while (Date.now() - killedAt < OUTAGE_MS) {
      if (degradedAt === undefined && conn.status().outage) degradedAt = Date.now();
      for (const thread of ['a', 'b']) {
        const before = failed();
        const t0 = Date.now();
        await sb.post({ room: 'lab', thread, from: { id: 'ann', name: 'Ann' }, text: `anyone there? (${++posted})` });
        if (degradedAt !== undefined && !(await waitFor(() => failed() > before, 2_000))) slowRefusals.push(Date.now() - t0);
      }
      await sleep(1_000);
    }
    expect(degradedAt).toBeDefined();
    expect(slowRefusals).toEqual([]);
    expect(conn.status().outage).toMatchObject({ reason: expect.stringMatching(/^app-server (failed 5 times within 60000 ms|still unavailable after \d+ slow retr)/) });

    await restart();
    const backAt = Date.now();
    expect(await waitFor(() => conn.ready, 70_000)).toBe(true);
    const recoveredAt = Date.now();
    // Every message of the outage failed (one posted as the server died fails its turn, then
    // is refused: two for it); none ran, none waits or loops.
    expect(failed()).toBeGreaterThanOrEqual(posted);
    expect(failed()).toBeLessThanOrEqual(posted + 2);
    expect(events.slice(mark).filter((e) => e.type === 'turn.completed')).toEqual([]);
    for (const s of [a.session, b.session]) {
      expect(notices(events.slice(mark), s, /^The agent is unavailable: /), s).toHaveLength(1);
      expect(notices(events.slice(mark), s, /^The agent is back: /), s).toHaveLength(1);
      expect(notices(events.slice(mark), s, /^Could not open the Codex thread/), s).toHaveLength(0);
      expect(events.slice(mark).filter((e) => e.type === 'notice' && e.session === s), s).toHaveLength(2);
    }
    // The same host, the same threads.
    expect(sb.status().state).toBe('running');
    const again = await turn(sb, events, 'a', 'back?');
    expect(again.threadId).toBe(a.threadId);
    expect((await turn(sb, events, 'b', 'back?')).threadId).toBe(b.threadId);
    console.log(
      `self-healing: degraded ${((degradedAt! - killedAt) / 1000).toFixed(1)} s after the kill; server back after ${((backAt - killedAt) / 1000).toFixed(1)} s; ` +
        `connection ready ${((recoveredAt - backAt) / 1000).toFixed(1)} s after the server was back; ${posted} messages refused, 1 notice per conversation`,
    );
  }, 120_000);
});
