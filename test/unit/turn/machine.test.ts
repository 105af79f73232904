// The turn machine over a fake connection: ordering, buffering, every way a turn ends,
// interrupt escalation, the idle watchdog and connection loss.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createActor, fromPromise, toPromise } from 'xstate';
import { type TurnMachineInput, type TurnOutput } from '../../../machines/turn.machine.js';
import { provideTurnMachine } from '../../../src/turn/provide.js';
import { codex, FakeConnection, rpcError } from '../../support/fake-connection.js';
import type { RoomEvent } from '../../../src/events/room-events.js';
import { createLogger } from '../../../src/log/logger.js';

const T = 'thr_1';

type LiveTurn = ReturnType<typeof provideTurnMachine>;

function harness(over: Partial<TurnMachineInput> = {}, adapt: (m: LiveTurn) => LiveTurn = (m) => m) {
  const conn = new FakeConnection();
  const events: RoomEvent[] = [];
  const withdrawn: Array<[string, string, string]> = [];
  const machine = provideTurnMachine({
    conn,
    sink: (e) => events.push(e),
    approvals: { withdrawTurn: (threadId, turnId, reason) => withdrawn.push([threadId, turnId, reason]) },
    log: createLogger({ level: 'silent' }),
  });
  const actor = createActor(adapt(machine), {
    input: { session: 'r/c/t', threadId: T, input: [{ type: 'text', text: 'hi', text_elements: [] }], ...over },
  });
  const done = toPromise(actor) as Promise<TurnOutput>;
  const types = () => events.map((e) => e.type);
  return { conn, events, withdrawn, actor, done, types };
}

afterEach(() => {
  vi.useRealTimers();
});

const flush = () => new Promise((r) => setImmediate(r));

