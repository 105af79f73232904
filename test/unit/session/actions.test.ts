// Reviews and compactions as turns of a session, over a fake connection: they start with
// `review/start` / `thread/compact/start`, queue behind a running turn, are never steered
// into one, and nothing is steered into them.
import { afterEach, describe, expect, it } from 'vitest';
import { SessionManager } from '../../../src/session/manager.js';
import { MemoryBindingStore } from '../../../src/session/bindings.js';
import { codex, FakeConnection } from '../../support/fake-connection.js';
import type { RoomEvent } from '../../../src/events/room-events.js';
import { createLogger } from '../../../src/log/logger.js';

const managers: SessionManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.stop({ interrupt: false })));
});

function harness() {
  const conn = new FakeConnection();
  let reviews = 0;
  conn.on('review/start', (p) => ({ turn: { id: `review_${++reviews}`, status: 'inProgress', items: [] }, reviewThreadId: p.threadId }));
  conn.on('thread/compact/start', () => ({}));
  const events: RoomEvent[] = [];
  const mgr = new SessionManager({
    connection: conn,
    sink: (e) => events.push(e),
    store: new MemoryBindingStore(),
    log: createLogger({ level: 'silent' }),
    settings: { cwd: '/work/ws', approvalPolicy: 'never', sandbox: 'workspace-write' },
  });
  managers.push(mgr);
  const where = { room: 'r', channel: 'c', thread: 't', from: { id: 'u1', name: 'Ann' } };
  const post = (text: string) => mgr.post({ ...where, text });
  const until = async (pred: () => boolean, what = 'condition', ms = 3_000) => {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; events: ${JSON.stringify(events.map((e) => e.type))}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  const started = () => events.filter((e) => e.type === 'turn.started').map((e) => (e as { turnId: string }).turnId);
  return { conn, events, mgr, where, post, until, started };
}

describe('session actions', () => {
  it('a review posted during a turn waits for it, runs with review/start, and a message during the review is queued, not steered', async () => {
    const h = harness();
    h.post('first');
    await h.until(() => h.started().length === 1, 'first turn');
    h.mgr.postAction(h.where, '/codex review', { type: 'review', target: { type: 'baseBranch', branch: 'main' } });
    await new Promise((r) => setTimeout(r, 20));
    expect(h.conn.sent('turn/steer')).toEqual([]);
    expect(h.conn.sent('review/start')).toEqual([]);
    h.conn.notify('turn/completed', codex.turnCompleted('thr_1', 'turn_1'));
    await h.until(() => h.started().length === 2, 'review turn');
    expect(h.conn.sent('review/start')).toEqual([{ threadId: 'thr_1', target: { type: 'baseBranch', branch: 'main' }, delivery: 'inline' }]);
    expect(h.started()).toEqual(['turn_1', 'review_1']);
    h.post('during the review');
    await new Promise((r) => setTimeout(r, 20));
    expect(h.conn.sent('turn/steer')).toEqual([]);
    h.conn.notify('turn/completed', codex.turnCompleted('thr_1', 'review_1'));
    await h.until(() => h.conn.sent('turn/start').length === 2, 'the queued message');
    expect(h.conn.sent('turn/start')[1]).toMatchObject({ input: [{ type: 'text', text: 'during the review' }] });
  });

  it('a compaction binds the turn Codex reports in turn/started; on a fresh conversation the thread is started first', async () => {
    const h = harness();
    h.conn.on('thread/compact/start', (p) => {
      setTimeout(() => h.conn.notify('turn/started', codex.turnStarted(String(p.threadId), 'compact_1')), 5);
      return {};
    });
    h.mgr.postAction(h.where, '/codex compact', { type: 'compact' });
    await h.until(() => h.started().length === 1, 'compaction turn');
    expect(h.conn.sent('thread/start')).toHaveLength(1);
    expect(h.conn.sent('thread/compact/start')).toEqual([{ threadId: 'thr_1' }]);
    expect(h.started()).toEqual(['compact_1']);
    h.conn.notify('item/started', codex.item('thr_1', 'compact_1', { type: 'contextCompaction', id: 'cc1' }));
    h.conn.notify('item/completed', codex.item('thr_1', 'compact_1', { type: 'contextCompaction', id: 'cc1' }));
    h.conn.notify('turn/completed', codex.turnCompleted('thr_1', 'compact_1'));
    await h.mgr.whenIdle('r/c/t');
    const tools = h.events.filter((e) => e.type === 'tool.started' || e.type === 'tool.completed');
    expect(tools.map((e) => [e.type, (e as { kind: string }).kind, (e as { turnId: string }).turnId])).toEqual([
      ['tool.started', 'compaction', 'compact_1'],
      ['tool.completed', 'compaction', 'compact_1'],
    ]);
    expect(h.events.some((e) => e.type === 'turn.completed')).toBe(true);
    expect(await h.mgr.boundThread('r/c/t')).toBe('thr_1');
  });
});
