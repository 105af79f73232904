import { afterEach, describe, expect, it, vi } from 'vitest';
import { RpcEngine, type ServerRequestHandler } from '../../../src/connection/rpc-engine.js';
import { ConnectionLostError, RpcError, RpcTimeoutError } from '../../../src/connection/errors.js';
import type { InboundNotification } from '../../../src/protocol/notifications.js';
import type { Transport } from '../../../src/transport/types.js';
import { memoryLogger } from '../../support/log.js';

function setup(handler?: ServerRequestHandler, backstopMs = 60_000) {
  const sent: Array<Record<string, unknown>> = [];
  const notes: InboundNotification[] = [];
  const { log, records } = memoryLogger();
  const engine = new RpcEngine({ log, serverRequestBackstopMs: backstopMs, onNotification: (n) => notes.push(n) });
  const transport: Transport = { pid: 1, description: 't', send: (t) => sent.push(JSON.parse(t)), close: async () => {} };
  engine.attach(transport);
  engine.setServerRequestHandler(handler);
  const flush = () => new Promise((r) => setTimeout(r, 0));
  return { engine, sent, notes, records, flush };
}

afterEach(() => vi.useRealTimers());

describe('RpcEngine requests', () => {
  it('correlates responses by id, in any order', async () => {
    const { engine, sent } = setup();
    const a = engine.request('model/list', {}, 1000);
    const b = engine.request('thread/list', {}, 1000);
    engine.handleLine(JSON.stringify({ id: sent[1]!.id, result: 'B' }));
    engine.handleLine(JSON.stringify({ id: sent[0]!.id, result: 'A' }));
    await expect(a).resolves.toBe('A');
    await expect(b).resolves.toBe('B');
    expect(engine.stats.pending).toBe(0);
  });

  it('rejects with RpcError on an error response', async () => {
    const { engine, sent } = setup();
    const p = engine.request('thread/start', {}, 1000);
    engine.handleLine(JSON.stringify({ id: sent[0]!.id, error: { code: -32600, message: 'bad' } }));
    await expect(p).rejects.toBeInstanceOf(RpcError);
  });

  it('times out, then drops and counts the late response', async () => {
    vi.useFakeTimers();
    const { engine, sent, records } = setup();
    const p = engine.request('model/list', {}, 50);
    const settled = expect(p).rejects.toBeInstanceOf(RpcTimeoutError);
    vi.advanceTimersByTime(60);
    await settled;
    engine.handleLine(JSON.stringify({ id: sent[0]!.id, result: {} }));
    expect(engine.stats.lateResponses).toBe(1);
    expect(records().some((r) => r.msg === 'late or unknown response dropped')).toBe(true);
  });

  it('honours an AbortSignal', async () => {
    const { engine } = setup();
    const ctrl = new AbortController();
    const p = engine.request('model/list', {}, 0, ctrl.signal);
    ctrl.abort(new Error('user gave up'));
    await expect(p).rejects.toThrow('user gave up');
    expect(engine.stats.pending).toBe(0);
  });

  it('rejects every pending request at once when the transport goes', async () => {
    const { engine } = setup();
    const a = engine.request('model/list', {}, 0);
    const b = engine.request('turn/start', {}, 0);
    engine.detach({ kind: 'exit', signal: 'SIGKILL', retryable: true, reason: 'codex app-server exited on SIGKILL', stderrTail: 'boom' });
    await expect(a).rejects.toBeInstanceOf(ConnectionLostError);
    await expect(b).rejects.toThrow(/SIGKILL.*stderr: boom/);
    await expect(engine.request('model/list', {}, 0)).rejects.toThrow(/not open/);
  });

  it('counts and skips malformed lines without throwing', () => {
    const { engine, notes } = setup();
    for (const bad of ['garbage', '{"id":', '[]', '{"id":{},"result":1}']) engine.handleLine(bad);
    engine.handleLine('{"method":"turn/started","params":{"threadId":"t","turn":{"id":"u","status":"inProgress"}}}');
    expect(engine.stats.malformed).toBe(4);
    expect(notes).toHaveLength(1);
  });
});

