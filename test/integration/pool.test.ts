// The app-server pool end to end: real codex app-servers sharing one CODEX_HOME, the scripted
// model, the embedding API. Placement and affinity, recycling under maxLoadedThreads with the
// conversation going on in another member (same thread, earlier context in the model's next
// request), approvals from any member, no thread loaded in two members at once through a run
// with recycling, and agents isolated in processes of their own.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { filter, firstValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createSupervisor, type Supervisor } from '../../src/supervisor/supervisor.js';
import type { RoomEvent } from '../../src/events/room-events.js';
import type { ConnectionPool } from '../../src/pool/pool.js';
import { processRegistry } from '../../src/process/registry.js';
import { hostProbe } from '../../src/metrics/host-probe.js';
import { makeCodexHome } from '../support/codex-home.js';
import { say, shell, functionCallOutputs, type ResponsesRequest, type Step } from '../support/mock-model.js';
import { makeSandbox, type Sandbox } from '../support/sandbox.js';
import { startWsAppServer } from '../support/ws-app-server.js';
import { processesWithEnv, waitFor } from '../support/procs.js';
import { memoryLogger } from '../support/log.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  expect(processRegistry.list()).toEqual([]);
});

const text = (req: ResponsesRequest | undefined) => JSON.stringify(req?.input ?? []);

/** Answers every request; a marker in the newest user message picks a special step. */
function script(special: (latest: string, req: ResponsesRequest) => Step | undefined = () => undefined) {
  return (req: ResponsesRequest, i: number): Step => {
    const users = req.input.filter((x) => x.type === 'message' && x.role === 'user');
    const latest = JSON.stringify(users.at(-1) ?? '');
    return special(latest, req) ?? say(`reply ${i}`);
  };
}

type Config = Record<string, unknown>;

async function world(config: Config | ((box: Sandbox) => Config), model: ReturnType<typeof script>) {
  const box = await makeSandbox(model);
  const { log } = memoryLogger('info');
  const { appServer, agents, ...rest } = (typeof config === 'function' ? config(box) : config) as { appServer?: object; agents?: { list?: unknown[] } };
  const sb = createSupervisor(
    {
      appServer: { env: box.env, ...appServer },
      agents: { defaults: { cwd: box.workspace }, list: (agents?.list ?? []) as never },
      sessions: { bindingsDir: path.join(box.root, 'bindings'), idleWatchdogSeconds: 60 },
      storage: { kind: 'dataset', path: path.join(box.root, 'threads.db') },
      ...rest,
    } as never,
    { log, baseDir: box.root, stateDir: box.root },
  );
  cleanups.push(async () => {
    await sb.stop();
    await box.assertNoProcesses();
    await box.close();
  });
  const events: RoomEvent[] = [];
  sb.events$.subscribe((e) => events.push(e));
  await sb.start();
  return { sb, box, events, pool: sb.codex.clientFor('default') as ConnectionPool };
}

const ENDS = new Set(['turn.completed', 'turn.failed', 'turn.interrupted']);

/** Post a message and wait for the end of that conversation's turn. */
async function turn(sb: Supervisor, room: string, message: string, agent?: string): Promise<RoomEvent> {
  const session = `${room}/chat/main`;
  const ended = firstValueFrom(sb.events$.pipe(filter((e) => e.session === session && ENDS.has(e.type))));
  await sb.post({ room, from: { id: 'ann', name: 'Ann' }, text: message, ...(agent ? { agent } : {}) });
  return ended;
}

const threadOf = (events: RoomEvent[], room: string): string[] =>
  events.filter((e) => e.type === 'turn.started' && e.session === `${room}/chat/main`).map((e) => (e as { threadId: string }).threadId);

