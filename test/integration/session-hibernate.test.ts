// Hibernation: an idle session is kept as a plain record and its actor stopped; the next
// message starts a new actor from the record — same thread, same model, no thread/start, and
// no thread/resume unless the connection restarted meanwhile.
import { afterEach, describe, expect, it } from 'vitest';
import { SessionManager, type SessionManagerOptions } from '../../src/session/manager.js';
import { MemoryBindingStore } from '../../src/session/bindings.js';
import type { SessionSettings } from '../../src/session/types.js';
import { codex, FakeConnection } from '../support/fake-connection.js';
import type { RoomEvent } from '../../src/events/room-events.js';
import { createLogger } from '../../src/log/logger.js';

const managers: SessionManager[] = [];

afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.stop({ interrupt: false })));
});

function harness(opts: Omit<Partial<SessionManagerOptions>, 'settings'> & { settings?: Partial<SessionSettings> } = {}) {
  const conn = new FakeConnection();
  // Live session actors (and their turns) each watch the connection: count the watchers to see
  // whether any actor is left.
  let watchers = 0;
  const onLifecycle = conn.onLifecycle.bind(conn);
  conn.onLifecycle = (listener) => {
    watchers++;
    const off = onLifecycle(listener);
    return () => {
      watchers--;
      off();
    };
  };
  const events: RoomEvent[] = [];
  const store = new MemoryBindingStore();
  const mgr = new SessionManager({
    connection: conn,
    sink: (e) => events.push(e),
    store,
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
  const asleep = (key = 'r/c/t') => until(() => mgr.sessionStatus(key)?.hibernated === true, `${key} to hibernate`);
  /** End the running turn of `threadId` the way Codex does. */
  const complete = (threadId = 'thr_1', turnId = conn.lastTurnId, status = 'completed') =>
    conn.notify('turn/completed', codex.turnCompleted(threadId, turnId, status));
  /** One whole turn: post, wait for turn/start, complete it, wait until the session sleeps. */
  const turn = async (text: string, extra: { thread?: string } = {}) => {
    const before = conn.sent('turn/start').length;
    const key = post(text, extra);
    await until(() => conn.sent('turn/start').length === before + 1, `turn/start for "${text}"`);
    complete(String(conn.sent('turn/start').at(-1)!.threadId));
    await asleep(key);
    return key;
  };
  /** Connection watchers of live actors (the manager's own listener is not counted). */
  const liveActors = () => watchers - 1;
  return { conn, events, store, mgr, post, notices, until, asleep, complete, turn, liveActors, methods: () => conn.requests.map((r) => r.method) };
}

describe('hibernation of idle sessions', () => {
  it('an idle session becomes a record; its next message continues the same thread and model, no thread/start or resume', async () => {
    const h = harness({ settings: { models: ['mock-a', 'mock-b'] } });
    h.post('/model mock-b');
    await h.until(() => h.notices().some((n) => n.startsWith('Model set to mock-b')));
    await h.turn('one');
    expect(h.liveActors()).toBe(0);
    expect(h.mgr.sessionStatus('r/c/t')).toMatchObject({
      hibernated: true,
      threadId: 'thr_1',
      model: 'mock-b',
      turnRunning: false,
      queued: 0,
      turns: 1,
      lastTurn: { status: 'completed', turnId: 'turn_1' },
      state: { conversation: 'ready', steer: 'idle', catalog: 'idle', persist: 'idle', link: 'up' },
    });

    h.post('two');
    expect(h.mgr.sessionStatus('r/c/t')).toMatchObject({ hibernated: false, turnRunning: true });
    expect(h.liveActors()).toBeGreaterThan(0);
    await h.until(() => h.conn.sent('turn/start').length === 2);
    expect(h.conn.sent('turn/start')[1]).toMatchObject({ threadId: 'thr_1', model: 'mock-b', input: [{ type: 'text', text: 'two' }] });
    h.complete();
    await h.asleep();
    expect(h.methods()).toEqual(['thread/start', 'turn/start', 'turn/start']);
    expect(h.mgr.sessionStatus('r/c/t')).toMatchObject({ hibernated: true, threadId: 'thr_1', turns: 2, lastTurn: { turnId: 'turn_2' } });
    expect(h.notices().filter((n) => n.startsWith('Started a new Codex thread'))).toEqual(['Started a new Codex thread thr_1.']);
  });

  it('after a connection restart a hibernated session resumes its thread before the next turn', async () => {
    const h = harness();
    await h.turn('one');
    h.conn.emitLifecycle({ type: 'lost', exit: { kind: 'exit', retryable: true, reason: 'app-server killed by SIGKILL' } });
    h.conn.emitLifecycle({ type: 'ready', version: '0.169.0', restarts: 1 });
    h.post('two');
    await h.until(() => h.conn.sent('turn/start').length === 2);
    expect(h.methods()).toEqual(['thread/start', 'turn/start', 'thread/resume', 'turn/start']);
    expect(h.conn.sent('thread/resume')[0]).toMatchObject({ threadId: 'thr_1', cwd: '/work/ws', excludeTurns: true });
    expect(h.conn.sent('turn/start')[1]).toMatchObject({ threadId: 'thr_1' });
    h.complete();
    await h.asleep();
    // Loaded again in the new process: the message after that needs no resume.
    await h.turn('three');
    expect(h.methods()).toEqual(['thread/start', 'turn/start', 'thread/resume', 'turn/start', 'turn/start']);
  });

  it('a restart alone (ready, no lost) also means resume', async () => {
    const h = harness();
    await h.turn('one');
    h.conn.emitLifecycle({ type: 'ready', version: '0.169.0', restarts: 1 });
    await h.turn('two');
    expect(h.methods()).toEqual(['thread/start', 'turn/start', 'thread/resume', 'turn/start']);
  });

  it('a restart seen while the session was still live is remembered in its record', async () => {
    const h = harness();
    h.post('one');
    await h.until(() => h.events.some((e) => e.type === 'turn.started'));
    // The app-server is replaced mid-turn: the turn fails, the live session marks its thread unloaded…
    h.conn.emitLifecycle({ type: 'ready', version: '0.169.0', restarts: 1 });
    expect(h.events.at(-1)).toMatchObject({ type: 'turn.failed', error: 'the app-server was restarted' });
    // …and is hibernated after the restart, so only its record can tell.
    await h.asleep();
    h.post('two');
    await h.until(() => h.conn.sent('turn/start').length === 2);
    expect(h.methods()).toEqual(['thread/start', 'turn/start', 'thread/resume', 'turn/start']);
    expect(h.conn.sent('turn/start')[1]).toMatchObject({ threadId: 'thr_1' });
  });

  it('a lost connection while hibernated keeps the message until the thread can be resumed', async () => {
    const h = harness({ settings: { bindRetryMs: 20 } });
    await h.turn('one');
    h.conn.emitLifecycle({ type: 'lost', exit: { kind: 'exit', retryable: true, reason: 'app-server exited' } });
    let down = true;
    h.conn.on('thread/resume', (p) => {
      if (down) throw new Error('thread/resume: connection not ready within 60000 ms');
      return { thread: { id: p.threadId } };
    });
    h.post('two');
    await h.until(() => h.notices().some((n) => /Could not open the Codex thread: .*1 message\(s\) kept/.test(n)));
    expect(h.mgr.sessionStatus('r/c/t')).toMatchObject({ hibernated: false, queued: 1 });
    down = false;
    h.conn.emitLifecycle({ type: 'ready', version: '0.169.0', restarts: 1 });
    await h.until(() => h.conn.sent('turn/start').length === 2);
    expect(h.conn.sent('turn/start')[1]).toMatchObject({ threadId: 'thr_1', input: [{ type: 'text', text: 'two' }] });
    expect(h.conn.sent('thread/start')).toHaveLength(1);
  });

  it('a new host resumes the stored binding, then hibernates and continues without resuming again', async () => {
    const h = harness();
    const now = new Date().toISOString();
    await h.store.save({ schemaVersion: 1, key: 'r/c/t', threadId: 'thr_old', harness: 'codex', model: 'gpt-5.4-mini', cwd: '/work/ws', createdAt: now, updatedAt: now });
    await h.turn('one');
    await h.turn('two');
    expect(h.methods()).toEqual(['thread/resume', 'turn/start', 'turn/start']);
    expect(h.conn.sent('turn/start').map((p) => [p.threadId, p.model])).toEqual([
      ['thr_old', 'gpt-5.4-mini'],
      ['thr_old', 'gpt-5.4-mini'],
    ]);
    expect((await h.store.load('r/c/t'))?.createdAt).toBe(now);
  });

  it('slash commands wake a hibernated session and let it sleep again', async () => {
    const h = harness({ settings: { models: ['mock-a', 'mock-b'] } });
    await h.turn('one');
    h.post('/status');
    await h.until(() => h.notices().some((n) => n.startsWith('Thread: thr_1')));
    expect(h.notices().at(-1)).toContain('Turn: idle');
    await h.asleep();
    h.post('/model mock-a');
    await h.until(() => h.notices().some((n) => n.startsWith('Model set to mock-a')));
    await h.asleep();
    expect(h.mgr.sessionStatus('r/c/t')).toMatchObject({ model: 'mock-a', threadId: 'thr_1' });
    expect((await h.store.load('r/c/t'))?.model).toBe('mock-a');
    await h.turn('two');
    expect(h.conn.sent('turn/start')[1]).toMatchObject({ threadId: 'thr_1', model: 'mock-a' });
    expect(h.liveActors()).toBe(0);
  });

  it('/new and /reset on a hibernated session start a new thread', async () => {
    const h = harness();
    await h.turn('one');
    h.post('/new');
    await h.until(() => h.notices().includes('Started a new Codex thread thr_2.'));
    await h.asleep();
    expect(h.mgr.sessionStatus('r/c/t')).toMatchObject({ threadId: 'thr_2', hibernated: true });
    expect((await h.store.load('r/c/t'))?.threadId).toBe('thr_2');
    h.post('/reset');
    await h.until(() => h.notices().some((n) => n.startsWith('Cleared the thread binding')));
    await h.asleep();
    expect(h.mgr.sessionStatus('r/c/t')).toMatchObject({ threadId: undefined, state: { conversation: 'unbound' } });
    expect(await h.store.load('r/c/t')).toBeUndefined();
    await h.turn('two');
    expect(h.conn.sent('turn/start').map((p) => p.threadId)).toEqual(['thr_1', 'thr_3']);
    expect(h.conn.sent('thread/resume')).toEqual([]);
  });

  it('an empty message wakes nothing for long: notice, and the session sleeps again', async () => {
    const h = harness();
    await h.turn('one');
    h.mgr.post({ room: 'r', channel: 'c', thread: 't', from: { id: 'u1', name: 'Ann' }, text: '  ' });
    expect(h.notices().at(-1)).toBe('Empty message ignored.');
    await h.asleep();
    expect(h.liveActors()).toBe(0);
    expect(h.mgr.sessionStatus('r/c/t')).toMatchObject({ threadId: 'thr_1', turns: 1 });
  });

  it('attachThread on a hibernated session: the next message resumes the attached thread', async () => {
    const h = harness();
    await h.turn('one');
    await h.mgr.attachThread('r/c/t', 'thr_other');
    expect(h.mgr.sessionStatus('r/c/t')).toBeUndefined();
    h.post('two');
    await h.until(() => h.conn.sent('turn/start').length === 2);
    expect(h.conn.sent('thread/resume')[0]).toMatchObject({ threadId: 'thr_other' });
    expect(h.conn.sent('turn/start')[1]).toMatchObject({ threadId: 'thr_other' });
  });

  it('many sessions ending their turns together are all hibernated (a batch at a time)', async () => {
    const h = harness();
    const n = 600;
    for (let i = 0; i < n; i++) h.post(`hello ${i}`, { thread: `t${i}`, from: `u${i}` });
    await h.until(() => h.conn.sent('turn/start').length === n, 'every turn/start', 10_000);
    h.conn.sent('turn/start').forEach((p, i) => h.complete(String(p.threadId), `turn_${i + 1}`));
    await h.until(() => h.mgr.status().sessions.every((s) => s.hibernated), 'every session to hibernate', 10_000);
    const st = h.mgr.status().sessions;
    expect(st).toHaveLength(n);
    expect(st.every((s) => s.turns === 1 && s.lastTurn?.status === 'completed')).toBe(true);
    expect(new Set(st.map((s) => s.threadId)).size).toBe(n);
    expect(h.liveActors()).toBe(0);
    expect(h.mgr.threadContext('thr_600')).toMatchObject({ session: expect.stringMatching(/^r\/c\/t\d+$/) });
  });

  it('hibernate: false keeps idle sessions live; hibernateAfterMs delays it', async () => {
    const off = harness({ hibernate: false });
    off.post('one');
    await off.until(() => off.conn.sent('turn/start').length === 1);
    off.complete();
    await off.mgr.whenIdle('r/c/t');
    await new Promise((r) => setTimeout(r, 20));
    expect(off.mgr.sessionStatus('r/c/t')).toMatchObject({ hibernated: false, turns: 1 });
    expect(off.liveActors()).toBe(1);

    const later = harness({ hibernateAfterMs: 60_000 });
    later.post('one');
    await later.until(() => later.conn.sent('turn/start').length === 1);
    later.complete();
    await later.mgr.whenIdle('r/c/t');
    expect(later.mgr.sessionStatus('r/c/t')).toMatchObject({ hibernated: false });
  });
});

describe('active sessions are unchanged', () => {
  it('a session is never hibernated while its turn runs; steering goes into the running turn', async () => {
    const h = harness();
    await h.turn('warm up');
    h.post('first');
    await h.until(() => h.events.filter((e) => e.type === 'turn.started').length === 2);
    await new Promise((r) => setTimeout(r, 10));
    expect(h.mgr.sessionStatus('r/c/t')).toMatchObject({ hibernated: false, turnRunning: true, activeTurnId: 'turn_2' });
    h.post('also this');
    await h.until(() => h.conn.sent('turn/steer').length === 1);
    expect(h.conn.sent('turn/steer')[0]).toMatchObject({ threadId: 'thr_1', expectedTurnId: 'turn_2', input: [{ type: 'text', text: 'also this' }] });
    h.complete();
    await h.asleep();
    expect(h.conn.sent('turn/start')).toHaveLength(2);
  });

  it('queue mode: queued messages run in order, one turn at a time, then the session sleeps', async () => {
    const h = harness({ settings: { busyMode: 'queue' } });
    await h.turn('zero');
    h.post('one');
    await h.until(() => h.events.filter((e) => e.type === 'turn.started').length === 2);
    h.post('two');
    h.post('three');
    expect(h.notices().filter((n) => /queued/.test(n))).toHaveLength(2);
    expect(h.mgr.sessionStatus('r/c/t')).toMatchObject({ queued: 2, turnRunning: true, hibernated: false });
    for (let i = 2; i <= 4; i++) {
      await h.until(() => h.conn.sent('turn/start').length === i);
      expect(h.mgr.sessionStatus('r/c/t')?.hibernated).toBe(false);
      h.complete('thr_1', `turn_${i}`);
    }
    await h.asleep();
    expect(h.conn.sent('turn/steer')).toEqual([]);
    expect(h.conn.sent('turn/start').map((p) => (p.input as Array<{ text: string }>)[0]!.text)).toEqual(['zero', 'one', 'two', 'three']);
    expect(h.mgr.sessionStatus('r/c/t')).toMatchObject({ turns: 4, queued: 0 });
  });
});

describe('the manager API over hibernated sessions', () => {
  it('status() lists hibernated and live sessions in order; threadContext and whenIdle see them', async () => {
    const h = harness();
    await h.turn('a', { thread: 'a' });
    h.post('b', { thread: 'b', from: 'bob' });
    await h.until(() => h.conn.sent('turn/start').length === 2);
    await h.turn('c', { thread: 'c' });
    const st = h.mgr.status();
    expect(st.sessions.map((s) => [s.session, s.hibernated, s.threadId, s.turnRunning])).toEqual([
      ['r/c/a', true, 'thr_1', false],
      ['r/c/b', false, 'thr_2', true],
      ['r/c/c', true, 'thr_3', false],
    ]);
    expect(h.mgr.threadContext('thr_1')).toEqual({ session: 'r/c/a', participants: [{ id: 'u1', name: 'Ann' }] });
    expect(h.mgr.threadContext('thr_2')).toEqual({ session: 'r/c/b', participants: [{ id: 'bob', name: 'bob' }] });
    await h.mgr.whenIdle('r/c/a');
    // Waking a session keeps its place in the list.
    await h.turn('a again', { thread: 'a' });
    expect(h.mgr.status().sessions.map((s) => s.session)).toEqual(['r/c/a', 'r/c/b', 'r/c/c']);
  });

  it('stop() reports queued messages of live sessions and nothing for hibernated ones', async () => {
    const h = harness({ settings: { busyMode: 'queue' } });
    await h.turn('idle one', { thread: 'idle' });
    h.post('running', { thread: 'busy' });
    await h.until(() => h.events.some((e) => e.type === 'turn.started' && e.session === 'r/c/busy'));
    h.post('waiting 1', { thread: 'busy' });
    h.post('waiting 2', { thread: 'busy' });
    managers.splice(managers.indexOf(h.mgr), 1);
    await h.mgr.stop({ interrupt: false });
    const shutdown = h.events.filter((e) => e.type === 'notice' && /shutting down/.test((e as { text: string }).text));
    expect(shutdown).toEqual([
      expect.objectContaining({ session: 'r/c/busy', level: 'warning', text: 'Switchboard is shutting down; 3 message(s) of this conversation were not run.' }),
    ]);
    expect(h.mgr.status()).toMatchObject({ stopped: true, sessions: [] });
    expect(() => h.post('late')).toThrow(/stopped/);
  });

  it('a lifecycle event after stop() touches nothing', async () => {
    const h = harness();
    await h.turn('one');
    managers.splice(managers.indexOf(h.mgr), 1);
    await h.mgr.stop();
    h.conn.emitLifecycle({ type: 'ready', version: '0.169.0', restarts: 1 });
    expect(h.liveActors()).toBe(-1); // not even the manager's own listener is left
  });
});