describe('turn machine', () => {
  it('subscribes before turn/start, buffers early notifications, streams in order, completes', async () => {
    const h = harness({ model: 'gpt-5.5' });
    // Codex notifies before it answers turn/start.
    h.conn.on('turn/start', () => {
      h.conn.notify('turn/started', codex.turnStarted(T, 'turn_9'));
      h.conn.notify('item/agentMessage/delta', codex.delta(T, 'turn_9', 'm1', 'Hel'));
      return { turn: { id: 'turn_9', status: 'inProgress', items: [] } };
    });
    h.actor.start();
    await flush();
    expect(h.conn.ops.slice(0, 2)).toEqual([`subscribe:${T}`, 'request:turn/start']);
    expect(h.conn.sent('turn/start')[0]).toMatchObject({ threadId: T, model: 'gpt-5.5', input: [{ type: 'text', text: 'hi' }] });
    h.conn.notify('item/agentMessage/delta', codex.delta(T, 'turn_9', 'm1', 'lo'));
    h.conn.notify('item/completed', codex.item(T, 'turn_9', { type: 'agentMessage', id: 'm1', text: 'Hello' }));
    h.conn.notify('turn/completed', codex.turnCompleted(T, 'turn_9'));
    const out = await h.done;
    expect(out).toEqual({ status: 'completed', turnId: 'turn_9', threadId: T, error: undefined, retry: false });
    expect(h.types()).toEqual(['turn.started', 'message.delta', 'message.delta', 'message.completed', 'turn.completed']);
    expect(h.events[0]).toMatchObject({ turnId: 'turn_9', threadId: T, model: 'gpt-5.5' });
    // The approval router and the connection are told the turn is over; the stream is gone.
    expect(h.withdrawn).toEqual([[T, 'turn_9', 'turn completed']]);
    expect(h.conn.withdrawn).toEqual([{ threadId: T, reason: 'turn completed' }]);
    expect(h.conn.subscribers(T)).toBe(0);
  });

  it('a failed turn carries Codex’s error text', async () => {
    const h = harness();
    h.actor.start();
    await flush();
    h.conn.notify('turn/completed', codex.turnCompleted(T, h.conn.lastTurnId, 'failed', 'model overloaded'));
    expect(await h.done).toMatchObject({ status: 'failed', error: 'model overloaded' });
    expect(h.events.at(-1)).toMatchObject({ type: 'turn.failed', turnId: h.conn.lastTurnId, error: 'model overloaded' });
  });

  it('turn/start refused: failed, and flagged for retry when the thread is not loaded', async () => {
    const h = harness();
    h.conn.on('turn/start', (p) => {
      throw rpcError('turn/start', `thread not found: ${String(p.threadId)}`);
    });
    h.actor.start();
    const out = await h.done;
    expect(out).toMatchObject({ status: 'failed', turnId: undefined, retry: true });
    expect(out.error).toMatch(/thread not found/);
    expect(h.events).toEqual([expect.objectContaining({ type: 'turn.failed', turnId: undefined })]);
  });

  it('a turn/start that is never answered fails after the start wait, never later than the watchdog', async () => {
    vi.useFakeTimers();
    const h = harness({ watchdogMs: 3_000 });
    h.conn.on('turn/start', () => new Promise(() => {}));
    h.actor.start();
    await vi.advanceTimersByTimeAsync(3_001);
    expect(await h.done).toMatchObject({ status: 'failed', retry: false, error: 'Codex did not accept the turn within 3 s (turn/start got no answer)' });
    expect(h.types()).toEqual(['notice', 'turn.failed']);
  });

  it('the start wait is its own setting (default 30 s), shorter than the watchdog', async () => {
    vi.useFakeTimers();
    const h = harness({ watchdogMs: 300_000, startTimeoutMs: 5_000 });
    h.conn.on('turn/start', () => new Promise(() => {}));
    h.actor.start();
    await vi.advanceTimersByTimeAsync(4_999);
    expect(h.actor.getSnapshot().value).toBe('starting');
    await vi.advanceTimersByTimeAsync(2);
    expect(await h.done).toMatchObject({ status: 'failed', error: 'Codex did not accept the turn within 5 s (turn/start got no answer)' });
    expect(h.events[0]).toMatchObject({ type: 'notice', level: 'warning', text: expect.stringContaining('did not accept the turn within 5 s') });
    const d = harness({});
    expect(d.actor.getSnapshot().context.startTimeoutMs).toBe(30_000);
  });

  it('/stop: turn/interrupt as a request, then ends interrupted on turn/completed', async () => {
    const h = harness();
    h.actor.start();
    await flush();
    h.actor.send({ type: 'STOP', reason: 'stopped by /stop' });
    await flush();
    expect(h.conn.sent('turn/interrupt')).toEqual([{ threadId: T, turnId: h.conn.lastTurnId }]);
    h.conn.notify('turn/completed', codex.turnCompleted(T, h.conn.lastTurnId, 'interrupted'));
    expect(await h.done).toMatchObject({ status: 'interrupted' });
    expect(h.events.at(-1)).toMatchObject({ type: 'turn.interrupted', reason: 'stopped by /stop' });
  });

  it('a stop that arrives while turn/start is pending interrupts right after it', async () => {
    const h = harness();
    let answer!: (v: unknown) => void;
    h.conn.on('turn/start', () => new Promise((r) => (answer = r)));
    h.actor.start();
    await flush();
    h.actor.send({ type: 'STOP' });
    answer({ turn: { id: 'turn_5', status: 'inProgress', items: [] } });
    await flush();
    expect(h.conn.sent('turn/interrupt')).toEqual([{ threadId: T, turnId: 'turn_5' }]);
    h.conn.notify('turn/completed', codex.turnCompleted(T, 'turn_5', 'interrupted'));
    expect((await h.done).status).toBe('interrupted');
  });

  it('interrupt never confirmed: restarts the connection, tells the room, closes open tools, ends interrupted', async () => {
    vi.useFakeTimers();
    const h = harness({ interruptWaitMs: 5_000 });
    h.conn.on('turn/interrupt', () => new Promise(() => {})); // Codex is wedged
    h.actor.start();
    await vi.advanceTimersByTimeAsync(0);
    h.conn.notify('item/started', codex.item(T, h.conn.lastTurnId, { type: 'commandExecution', id: 'c1', command: 'sleep 1000', status: 'inProgress' }));
    h.actor.send({ type: 'STOP' });
    await vi.advanceTimersByTimeAsync(4_999);
    expect(h.conn.restarts).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    const out = await h.done;
    expect(out.status).toBe('interrupted');
    expect(h.conn.restarts).toHaveLength(1);
    expect(h.types()).toEqual(['turn.started', 'tool.started', 'notice', 'tool.completed', 'turn.interrupted']);
    expect(h.events[2]).toMatchObject({ level: 'error', text: expect.stringMatching(/did not confirm the interrupt.*restarting/) });
    expect(h.events[3]).toMatchObject({ toolId: 'c1', status: 'interrupted' });
  });

  it('idle watchdog: no notification for N → notice, interrupt, failed with "no progress"', async () => {
    vi.useFakeTimers();
    const h = harness({ watchdogMs: 10_000 });
    h.conn.on('turn/interrupt', (p) => {
      setTimeout(() => h.conn.notify('turn/completed', codex.turnCompleted(T, String(p.turnId), 'interrupted')), 10);
      return {};
    });
    h.actor.start();
    await vi.advanceTimersByTimeAsync(0);
    // Deltas keep it alive (throttled activity), well past the watchdog period.
    for (let i = 0; i < 30; i++) {
      await vi.advanceTimersByTimeAsync(1_000);
      h.conn.notify('item/agentMessage/delta', codex.delta(T, h.conn.lastTurnId, 'm1', '.'));
    }
    expect(h.conn.sent('turn/interrupt')).toEqual([]);
    await vi.advanceTimersByTimeAsync(10_100);
    const out = await h.done;
    expect(h.conn.sent('turn/interrupt')).toHaveLength(1);
    expect(out).toMatchObject({ status: 'failed' });
    expect(out.error).toMatch(/no progress/);
    const notice = h.events.find((e) => e.type === 'notice');
    expect(notice).toMatchObject({ level: 'warning', text: expect.stringMatching(/No progress from Codex for 10 s/) });
    expect(h.events.at(-1)).toMatchObject({ type: 'turn.failed', error: expect.stringMatching(/no progress/) });
  });

  it('the watchdog pauses while the thread waits on a person', async () => {
    vi.useFakeTimers();
    const h = harness({ watchdogMs: 1_000 });
    h.actor.start();
    await vi.advanceTimersByTimeAsync(0);
    h.conn.notify('thread/status/changed', codex.status(T, 'active', ['waitingOnApproval']));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.actor.getSnapshot().value).toEqual({ running: 'waiting' });
    h.conn.notify('thread/status/changed', codex.status(T, 'active', []));
    await vi.advanceTimersByTimeAsync(999);
    expect(h.conn.sent('turn/interrupt')).toEqual([]);
    await vi.advanceTimersByTimeAsync(2);
    expect(h.conn.sent('turn/interrupt')).toHaveLength(1);
    h.actor.stop();
  });

  it('connection lost mid-turn: fails at once with the exit reason, open tools closed first', async () => {
    const h = harness();
    h.actor.start();
    await flush();
    h.conn.notify('item/started', codex.item(T, h.conn.lastTurnId, { type: 'commandExecution', id: 'c1', command: 'make', status: 'inProgress' }));
    h.conn.emitLifecycle({ type: 'lost', exit: { kind: 'exit', retryable: true, reason: 'app-server killed by SIGKILL' } });
    // Synchronous: no timer, no await needed for the state change.
    expect(h.actor.getSnapshot().status).toBe('done');
    const out = await h.done;
    expect(out).toMatchObject({ status: 'failed', turnId: h.conn.lastTurnId });
    expect(out.error).toMatch(/connection to the app-server lost: app-server killed by SIGKILL/);
    expect(h.types()).toEqual(['turn.started', 'tool.started', 'tool.completed', 'turn.failed']);
    expect(h.events[2]).toMatchObject({ status: 'failed' });
  });

  it('IO actors can be swapped with provide()', async () => {
    const h = harness({}, (m) => m.provide({ actors: { startTurn: fromPromise(async () => ({ turnId: 'provided' })) } }));
    h.actor.start();
    await flush();
    expect(h.conn.sent('turn/start')).toEqual([]);
    h.conn.notify('turn/completed', codex.turnCompleted(T, 'provided'));
    expect(await h.done).toMatchObject({ status: 'completed', turnId: 'provided' });
  });
});