describe('app-server pool (real app-servers, one CODEX_HOME)', () => {
  it('places new threads on the least loaded member and keeps them there (affinity); approvals come from any member', async () => {
    const { sb, events, pool } = await world(
      { appServer: { pool: { size: 2 }, approvalPolicy: 'untrusted', sandbox: 'workspace-write' }, approvals: { reviewer: 'user' } },
      script((latest, req) => (functionCallOutputs(req).length ? undefined : latest.includes('APPROVE') ? shell('echo hi > out.txt', { escalated: true }) : undefined)),
    );
    sb.events$.pipe(filter((e) => e.type === 'approval.requested')).subscribe((e) => sb.decide({ approvalId: (e as { approvalId: string }).approvalId, by: 'ann', decision: 'accept' }));
    for (const room of ['r1', 'r2', 'r3', 'r4']) expect((await turn(sb, room, `hello from ${room}`)).type).toBe('turn.completed');
    const first = Object.fromEntries(['r1', 'r2', 'r3', 'r4'].map((r) => [r, threadOf(events, r)[0]!]));
    expect(['r1', 'r2', 'r3', 'r4'].map((r) => pool.memberOf(first[r]!))).toEqual(['conn:codex:0', 'conn:codex:1', 'conn:codex:0', 'conn:codex:1']);
    // r2 lives on the second app-server: its approval request comes from there and is answered.
    expect((await turn(sb, 'r2', 'APPROVE this command')).type).toBe('turn.completed');
    expect(events.some((e) => e.type === 'approval.resolved' && e.session === 'r2/chat/main')).toBe(true);
    expect((await turn(sb, 'r1', 'and again')).type).toBe('turn.completed');
    expect(threadOf(events, 'r1')).toEqual([first.r1, first.r1]);
    expect(pool.memberOf(first.r1!)).toBe('conn:codex:0');
    const lists = await pool.loadedLists();
    expect(lists.map((l) => [l.member, [...l.threads].sort()])).toEqual([
      ['conn:codex:0', [first.r1, first.r3].sort()],
      ['conn:codex:1', [first.r2, first.r4].sort()],
    ]);
    expect(pool.status().members.map((m) => [m.phase, m.loadedThreads, m.recycles])).toEqual([
      ['active', 2, 0],
      ['active', 2, 0],
    ]);
    // The metrics probe sees every member: its loaded threads and its RSS.
    const samples = await hostProbe({ connections: () => sb.service().connections(), roomClients: () => 0, inboxDepth: () => 0 }).members();
    expect(samples.map((m) => [m.harness, m.member, m.loadedThreads, m.restarts])).toEqual([
      ['codex', 'conn:codex:0', 2, 0],
      ['codex', 'conn:codex:1', 2, 0],
    ]);
    expect(samples.every((m) => (m.rssBytes ?? 0) > 10 * 1024 * 1024)).toBe(true);
    expect(events.some((e) => e.type === 'turn.failed')).toBe(false);
  }, 120_000);

  it('recycles a member at maxLoadedThreads; its conversation goes on in the other member: same thread, earlier context in the model request', async () => {
    const { sb, box, events, pool } = await world(
      { appServer: { pool: { size: 2, maxLoadedThreads: 1 } } },
      // B's turn is slow, so member 0 is still busy (draining, not recycled) when A's next message comes.
      script((latest) => (latest.includes('SLOW') ? { ...say('slow reply'), delayMs: 3_000 } : undefined)),
    );
    expect((await turn(sb, 'a', 'Remember the word PELICAN.')).type).toBe('turn.completed');
    const [ta] = threadOf(events, 'a');
    expect(pool.memberOf(ta!)).toBe('conn:codex:0');
    // At its limit, member 0 drains and, once idle for the drain grace, is recycled: A's thread is unloaded.
    expect(await waitFor(() => pool.status().members[0]!.recycles === 1 && pool.status().members[0]!.phase === 'active', 15_000)).toBe(true);
    expect(pool.memberOf(ta!)).toBeUndefined();
    expect((await pool.loadedLists()).flatMap((l) => l.threads)).toEqual([]);
    // B takes member 0 again (both empty: the first wins) and holds it with a slow turn.
    const b = turn(sb, 'b', 'SLOW question from B');
    expect(await waitFor(() => events.some((e) => e.type === 'turn.started' && e.session === 'b/chat/main'), 15_000)).toBe(true);
    expect(pool.memberOf(threadOf(events, 'b')[0]!)).toBe('conn:codex:0');
    const a2 = await turn(sb, 'a', 'What was the word?');
    expect(a2.type).toBe('turn.completed');
    expect(threadOf(events, 'a')).toEqual([ta, ta]);
    expect(pool.memberOf(ta!)).toBe('conn:codex:1');
    const request = box.model.requests.find((r) => text(r).includes('What was the word?'));
    expect(text(request)).toContain('PELICAN');
    expect((await b).type).toBe('turn.completed');
    expect(events.filter((e) => e.type === 'turn.failed')).toEqual([]);
    expect(pool.status().members[0]!.restarts).toBeGreaterThanOrEqual(1);
    // Member 1 is at its limit too and is recycled; a compaction (a turn of the conversation) on
    // the unloaded thread gets it resumed first.
    expect(await waitFor(() => pool.memberOf(ta!) === undefined, 15_000)).toBe(true);
    const said = firstValueFrom(
      sb.events$.pipe(filter((e) => e.type === 'notice' && e.session === 'a/chat/main' && /compaction|fail|error|not loaded/i.test((e as { text: string }).text))),
    );
    const compacted = firstValueFrom(sb.events$.pipe(filter((e) => e.session === 'a/chat/main' && /^turn\.(completed|failed|interrupted)$/.test(e.type))));
    await sb.post({ room: 'a', from: { id: 'ann', name: 'Ann' }, text: '/codex compact' });
    expect((await said as { text: string }).text).toMatch(/^Compaction of thread \S+ requested/);
    expect((await compacted).type).toBe('turn.completed');
    expect(events.some((e) => e.type === 'tool.completed' && e.kind === 'compaction' && e.session === 'a/chat/main')).toBe(true);
    expect(pool.memberOf(ta!)).toBeDefined();
  }, 180_000);

  it('never has one thread loaded in two members (thread/loaded/list of every member, through a run with recycling)', async () => {
    const { sb, box, events, pool } = await world({ appServer: { pool: { size: 2, maxLoadedThreads: 2, recycleIdleAfterMs: 700 } } }, script());
    const rooms = ['c1', 'c2', 'c3', 'c4', 'c5'];
    const seen: Array<{ member: string; threads: string[] }[]> = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        seen.push(await pool.loadedLists(2_000).catch(() => []));
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    for (let round = 1; round <= 3; round++) {
      const ends = await Promise.all(rooms.map((r) => turn(sb, r, `round ${round} in ${r}: MARK-${r}-${round}`)));
      expect(ends.map((e) => e.type)).toEqual(rooms.map(() => 'turn.completed'));
      await new Promise((r) => setTimeout(r, 1_200)); // idle members recycle
    }
    sampling = false;
    await sampler;
    const doubles = seen.flatMap((sample) => {
      const all = sample.flatMap((l) => l.threads);
      return all.filter((t, i) => all.indexOf(t) !== i);
    });
    expect(doubles).toEqual([]);
    expect(seen.length).toBeGreaterThan(20);
    expect(pool.status().members.reduce((n, m) => n + m.recycles, 0)).toBeGreaterThanOrEqual(2);
    for (const r of rooms) {
      const threads = threadOf(events, r);
      expect(threads.length).toBe(3);
      expect(new Set(threads).size).toBe(1);
      // The third round's request still carries the first round's message: the history survived recycling.
      expect(text(box.model.requests.find((q) => text(q).includes(`MARK-${r}-3`)))).toContain(`MARK-${r}-1`);
    }
  }, 180_000);
});

