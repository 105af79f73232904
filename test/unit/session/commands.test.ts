// Sessions over a fake connection: slash commands and the model catalog, connection loss,
// and the live handles the manager provides to its machines.
import { afterEach, describe, expect, it } from 'vitest';
import { fromPromise } from 'xstate';
import { sessionMachine } from '../../../machines/session.machine.js';
import { MemoryBindingStore } from '../../../src/session/bindings.js';
import { rpcError } from '../../support/fake-connection.js';
import { cleanupSessions, harness, texts } from './session-harness.js';

afterEach(cleanupSessions);

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
