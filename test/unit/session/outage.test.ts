// Sessions while the app-server is unavailable: messages fail at once, each session's room is
// told once per outage (not once per retry or per message), and told again when it is back;
// the thread is resumed on the next message. Over a fake connection that plays the lifecycle.
import { afterEach, describe, expect, it } from 'vitest';
import { SessionManager } from '../../../src/session/manager.js';
import { MemoryBindingStore } from '../../../src/session/bindings.js';
import { ConnectionUnavailableError } from '../../../src/connection/errors.js';
import type { RoomEvent } from '../../../src/events/room-events.js';
import { createLogger } from '../../../src/log/logger.js';
import { codex, FakeConnection } from '../../support/fake-connection.js';

const managers: SessionManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.stop({ interrupt: false })));
});

const REASON = 'app-server failed 5 times within 60000 ms; last: connect ECONNREFUSED 127.0.0.1:4500';
const RETRY_AT = Date.UTC(2025, 0, 1, 12, 0, 30);

function harness() {
  const conn = new FakeConnection();
  const events: RoomEvent[] = [];
  const mgr = new SessionManager({
    connection: conn,
    sink: (e) => events.push(e),
    store: new MemoryBindingStore(),
    log: createLogger({ level: 'silent' }),
    settings: { cwd: '/work/ws' },
  });
  managers.push(mgr);
  const post = (thread: string, text: string) => mgr.post({ room: 'r', channel: 'c', thread, from: { id: 'u1', name: 'Ann' }, text });
  let mark = 0;
  /** The events of one conversation since the outage began (`degrade()`). */
  const of = (key: string) => events.slice(mark).filter((e) => e.session === key);
  const notices = (key: string) => of(key).flatMap((e) => (e.type === 'notice' ? [e.text] : []));
  const until = async (pred: () => boolean, what: string) => {
    const end = Date.now() + 3_000;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; events: ${JSON.stringify(events.map((e) => [e.session, e.type]))}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  /** The connection as a degraded one looks to sessions: lifecycle event, requests failing at once. */
  const degrade = () => {
    mark = events.length;
    conn.emitLifecycle({ type: 'lost', exit: { kind: 'closed', retryable: true, reason: 'WebSocket closed (1006)' } });
    conn.emitLifecycle({ type: 'degraded', reason: REASON, since: RETRY_AT - 31_000, attempt: 1, retryAt: RETRY_AT });
    for (const m of ['thread/start', 'thread/resume', 'turn/start'] as const) {
      conn.on(m, () => {
        throw new ConnectionUnavailableError(REASON, RETRY_AT);
      });
    }
  };
  const recover = () => {
    conn.on('thread/resume', (p) => ({ thread: { id: p.threadId } }));
    conn.on('turn/start', () => ({ turn: { id: 'turn_back', status: 'inProgress', items: [] } }));
    conn.emitLifecycle({ type: 'recovered', outageMs: 31_000, attempts: 3 });
    conn.emitLifecycle({ type: 'ready', version: '0.169.0', restarts: 4 });
  };
  return { conn, events, mgr, post, of, notices, until, degrade, recover };
}

const unavailable = `The agent is unavailable: ${REASON}. Switchboard keeps retrying by itself (next attempt at 12:00:30 UTC); messages sent until it is back are not run.`;
const back = 'The agent is back: the Codex app-server is reachable again. Messages sent while it was unavailable were not run; send them again if they still matter.';

describe('sessions while the app-server is unavailable', () => {
  it('messages fail at once with one notice per session, and the room hears when it is back; the thread resumes', async () => {
    const h = harness();
    h.post('a', 'first');
    await h.until(() => h.conn.sent('turn/start').length === 1, 'the first turn');
    h.conn.notify('turn/completed', codex.turnCompleted('thr_1', h.conn.lastTurnId));
    await h.mgr.whenIdle('r/c/a');
    h.post('quiet', 'hello');
    await h.until(() => h.conn.sent('turn/start').length === 2, 'a turn in the quiet conversation');
    h.conn.notify('turn/completed', codex.turnCompleted('thr_2', h.conn.lastTurnId));
    await h.mgr.whenIdle('r/c/quiet');

    h.degrade();
    const before = h.conn.requests.length;
    for (const text of ['are you there?', 'hello?', 'anyone?']) h.post('a', text);
    h.post('b', 'new conversation during the outage');
    h.post('b', 'and another');
    await h.until(() => h.of('r/c/b').filter((e) => e.type === 'turn.failed').length === 2, 'b refused');
    await h.until(() => h.of('r/c/a').filter((e) => e.type === 'turn.failed').length === 3, 'a refused');
    // No request was even tried: the sessions knew the app-server was unavailable.
    expect(h.conn.requests.length).toBe(before);
    expect(h.notices('r/c/a')).toEqual([unavailable]);
    expect(h.notices('r/c/b')).toEqual([unavailable]);
    expect(h.of('r/c/a').filter((e) => e.type === 'turn.failed')).toEqual(
      Array(3).fill(expect.objectContaining({ turnId: undefined, threadId: 'thr_1', error: 'not run: the Codex app-server is unavailable' })),
    );
    // A later retry announces a new time: nobody is told again.
    h.conn.emitLifecycle({ type: 'degraded', reason: REASON, since: RETRY_AT - 31_000, attempt: 2, retryAt: RETRY_AT + 2_000 });
    h.post('a', 'still nothing?');
    await h.until(() => h.of('r/c/a').filter((e) => e.type === 'turn.failed').length === 4, 'a refused again');
    expect(h.notices('r/c/a')).toEqual([unavailable]);

    h.recover();
    expect(h.notices('r/c/a')).toEqual([unavailable, back]);
    expect(h.notices('r/c/b')).toEqual([unavailable, back]);
    // Never told of the outage, so not told it ended either.
    expect(h.notices('r/c/quiet')).toEqual([]);

    h.post('a', 'back?');
    await h.until(() => h.conn.sent('turn/start').length === 3, 'the turn after the outage');
    expect(h.conn.requests.slice(before).map((r) => r.method)).toEqual(['thread/resume', 'turn/start']);
    expect(h.conn.sent('thread/resume')[0]).toMatchObject({ threadId: 'thr_1' });
  });

  it('a bind in flight when the outage starts ends without the bind-retry notice loop', async () => {
    const h = harness();
    let fail: ((err: Error) => void) | undefined;
    h.conn.on('thread/start', () => new Promise((_, reject) => (fail = reject)));
    h.post('a', 'hello');
    await h.until(() => fail !== undefined, 'thread/start sent');
    h.degrade();
    fail!(new ConnectionUnavailableError(REASON, RETRY_AT));
    await h.until(() => h.of('r/c/a').some((e) => e.type === 'turn.failed'), 'the message refused');
    await new Promise((r) => setTimeout(r, 50));
    expect(h.notices('r/c/a')).toEqual([unavailable]);
    expect(h.mgr.sessionStatus('r/c/a')).toMatchObject({ queued: 0, state: expect.objectContaining({ conversation: 'unbound', link: 'down' }) });
  });

  it('a session told of the outage stays live until it can be told it is over, then hibernates', async () => {
    const h = harness();
    h.degrade();
    h.post('a', 'hello');
    await h.until(() => h.notices('r/c/a').length === 1, 'the outage notice');
    await new Promise((r) => setTimeout(r, 20));
    expect(h.mgr.sessionStatus('r/c/a')).toMatchObject({ hibernated: false });
    h.recover();
    await h.until(() => h.mgr.sessionStatus('r/c/a')?.hibernated === true, 'hibernation');
    expect(h.notices('r/c/a')).toEqual([unavailable, back]);
  });

  it('failed for good: one notice that it will not retry, also to a room that was told it would', async () => {
    const h = harness();
    h.degrade();
    h.post('a', 'hello');
    await h.until(() => h.notices('r/c/a').length === 1, 'the outage notice');
    h.conn.emitLifecycle({ type: 'failed', error: 'WebSocket app-server refused authentication (HTTP 401): check the auth token' });
    const final =
      'The agent is unavailable: WebSocket app-server refused authentication (HTTP 401): check the auth token. Switchboard will not retry this; fix the cause and restart it. Messages are not run until then.';
    expect(h.notices('r/c/a')).toEqual([unavailable, final]);
    h.post('a', 'hello again');
    h.post('b', 'a new conversation');
    await h.until(() => h.of('r/c/b').some((e) => e.type === 'turn.failed') && h.of('r/c/a').filter((e) => e.type === 'turn.failed').length === 2, 'refusals');
    expect(h.notices('r/c/a')).toEqual([unavailable, final]);
    expect(h.notices('r/c/b')).toEqual([final]);
  });
});