describe('remote app-servers (appServer.servers)', () => {
  it('places threads across remote servers with their own CODEX_HOMEs; after a Switchboard restart each thread is resumed on the server that has it', async () => {
    const box = await makeSandbox(script());
    const home2 = makeCodexHome({ modelUrl: box.model.url });
    const servers = [await startWsAppServer(box.codex, box.codexHome, 'token-one'), await startWsAppServer(box.codex, home2.dir, 'token-two')];
    cleanups.push(async () => {
      for (const s of servers) await s.stop();
      home2.cleanup();
      await box.close();
    });
    const events: RoomEvent[] = [];
    const host = async () => {
      const sb = createSupervisor(
        {
          appServer: { servers: servers.map((s) => ({ url: s.url, authToken: s.token })) },
          agents: { defaults: { cwd: box.workspace } },
          sessions: { bindingsDir: path.join(box.root, 'bindings'), idleWatchdogSeconds: 60 },
          storage: { kind: 'dataset', path: path.join(box.root, 'threads.db') },
        },
        { log: memoryLogger('info').log, baseDir: box.root, stateDir: box.root },
      );
      sb.events$.subscribe((e) => events.push(e));
      await sb.start();
      return sb;
    };
    const first = await host();
    expect((await turn(first, 'r1', 'Remember OCELOT.')).type).toBe('turn.completed');
    expect((await turn(first, 'r2', 'Remember HERON.')).type).toBe('turn.completed');
    const [t1, t2] = [threadOf(events, 'r1')[0]!, threadOf(events, 'r2')[0]!];
    const p1 = first.codex.clientFor('default') as ConnectionPool;
    expect([p1.memberOf(t1), p1.memberOf(t2)]).toEqual(['conn:codex:0', 'conn:codex:1']);
    await first.stop();
    // A new host knows the bindings but not where each thread lives: it finds each one's server.
    const second = await host();
    cleanups.push(() => second.stop());
    expect((await turn(second, 'r2', 'Which word, HERON-ASK?')).type).toBe('turn.completed');
    expect((await turn(second, 'r1', 'Which word, OCELOT-ASK?')).type).toBe('turn.completed');
    expect(threadOf(events, 'r1')).toEqual([t1, t1]);
    expect(threadOf(events, 'r2')).toEqual([t2, t2]);
    const p2 = second.codex.clientFor('default') as ConnectionPool;
    expect([p2.memberOf(t1), p2.memberOf(t2)]).toEqual(['conn:codex:0', 'conn:codex:1']);
    expect(text(box.model.requests.find((r) => text(r).includes('HERON-ASK')))).toContain('Remember HERON.');
    expect(text(box.model.requests.find((r) => text(r).includes('OCELOT-ASK')))).toContain('Remember OCELOT.');
    expect(events.filter((e) => e.type === 'notice' && /could not|failed/i.test((e as { text: string }).text))).toEqual([]);
  }, 120_000);
});