describe('RpcEngine server requests', () => {
  const approval = (id: number | string, threadId = 'thr') =>
    JSON.stringify({ id, method: 'item/commandExecution/requestApproval', params: { threadId, turnId: 'u', itemId: 'i', command: 'rm -rf /' } });

  it('answers fail-closed when no handler is attached', async () => {
    const { engine, sent, flush } = setup(undefined);
    engine.handleLine(approval(5));
    await flush();
    expect(sent).toEqual([{ id: 5, result: { decision: 'decline' } }]);
  });

  it('sends the handler answer', async () => {
    const { engine, sent, flush } = setup(async () => ({ result: { decision: 'accept' } }));
    engine.handleLine(approval(6));
    await flush();
    expect(sent).toEqual([{ id: 6, result: { decision: 'accept' } }]);
  });

  it('denies when the handler throws, rejects, or returns nothing', async () => {
    const handlers: ServerRequestHandler[] = [
      () => {
        throw new Error('boom');
      },
      async () => {
        throw new Error('boom');
      },
      async () => undefined,
    ];
    for (const h of handlers) {
      const { engine, sent, flush } = setup(h);
      engine.handleLine(approval(7));
      await flush();
      expect(sent).toEqual([{ id: 7, result: { decision: 'decline' } }]);
      expect(engine.stats.serverRequestsFailClosed).toBe(1);
    }
  });

  it('replaces an answer of the wrong shape with the denial', async () => {
    const { engine, sent, flush } = setup(async () => ({ result: { decision: 'yes please' } }));
    engine.handleLine(approval(8));
    await flush();
    expect(sent).toEqual([{ id: 8, result: { decision: 'decline' } }]);
  });

  it('answers unknown methods with -32601 and invalid params with a denial', async () => {
    const handler = vi.fn();
    const { engine, sent, flush } = setup(handler);
    engine.handleLine(JSON.stringify({ id: 9, method: 'brand/newThing', params: {} }));
    engine.handleLine(JSON.stringify({ id: 10, method: 'item/fileChange/requestApproval', params: { nope: 1 } }));
    await flush();
    expect(sent).toEqual([
      { id: 9, error: { code: -32601, message: 'method not found: brand/newThing' } },
      { id: 10, result: { decision: 'decline' } },
    ]);
    expect(handler).not.toHaveBeenCalled();
  });

  it('withdraws on serverRequest/resolved: the handler is aborted and nothing is sent', async () => {
    let seen: AbortSignal | undefined;
    const { engine, sent, flush } = setup((req) => {
      seen = req.signal;
      return new Promise(() => {});
    });
    engine.handleLine(approval(11));
    engine.handleLine(JSON.stringify({ method: 'serverRequest/resolved', params: { threadId: 'thr', requestId: 11 } }));
    await flush();
    expect(seen?.aborted).toBe(true);
    expect(sent).toEqual([]);
    expect(engine.stats.pendingServerRequests).toBe(0);
  });

  it('withdraws a thread’s requests and aborts all on disconnect', async () => {
    const signals: AbortSignal[] = [];
    const { engine, flush } = setup((req) => {
      signals.push(req.signal);
      return new Promise(() => {});
    });
    engine.handleLine(approval(12, 'a'));
    engine.handleLine(approval(13, 'b'));
    expect(engine.withdrawThread('a', 'turn ended')).toBe(1);
    expect(signals.map((s) => s.aborted)).toEqual([true, false]);
    engine.detach({ kind: 'exit', retryable: true, reason: 'gone' });
    await flush();
    expect(signals[1]!.aborted).toBe(true);
  });

  it('answers fail-closed at the backstop when a handler never decides', async () => {
    vi.useFakeTimers();
    const { engine, sent } = setup(() => new Promise(() => {}), 1000);
    engine.handleLine(approval(14));
    vi.advanceTimersByTime(1001);
    expect(sent).toEqual([{ id: 14, result: { decision: 'decline' } }]);
  });

  it('a late handler answer after the backstop is not sent twice', async () => {
    vi.useFakeTimers();
    let answer!: (v: unknown) => void;
    const { engine, sent } = setup(() => new Promise((r) => (answer = r as (v: unknown) => void)), 1000);
    engine.handleLine(approval(15));
    vi.advanceTimersByTime(1001);
    answer({ result: { decision: 'accept' } });
    await vi.runAllTimersAsync();
    expect(sent).toEqual([{ id: 15, result: { decision: 'decline' } }]);
  });
});
