// Sessions and turns against the REAL `codex app-server` (the @openai/codex devDependency)
// driven by the project's scripted Responses-API model, each test in its own CODEX_HOME and
// temporary workspace. The only timing assertion is the functional bound of the spec:
// a kill -9 mid-turn fails the turn within a second.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Connection } from '../../src/connection/connection.js';
import { processRegistry } from '../../src/process/registry.js';
import { SessionManager } from '../../src/session/manager.js';
import type { SessionSettings } from '../../src/session/types.js';
import type { RoomEvent } from '../../src/events/room-events.js';
import { createLogger } from '../../src/log/logger.js';
import { codexBin, makeCodexHome, type CodexHome } from '../support/codex-home.js';
import { applyPatch, say, shell, startMockModel, type MockModel, type Script } from '../support/mock-model.js';
import { processesWithEnv, waitFor } from '../support/procs.js';

type Ev<T extends RoomEvent['type']> = Extract<RoomEvent, { type: T }>;
type Tool = Extract<RoomEvent, { toolId: string }>;

const log = createLogger({ level: process.env.SWITCHBOARD_TEST_LOG ?? 'silent' });
const homes: string[] = [];
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  // Reverse order: managers, then connections (no codex may outlive its test), then mocks.
  for (const c of cleanups.splice(0).reverse()) await c();
});

afterAll(async () => {
  for (const home of homes) {
    expect(await waitFor(() => processesWithEnv(`CODEX_HOME=${home}`).length === 0, 5000)).toBe(true);
  }
  expect(processRegistry.list()).toEqual([]);
});

interface World {
  mock: MockModel;
  home: CodexHome;
  cwd: string;
  bindingDir: string;
}

async function world(script: Script): Promise<World> {
  const mock = await startMockModel(script);
  const home = makeCodexHome({ modelUrl: mock.url });
  homes.push(home.dir);
  const cwd = mkdtempSync(path.join(tmpdir(), 'sb-ws-'));
  const bindingDir = mkdtempSync(path.join(tmpdir(), 'sb-bind-'));
  cleanups.push(async () => {
    await mock.close();
    home.cleanup();
    rmSync(cwd, { recursive: true, force: true });
    rmSync(bindingDir, { recursive: true, force: true });
  });
  return { mock, home, cwd, bindingDir };
}

interface Host {
  conn: Connection;
  mgr: SessionManager;
  events: RoomEvent[];
  post(text: string): string;
  /** The next event of `type` (matching `pred`) after the previous `next` result. */
  next<T extends RoomEvent['type']>(type: T, pred?: (e: Ev<T>) => boolean, ms?: number): Promise<Ev<T>>;
  /** The next turn end (completed, failed or interrupted) after the previous one. */
  end(ms?: number): Promise<Ev<'turn.completed'> | Ev<'turn.failed'> | Ev<'turn.interrupted'>>;
  all<T extends RoomEvent['type']>(type: T): Array<Ev<T>>;
  notices(): string[];
  stop(): Promise<void>;
}

const isEnd = (e: RoomEvent) => e.type === 'turn.completed' || e.type === 'turn.failed' || e.type === 'turn.interrupted';