describe('isolation: agents with app-servers of their own', () => {
  it('two agents, two CODEX_HOMEs, two processes: each thread is stored in its own agent home', async () => {
    let home = '';
    const { sb, box, events } = await world((b) => {
      const own = makeCodexHome({ modelUrl: b.model.url });
      home = own.dir;
      // Registered before the supervisor's cleanup: runs after it, once the processes are gone.
      cleanups.push(async () => {
        expect(await waitFor(() => processesWithEnv(`CODEX_HOME=${own.dir}`).length === 0, 5_000)).toBe(true);
        own.cleanup();
      });
      return { agents: { list: [{ id: 'alpha', default: true }, { id: 'beta', appServer: { codexHome: own.dir } }] } };
    }, script());
    expect((await turn(sb, 'x', 'hello alpha', 'alpha')).type).toBe('turn.completed');
    expect((await turn(sb, 'y', 'hello beta', 'beta')).type).toBe('turn.completed');
    const servers = sb.codex.appServers().map((c) => c.status());
    expect(servers.map((s) => s.id)).toEqual(['conn:codex', 'conn:codex@beta']);
    expect(new Set(servers.map((s) => s.pid)).size).toBe(2);
    expect(processesWithEnv(`CODEX_HOME=${home}`)).toContain(servers[1]!.pid);
    expect(processesWithEnv(`CODEX_HOME=${box.codexHome}`)).not.toContain(servers[1]!.pid);
    const alpha = threadOf(events, 'x')[0]!;
    const beta = threadOf(events, 'y')[0]!;
    expect(rollouts(box.codexHome).some((f) => f.includes(alpha))).toBe(true);
    expect(rollouts(box.codexHome).some((f) => f.includes(beta))).toBe(false);
    expect(rollouts(home).some((f) => f.includes(beta))).toBe(true);
  }, 120_000);
});

function rollouts(home: string): string[] {
  try {
    return readdirSync(path.join(home, 'sessions'), { recursive: true }).map(String);
  } catch {
    return [];
  }
}
