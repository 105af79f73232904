// Sessions over a fake connection: binding (start, resume, corrupt file, failed resume),
// steering and queueing, slash commands, model catalog, connection loss, approvals hook.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fromPromise } from 'xstate';
import { sessionMachine } from '../../../machines/session.machine.js';
import { SessionManager, type SessionManagerOptions } from '../../../src/session/manager.js';
import { FileBindingStore, MemoryBindingStore } from '../../../src/session/bindings.js';
import type { SessionSettings } from '../../../src/session/types.js';
import { codex, FakeConnection, rpcError } from '../../support/fake-connection.js';
import type { RoomEvent } from '../../../src/events/room-events.js';
import { createLogger } from '../../../src/log/logger.js';

const managers: SessionManager[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.stop({ interrupt: false })));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'sb-session-'));
  dirs.push(d);
  return d;
}

function harness(opts: Omit<Partial<SessionManagerOptions>, 'settings'> & { settings?: Partial<SessionSettings> } = {}) {
  const conn = (opts.connection as FakeConnection | undefined) ?? new FakeConnection();
  const events: RoomEvent[] = [];
  const withdrawn: string[] = [];
  const mgr = new SessionManager({
    connection: conn,
    sink: (e) => events.push(e),
    store: opts.store ?? (opts.bindingDir ? undefined : new MemoryBindingStore()),
    approvals: { withdrawTurn: (_t, turnId, reason) => withdrawn.push(`${turnId}:${reason}`) },
    log: createLogger({ level: 'silent' }),
    ...opts,
    settings: { cwd: '/work/ws', approvalPolicy: 'never', sandbox: 'workspace-write', ...opts.settings },
  });
  managers.push(mgr);
  const post = (text: string, extra: { from?: string; thread?: string } = {}) =>
    mgr.post({ room: 'r', channel: 'c', thread: extra.thread ?? 't', from: { id: extra.from ?? 'u1', name: extra.from ?? 'Ann' }, text });
  const notices = () => events.filter((e) => e.type === 'notice').map((e) => (e as { text: string }).text);
  const until = async (pred: () => boolean, what = 'condition', ms = 3_000) => {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; events: ${JSON.stringify(events.map((e) => e.type))}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  /** Let the fake end the current turn. */
  const complete = (turnId = conn.lastTurnId, status = 'completed') =>
    conn.notify('turn/completed', codex.turnCompleted(threadOf(conn), turnId, status));
  return { conn, events, withdrawn, mgr, post, notices, until, complete };
}

const threadOf = (conn: FakeConnection): string => String(conn.sent('turn/start').at(-1)?.threadId ?? 'thr_1');
const texts = (params: Record<string, unknown>): string[] =>
  (params.input as Array<{ type: string; text?: string }>).filter((i) => i.type === 'text').map((i) => i.text!);

describe('binding a conversation to a Codex thread', () => {
  it('starts a thread with the session settings and stores the binding atomically', async () => {
    const dir = tempDir();
    const h = harness({
      bindingDir: dir,
      settings: { model: 'gpt-5.5', approvalsReviewer: 'user', developerInstructions: 'Be brief.' },
    });
    const key = h.post('hello');
    expect(key).toBe('r/c/t');
    await h.until(() => h.conn.sent('turn/start').length === 1, 'turn/start');
    expect(h.conn.sent('thread/start')).toEqual([
      { cwd: '/work/ws', approvalPolicy: 'never', sandbox: 'workspace-write', approvalsReviewer: 'user', developerInstructions: 'Be brief.', model: 'gpt-5.5' },
    ]);
    expect(h.conn.sent('turn/start')[0]).toMatchObject({ threadId: 'thr_1', model: 'gpt-5.5', input: [{ type: 'text', text: 'hello', text_elements: [] }] });
    h.complete();
    await h.mgr.whenIdle(key);
    const files = readdirSync(dir);
    expect(files).toHaveLength(1); // no temp file left behind
    const binding = JSON.parse(readFileSync(path.join(dir, files[0]!), 'utf8'));
    expect(binding).toMatchObject({ schemaVersion: 1, key: 'r/c/t', threadId: 'thr_1', harness: 'codex', model: 'gpt-5.5', cwd: '/work/ws' });
    expect(Date.parse(binding.createdAt)).not.toBeNaN();
    expect(h.withdrawn).toEqual(['turn_1:turn completed']);
  });

  it('resumes the stored thread (same binding dir, new host)', async () => {
    const dir = tempDir();
    const a = harness({ bindingDir: dir });
    a.post('one');
    await a.until(() => a.conn.sent('turn/start').length === 1);
    a.complete();
    await a.mgr.whenIdle('r/c/t');
    await a.mgr.stop();

    const b = harness({ bindingDir: dir });
    b.post('two');
    await b.until(() => b.conn.sent('turn/start').length === 1);
    expect(b.conn.sent('thread/start')).toEqual([]);
    expect(b.conn.sent('thread/resume')[0]).toMatchObject({ threadId: 'thr_1', cwd: '/work/ws', excludeTurns: true });
    expect(b.conn.sent('turn/start')[0]).toMatchObject({ threadId: 'thr_1' });
    expect(b.notices()).toContain('Continuing Codex thread thr_1.');
  });

  it('a failed resume starts a new thread and says why', async () => {
    const store = new MemoryBindingStore();
    const now = new Date().toISOString();
    await store.save({ schemaVersion: 1, key: 'r/c/t', threadId: 'thr_gone', harness: 'codex', model: null, cwd: '/work/ws', createdAt: now, updatedAt: now });
    const h = harness({ store });
    h.conn.on('thread/resume', () => {
      throw rpcError('thread/resume', 'no rollout found for thread id thr_gone');
    });
    h.post('hi');
    await h.until(() => h.conn.sent('turn/start').length === 1);
    expect(h.notices()[0]).toBe(
      'Started a new Codex thread because resuming thread thr_gone failed: thread/resume failed (-32600): no rollout found for thread id thr_gone',
    );
    expect(h.conn.sent('turn/start')[0]).toMatchObject({ threadId: 'thr_1' });
    h.complete();
    await h.mgr.whenIdle('r/c/t');
    expect((await store.load('r/c/t'))?.threadId).toBe('thr_1');
  });

  it('a corrupt binding file: clear notice, file kept aside, fresh thread', async () => {
    const dir = tempDir();
    const store = new FileBindingStore(dir);
    writeFileSync(store.fileOf('r/c/t'), '{"schemaVersion":1,"threadId":');
    const h = harness({ bindingDir: dir });
    h.post('hi');
    await h.until(() => h.conn.sent('turn/start').length === 1);
    expect(h.conn.sent('thread/resume')).toEqual([]);
    expect(h.notices()[0]).toMatch(/saved thread binding of this conversation is corrupt \(not valid JSON.*started a new Codex thread.*kept as .*corrupt-/);
    expect(readdirSync(dir).some((f) => f.includes('.corrupt-'))).toBe(true);
  });

  it('a connection problem while binding keeps the message and retries', async () => {
    const h = harness({ settings: { bindRetryMs: 20 } });
    let calls = 0;
    h.conn.on('thread/start', () => {
      if (++calls === 1) throw new Error('thread/start: connection not ready within 60000 ms');
      return { thread: { id: 'thr_late' } };
    });
    h.post('keep me');
    await h.until(() => h.conn.sent('turn/start').length === 1);
    expect(h.notices()[0]).toMatch(/Could not open the Codex thread: .*not ready.*1 message\(s\) kept/);
    expect(texts(h.conn.sent('turn/start')[0]!)).toEqual(['keep me']);
  });
});

describe('messages during a turn', () => {
  it('steer (default): turn/steer with expectedTurnId; no second turn', async () => {
    const h = harness();
    h.post('first');
    await h.until(() => h.events.some((e) => e.type === 'turn.started'));
    h.post('also this');
    await h.until(() => h.conn.sent('turn/steer').length === 1);
    expect(h.conn.sent('turn/steer')[0]).toMatchObject({ threadId: 'thr_1', expectedTurnId: 'turn_1', input: [{ type: 'text', text: 'also this' }] });
    h.complete();
    await h.mgr.whenIdle('r/c/t');
    expect(h.conn.sent('turn/start')).toHaveLength(1);
  });

  it('steer against the turn Codex reports when the expected one is stale', async () => {
    const h = harness();
    h.conn.on('turn/steer', (p) => {
      if (p.expectedTurnId !== 'turn_real') throw rpcError('turn/steer', `expected active turn id \`${String(p.expectedTurnId)}\` but found \`turn_real\``);
      return { turnId: 'turn_real' };
    });
    h.post('first');
    await h.until(() => h.events.some((e) => e.type === 'turn.started'));
    h.post('steer me');
    await h.until(() => h.conn.sent('turn/steer').length === 2);
    expect(h.conn.sent('turn/steer').map((p) => p.expectedTurnId)).toEqual(['turn_1', 'turn_real']);
    expect(h.mgr.sessionStatus('r/c/t')).toMatchObject({ activeTurnId: 'turn_real', queued: 0, steering: 0 });
  });

  it('a steer that misses the end of the turn is queued, never dropped', async () => {
    const h = harness();
    h.conn.on('turn/steer', () => {
      throw rpcError('turn/steer', 'no active turn to steer');
    });
    h.post('first');
    await h.until(() => h.events.some((e) => e.type === 'turn.started'));
    h.post('late');
    await h.until(() => h.conn.sent('turn/steer').length === 1);
    await h.until(() => h.notices().some((n) => /could not be added/.test(n)));
    h.complete();
    await h.until(() => h.conn.sent('turn/start').length === 2, 'second turn');
    expect(texts(h.conn.sent('turn/start')[1]!)).toEqual(['late']);
  });

  it('messages steered before the turn id is known are steered once it is', async () => {
    const h = harness();
    let answer!: (v: unknown) => void;
    h.conn.on('turn/start', () => new Promise((r) => (answer = r)));
    h.post('first');
    await h.until(() => h.conn.sent('turn/start').length === 1);
    h.post('early');
    await new Promise((r) => setTimeout(r, 10));
    expect(h.conn.sent('turn/steer')).toEqual([]);
    answer({ turn: { id: 'turn_x', status: 'inProgress', items: [] } });
    await h.until(() => h.conn.sent('turn/steer').length === 1);
    expect(h.conn.sent('turn/steer')[0]).toMatchObject({ expectedTurnId: 'turn_x' });
  });

  it('queue mode: later messages wait and run in order, one turn at a time', async () => {
    const h = harness({ settings: { busyMode: 'queue' } });
    h.post('one');
    await h.until(() => h.events.some((e) => e.type === 'turn.started'));
    h.post('two');
    h.post('three');
    expect(h.notices().filter((n) => /queued/.test(n))).toHaveLength(2);
    expect(h.mgr.sessionStatus('r/c/t')).toMatchObject({ queued: 2, turnRunning: true });
    for (let i = 1; i <= 3; i++) {
      await h.until(() => h.conn.sent('turn/start').length === i);
      h.complete(`turn_${i}`);
    }
    await h.mgr.whenIdle('r/c/t');
    expect(h.conn.sent('turn/steer')).toEqual([]);
    expect(h.conn.sent('turn/start').map((p) => texts(p)[0])).toEqual(['one', 'two', 'three']);
  });

  it('maps a Codex thread back to its conversation and participants (for approval routing)', async () => {
    const h = harness();
    h.post('hi', { from: 'ann' });
    h.post('me too', { from: 'bob' });
    await h.until(() => h.conn.sent('turn/start').length === 1);
    expect(h.mgr.threadContext('thr_1')).toEqual({
      session: 'r/c/t',
      participants: [
        { id: 'ann', name: 'ann' },
        { id: 'bob', name: 'bob' },
      ],
    });
    expect(h.mgr.threadContext('thr_x')).toBeUndefined();
  });

  it('per participant: separate sessions and threads', async () => {
    const h = harness({ perParticipant: true });
    const a = h.post('from ann', { from: 'ann' });
    const b = h.post('from bob', { from: 'bob' });
    expect([a, b]).toEqual(['r/c/t/@ann', 'r/c/t/@bob']);
    await h.until(() => h.conn.sent('turn/start').length === 2);
    expect(new Set(h.conn.sent('turn/start').map((p) => p.threadId)).size).toBe(2);
  });
});

describe('slash commands', () => {
  it('/model validates against model/list (paginated), applies from the next turn, same thread', async () => {
    const h = harness();
    h.conn.on('model/list', (p) =>
      p.cursor === 'page2'
        ? { data: [{ id: 'gpt-5.2', model: 'gpt-5.2', hidden: false }], nextCursor: null }
        : { data: [{ id: 'gpt-5.5', model: 'gpt-5.5', hidden: false }], nextCursor: 'page2' },
    );
    h.post('one');
    await h.until(() => h.conn.sent('turn/start').length === 1);
    h.post('/model gpt-5.2');
    await h.until(() => h.notices().some((n) => n.startsWith('Model set to gpt-5.2')));
    expect(h.conn.sent('model/list')).toHaveLength(2);
    h.post('/model nope');
    await h.until(() => h.notices().some((n) => n.startsWith('Unknown model "nope"')));
    expect(h.notices().at(-1)).toBe('Unknown model "nope". Available: gpt-5.5, gpt-5.2.');
    expect(h.conn.sent('model/list')).toHaveLength(2); // cached
    h.complete();
    h.post('two');
    await h.until(() => h.conn.sent('turn/start').length === 2);
    expect(h.conn.sent('turn/start').map((p) => [p.threadId, p.model])).toEqual([
      ['thr_1', undefined],
      ['thr_1', 'gpt-5.2'],
    ]);
    expect(h.conn.sent('thread/start')).toHaveLength(1);
    h.post('/models');
    await h.until(() => h.notices().some((n) => n.startsWith('Models')));
    expect(h.notices().at(-1)).toBe('Models:\n- gpt-5.5\n- gpt-5.2 [current]');
  });

  it('/model falls back to the fixed catalog when discovery is slow', async () => {
    const h = harness({ settings: { modelDiscoveryMs: 30, fallbackModels: ['gpt-5.5', 'gpt-5.4-mini', 'gpt-5.2'] } });
    h.conn.on('model/list', () => new Promise(() => {}));
    h.post('/model gpt-5.4-mini');
    await h.until(() => h.notices().some((n) => n.startsWith('Model set to gpt-5.4-mini')));
    h.post('/models');
    await h.until(() => h.notices().some((n) => n.startsWith('Models')));
    expect(h.notices().at(-1)).toMatch(/^Models \(fallback list: model\/list did not answer within 30 ms\):\n- gpt-5.5\n- gpt-5.4-mini \[current\]\n- gpt-5.2$/);
  });

  it('/model with a catalog injected by the host', async () => {
    const h = harness({ settings: { models: ['mock-a', 'mock-b'] } });
    h.post('/model mock-b');
    await h.until(() => h.notices().some((n) => n.startsWith('Model set to mock-b')));
    expect(h.conn.sent('model/list')).toEqual([]);
    h.post('go');
    await h.until(() => h.conn.sent('turn/start').length === 1);
    expect(h.conn.sent('thread/start')[0]).toMatchObject({ model: 'mock-b' });
    expect(h.conn.sent('turn/start')[0]).toMatchObject({ model: 'mock-b' });
  });

  it('/stop interrupts the running turn; /stop with nothing running says so', async () => {
    const h = harness();
    h.post('/stop');
    await h.until(() => h.notices().includes('Nothing to stop: no turn is running.'));
    h.post('long job');
    await h.until(() => h.events.some((e) => e.type === 'turn.started'));
    h.post('/stop');
    await h.until(() => h.conn.sent('turn/interrupt').length === 1);
    expect(h.conn.sent('turn/interrupt')[0]).toEqual({ threadId: 'thr_1', turnId: 'turn_1' });
    h.complete('turn_1', 'interrupted');
    await h.mgr.whenIdle('r/c/t');
    expect(h.events.at(-1)).toMatchObject({ type: 'turn.interrupted', reason: 'stopped by /stop' });
    expect(h.withdrawn).toEqual(['turn_1:turn interrupted']);
  });

  it('after /stop, new messages queue for the next turn instead of steering into the dying one', async () => {
    const h = harness();
    h.post('long job');
    await h.until(() => h.events.some((e) => e.type === 'turn.started'));
    h.post('/stop');
    await h.until(() => h.conn.sent('turn/interrupt').length === 1);
    h.post('do this instead');
    expect(h.notices().at(-1)).toBe('A turn is running; your message is queued (1 waiting).');
    h.complete('turn_1', 'interrupted');
    await h.until(() => h.conn.sent('turn/start').length === 2);
    expect(h.conn.sent('turn/steer')).toEqual([]);
    expect(texts(h.conn.sent('turn/start')[1]!)).toEqual(['do this instead']);
  });

  it('/new starts a fresh thread; /reset clears the binding; both refused mid-turn', async () => {
    const store = new MemoryBindingStore();
    const h = harness({ store });
    h.post('one');
    await h.until(() => h.events.some((e) => e.type === 'turn.started'));
    h.post('/new');
    await h.until(() => h.notices().some((n) => /before \/new or \/reset/.test(n)));
    h.complete();
    await h.mgr.whenIdle('r/c/t');
    h.post('/new');
    await h.until(() => h.conn.sent('thread/start').length === 2);
    await h.mgr.whenIdle('r/c/t');
    expect(h.notices()).toContain('Started a new Codex thread thr_2.');
    expect((await store.load('r/c/t'))?.threadId).toBe('thr_2');
    h.post('/reset');
    await h.until(() => h.notices().some((n) => n.startsWith('Cleared the thread binding')));
    await h.mgr.whenIdle('r/c/t');
    expect(await store.load('r/c/t')).toBeUndefined();
    h.post('two');
    await h.until(() => h.conn.sent('turn/start').length === 2);
    expect(h.conn.sent('thread/start')).toHaveLength(3);
    expect(h.conn.sent('thread/resume')).toEqual([]);
    expect(h.conn.sent('turn/start')[1]).toMatchObject({ threadId: 'thr_3' });
  });

  it('text that merely starts with a slash is a message', async () => {
    const h = harness();
    h.post('/tmp/x is broken');
    h.post('/new thread please');
    await h.until(() => h.conn.sent('turn/start').length === 1);
    expect(texts(h.conn.sent('turn/start')[0]!)).toEqual(['/tmp/x is broken']);
  });
});

describe('connection loss', () => {
  it('the turn fails at once; the next message resumes the same thread first', async () => {
    const h = harness();
    h.post('one');
    await h.until(() => h.events.some((e) => e.type === 'turn.started'));
    h.conn.emitLifecycle({ type: 'lost', exit: { kind: 'exit', retryable: true, reason: 'app-server killed by SIGKILL' } });
    expect(h.events.at(-1)).toMatchObject({ type: 'turn.failed', error: expect.stringMatching(/SIGKILL/) });
    h.conn.emitLifecycle({ type: 'ready', version: '0.169.0', restarts: 1 });
    await h.mgr.whenIdle('r/c/t');
    h.post('two');
    await h.until(() => h.conn.sent('turn/start').length === 2);
    const methods = h.conn.requests.map((r) => r.method);
    expect(methods).toEqual(['thread/start', 'turn/start', 'thread/resume', 'turn/start']);
    expect(h.conn.sent('thread/resume')[0]).toMatchObject({ threadId: 'thr_1' });
    expect(h.conn.sent('turn/start')[1]).toMatchObject({ threadId: 'thr_1' });
  });

  it('turn/start on an unloaded thread: resume and retry the same message once', async () => {
    const h = harness();
    h.post('one');
    await h.until(() => h.conn.sent('turn/start').length === 1);
    h.complete();
    await h.mgr.whenIdle('r/c/t');
    let refused = false;
    h.conn.on('turn/start', (p) => {
      if (!refused) {
        refused = true;
        throw rpcError('turn/start', `thread not found: ${String(p.threadId)}`);
      }
      return { turn: { id: 'turn_ok', status: 'inProgress', items: [] } };
    });
    h.post('two');
    await h.until(() => h.conn.sent('turn/start').length === 3);
    expect(h.conn.requests.map((r) => r.method).slice(2)).toEqual(['turn/start', 'thread/resume', 'turn/start']);
    expect(texts(h.conn.sent('turn/start')[2]!)).toEqual(['two']);
  });
});

describe('wiring: the manager provides the live handles', () => {
  it('a machine variant keeps the actors it replaced; the manager provides the rest', async () => {
    const machine = sessionMachine.provide({
      actors: { startThread: fromPromise(async () => ({ threadId: 'thr_fake', createdAt: '2026-01-01T00:00:00.000Z' })) },
    });
    const h = harness({ machine });
    const key = h.post('hello');
    await h.until(() => h.conn.sent('turn/start').length === 1, 'turn/start');
    expect(h.conn.sent('thread/start')).toEqual([]);
    expect(h.conn.sent('turn/start')[0]).toMatchObject({ threadId: 'thr_fake' });
    h.complete();
    await h.mgr.whenIdle(key);
    expect(h.notices()).toContain('Started a new Codex thread thr_fake.');
    expect(h.mgr.sessionStatus(key)).toMatchObject({ threadId: 'thr_fake', turns: 1 });
  });

  it('room events carry the injected clock', async () => {
    const h = harness({ now: () => 1_000_000 });
    h.post('/status');
    await h.until(() => h.notices().length === 1, 'the /status notice');
    expect(h.events[0]).toMatchObject({ type: 'notice', session: 'r/c/t', at: 1_000_000 });
  });
});