/** A host process: one Connection to a fresh app-server and a SessionManager. */
async function host(w: World, settings: Partial<SessionSettings> = {}): Promise<Host> {
  const conn = new Connection({
    transport: { kind: 'stdio', command: codexBin(), env: { ...process.env, CODEX_HOME: w.home.dir } },
    log,
    machine: { backoffBaseMs: 20, jitter: 0 },
  });
  await conn.start();
  const events: RoomEvent[] = [];
  const waiters = new Set<() => void>();
  const mgr = new SessionManager({
    connection: conn,
    sink: (e) => {
      events.push(e);
      for (const wake of [...waiters]) wake();
    },
    bindingDir: w.bindingDir,
    settings: { cwd: w.cwd, approvalPolicy: 'never', sandbox: 'workspace-write', ...settings },
    log,
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await mgr.stop({ interrupt: false });
    await conn.stop();
  };
  cleanups.push(stop);
  const all = <T extends RoomEvent['type']>(type: T) => events.filter((e) => e.type === type) as Array<Ev<T>>;
  const cursors = { next: 0, end: 0 };
  const waitEvent = (cursor: 'next' | 'end', pred: (e: RoomEvent) => boolean, ms: number, what: string) =>
    new Promise<RoomEvent>((resolve, reject) => {
      const check = () => {
        for (let i = cursors[cursor]; i < events.length; i++) {
          if (pred(events[i]!)) {
            cursors[cursor] = i + 1;
            waiters.delete(check);
            clearTimeout(timer);
            resolve(events[i]!);
            return;
          }
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no ${what} within ${ms} ms; events: ${events.map((e) => e.type).join(', ')}`));
      }, ms);
      waiters.add(check);
      check();
    });
  return {
    conn,
    mgr,
    events,
    post: (text) => mgr.post({ room: 'room', channel: 'general', thread: 'main', from: { id: 'u1', name: 'Ann' }, text }),
    all,
    notices: () => all('notice').map((n) => n.text),
    stop,
    next: <T extends RoomEvent['type']>(type: T, pred: (e: Ev<T>) => boolean = () => true, ms = 20_000) =>
      waitEvent('next', (e) => e.type === type && pred(e as Ev<T>), ms, type) as Promise<Ev<T>>,
    end: (ms = 20_000) => waitEvent('end', isEnd, ms, 'turn end') as ReturnType<Host['end']>,
  };
}

const requestText = (m: MockModel, i: number) => JSON.stringify(m.requests[i]?.input ?? []);

describe('turns through the real app-server', () => {
  it('a text turn: deltas arrive in order and join to the final message', async () => {
    const w = await world([say('The quick brown fox jumps over the lazy dog.', 6)]);
    const h = (await host(w));
    h.post('Say something');
    const end = await h.end();
    expect(end.type).toBe('turn.completed');
    const types = h.events.map((e) => e.type).filter((t) => t !== 'notice' && t !== 'usage');
    expect(types[0]).toBe('turn.started');
    expect(types.slice(-2)).toEqual(['message.completed', 'turn.completed']);
    const deltas = h.all('message.delta');
    expect(deltas.length).toBeGreaterThanOrEqual(2);
    const final = h.all('message.completed')[0]!;
    expect(deltas.map((d) => d.delta).join('')).toBe(final.text);
    expect(final.text).toBe('The quick brown fox jumps over the lazy dog.');
    expect(new Set(deltas.map((d) => d.itemId))).toEqual(new Set([final.itemId]));
    expect(h.all('usage').length).toBeGreaterThan(0);
    expect(h.events.every((e) => e.session === 'room/general/main')).toBe(true);
  });

  it('a command turn: tool events in order with the command’s data', async () => {
    const w = await world([{ items: [shell('echo hello > out.txt && cat out.txt')] }, say('Ran it.')]);
    const h = (await host(w));
    h.post('Run a command');
    expect((await h.end()).type).toBe('turn.completed');
    const tools = h.events.filter((e) => e.type.startsWith('tool.')) as Tool[];
    const cmd = tools.filter((t) => t.kind === 'command');
    expect(cmd[0]).toMatchObject({ type: 'tool.started', status: 'inProgress', title: expect.stringContaining('echo hello > out.txt') });
    expect(cmd.at(-1)).toMatchObject({ type: 'tool.completed', status: 'completed', toolId: cmd[0]!.toolId, data: { exitCode: 0 } });
    expect(String(cmd.at(-1)!.data.aggregatedOutput)).toContain('hello');
    const order = h.events.map((e) => e.type);
    expect(order.indexOf('tool.completed')).toBeLessThan(order.indexOf('message.completed'));
    expect(readFileSync(path.join(w.cwd, 'out.txt'), 'utf8')).toBe('hello\n');
  });

  it('a patch turn: fileChange tool events, one diff tool updated in place, the file on disk', async () => {
    const patch = '*** Begin Patch\n*** Add File: hello.txt\n+hi from the patch\n*** End Patch';
    const w = await world([{ items: [applyPatch(patch)] }, say('Patched.')]);
    const h = (await host(w));
    h.post('Patch it');
    const end = await h.end();
    expect(end.type).toBe('turn.completed');
    const tools = h.events.filter((e) => e.type.startsWith('tool.')) as Tool[];
    const change = tools.filter((t) => t.kind === 'fileChange');
    expect(change.map((t) => t.type)).toEqual(['tool.started', 'tool.completed']);
    expect(change[1]).toMatchObject({ status: 'completed', title: expect.stringContaining('hello.txt') });
    const diff = tools.filter((t) => t.kind === 'diff');
    const turnId = (end as Ev<'turn.completed'>).turnId;
    expect(new Set(diff.map((d) => d.toolId))).toEqual(new Set([`diff:${turnId}`]));
    expect(diff[0]!.type).toBe('tool.started');
    expect(diff.at(-1)!.type).toBe('tool.completed');
    expect(String(diff.at(-1)!.data.diff)).toContain('+hi from the patch');
    expect(readFileSync(path.join(w.cwd, 'hello.txt'), 'utf8')).toBe('hi from the patch\n');
  });

  it('/stop during a long turn ends it interrupted', async () => {
    const w = await world([{ text: 'this takes forever', stallMs: 60_000 }]);
    const h = (await host(w));
    h.post('Do a long job');
    await h.next('turn.started');
    expect(await waitFor(() => w.mock.requests.length === 1, 10_000)).toBe(true);
    h.post('/stop');
    const end = await h.end();
    expect(end).toMatchObject({ type: 'turn.interrupted', reason: 'stopped by /stop' });
    expect(h.notices().some((n) => /did not confirm/.test(n))).toBe(false);
    await h.mgr.whenIdle('room/general/main');
    expect(h.mgr.sessionStatus('room/general/main')?.lastTurn?.status).toBe('interrupted');
  });

  it('a stalled model trips the idle watchdog: "no progress" notice, interrupted, failed', async () => {
    const w = await world([{ text: 'too late', stallMs: 60_000 }]);
    const h = (await host(w, { watchdogMs: 1_500 }));
    h.post('Go');
    const end = await h.end();
    expect(end).toMatchObject({ type: 'turn.failed', error: expect.stringMatching(/no progress/) });
    expect(h.notices()).toContain('No progress from Codex for 1.5 s: interrupting the turn.');
    expect(h.notices().some((n) => /did not confirm/.test(n))).toBe(false); // Codex honoured the interrupt
  });

  it('kill -9 mid-turn: the turn fails within a second; the next message continues the same thread', async () => {
    const w = await world([say('Noted: PELICAN.'), { text: 'never sent', stallMs: 60_000 }, say('It was PELICAN.')]);
    const h = (await host(w));
    h.post('Remember the word PELICAN');
    const first = await h.end();
    expect(first.type).toBe('turn.completed');
    const threadId = (first as Ev<'turn.completed'>).threadId;

    h.post('Now think for a long time');
    await h.next('turn.started', (e) => e.turnId !== (first as Ev<'turn.completed'>).turnId);
    expect(await waitFor(() => w.mock.requests.length === 2, 10_000)).toBe(true);
    const pid = h.conn.status().pid!;
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    const failed = await h.end();
    const after = Date.now() - killedAt;
    expect(failed).toMatchObject({ type: 'turn.failed', threadId, error: expect.stringMatching(/connection to the app-server lost/) });
    expect(after).toBeLessThan(1_000); // functional bound from the spec ("within a second")

    h.post('What was the word?');
    const third = await h.end();
    expect(third).toMatchObject({ type: 'turn.completed', threadId });
    expect(h.conn.status().pid).not.toBe(pid);
    // The model's next request carries the earlier conversation: same Codex thread.
    expect(w.mock.requests).toHaveLength(3);
    expect(requestText(w.mock, 2)).toContain('Remember the word PELICAN');
    expect(requestText(w.mock, 2)).toContain('Noted: PELICAN.');
    expect(requestText(w.mock, 2)).toContain('What was the word?');
  });
});

describe('sessions through the real app-server', () => {
  it('steer during a turn: the message joins the running turn', async () => {
    const w = await world([{ text: 'Working on it.', stallMs: 1_500 }, say('Also done.')]);
    const h = (await host(w));
    h.post('Start the job');
    await h.next('turn.started');
    expect(await waitFor(() => w.mock.requests.length === 1, 10_000)).toBe(true);
    h.post('Also add tests');
    const end = await h.end();
    expect(end.type).toBe('turn.completed');
    expect(h.all('turn.started')).toHaveLength(1);
    expect(w.mock.requests).toHaveLength(2);
    expect(requestText(w.mock, 1)).toContain('Also add tests');
    expect(requestText(w.mock, 0)).not.toContain('Also add tests');
    // Codex folds the steered input into the running turn: its next model request carries it.
    expect(h.all('message.completed').at(-1)?.text).toBe('Also done.');
    expect(h.all('turn.completed')).toHaveLength(1);
  });

  it('queue mode: a message during a turn waits and runs as the next turn', async () => {
    const w = await world([{ text: 'First done.', stallMs: 800 }, say('Second done.')]);
    const h = (await host(w, { busyMode: 'queue' }));
    h.post('First task');
    await h.next('turn.started');
    expect(await waitFor(() => w.mock.requests.length === 1, 10_000)).toBe(true);
    h.post('Second task');
    expect(h.notices()).toContain('A turn is running; your message is queued (1 waiting).');
    const a = (await h.end()) as Ev<'turn.completed'>;
    const b = (await h.end()) as Ev<'turn.completed'>;
    expect([a.type, b.type]).toEqual(['turn.completed', 'turn.completed']);
    expect(a.turnId).not.toBe(b.turnId);
    expect(a.threadId).toBe(b.threadId);
    expect(requestText(w.mock, 0)).not.toContain('Second task');
    expect(requestText(w.mock, 1)).toContain('Second task');
    expect(requestText(w.mock, 1)).toContain('First done.');
  });

  it('/model switch keeps the thread and the model sees the new name on the next request', async () => {
    const w = await world([say('one'), say('two')]);
    const h = (await host(w));
    h.post('First');
    const a = (await h.end()) as Ev<'turn.completed'>;
    h.post('/model gpt-5.5'); // a name model/list returns
    await h.next('notice', (n) => n.text.startsWith('Model set to gpt-5.5'));
    h.post('Second');
    const b = (await h.end()) as Ev<'turn.completed'>;
    expect(b.threadId).toBe(a.threadId);
    expect(w.mock.requests.map((r) => r.model)).toEqual(['mock-model', 'gpt-5.5']);
    expect(h.all('turn.started').at(-1)).toMatchObject({ model: 'gpt-5.5', threadId: a.threadId });
    h.post('/model no-such-model');
    await h.next('notice', (n) => n.text.startsWith('Unknown model "no-such-model"'));
  });

  it('restart of the host: a new connection and session manager resume the same thread', async () => {
    const w = await world([say('Noted: KIWI.'), say('The word was KIWI.')]);
    const first = (await host(w));
    first.post('Remember the word KIWI');
    const a = (await first.end()) as Ev<'turn.completed'>;
    expect(a.type).toBe('turn.completed');
    await first.mgr.whenIdle('room/general/main');
    await first.stop();

    const second = (await host(w));
    second.post('Which word?');
    const b = (await second.end()) as Ev<'turn.completed'>;
    expect(b).toMatchObject({ type: 'turn.completed', threadId: a.threadId });
    expect(second.notices()).toContain(`Continuing Codex thread ${a.threadId}.`);
    expect(requestText(w.mock, 1)).toContain('Remember the word KIWI');
    expect(requestText(w.mock, 1)).toContain('Which word?');
    expect(existsSync(w.bindingDir)).toBe(true);
  });
});
