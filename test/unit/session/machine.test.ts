// Sessions over a fake connection: binding (start, resume, corrupt file, failed resume),
// steering and queueing, and which conversation a Codex thread belongs to.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileBindingStore, MemoryBindingStore } from '../../../src/session/bindings.js';
import { rpcError } from '../../support/fake-connection.js';
import { cleanupSessions, harness, tempDir, texts } from './session-harness.js';

afterEach(cleanupSessions);

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

  it('writes the binding once per bind, not after every turn; a failed write is retried when the next turn ends', async () => {
    const saved: string[] = [];
    let failNext = false;
    const store = new MemoryBindingStore();
    const counting = {
      load: (k: string) => store.load(k),
      remove: (k: string) => store.remove(k),
      save: async (b: Parameters<MemoryBindingStore['save']>[0]) => {
        if (failNext) {
          failNext = false;
          throw new Error('disk full');
        }
        saved.push(b.threadId);
        await store.save(b);
      },
    };
    const h = harness({ store: counting });
    for (const [i, text] of ['one', 'two', 'three'].entries()) {
      h.post(text);
      await h.until(() => h.conn.sent('turn/start').length === i + 1, text);
      h.complete();
      await h.mgr.whenIdle('r/c/t');
    }
    expect(saved).toEqual(['thr_1']); // three turns, one bind: one write

    // A write that fails (here: /reset's new thread) is retried at the end of that thread's first turn.
    failNext = true;
    h.post('/reset');
    await h.mgr.whenIdle('r/c/t');
    h.post('four');
    await h.until(() => h.conn.sent('turn/start').length === 4, 'turn four');
    await h.until(() => h.notices().some((n) => n.includes('disk full')), 'the failed write told');
    expect(saved).toEqual(['thr_1']);
    h.complete();
    await h.mgr.whenIdle('r/c/t');
    expect(saved).toEqual(['thr_1', 'thr_2']);
    expect(store.data.get('r/c/t')?.threadId).toBe('thr_2');
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
