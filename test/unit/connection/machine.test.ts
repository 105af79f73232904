// Drives the connection machine through every state over an in-memory scripted peer.
import { afterEach, describe, expect, it } from 'vitest';
import { createActor, setup, spawnChild } from 'xstate';
import { connectionMachine, defaultConnectionConfig } from '../../../machines/connection.machine.js';
import { restartDelay } from '../../../src/connection/policy.js';
import { Connection, type ConnectionLifecycleEvent } from '../../../src/connection/connection.js';
import { ConnectionUnavailableError, RpcError } from '../../../src/connection/errors.js';
import { FakePeer, type PeerScript } from '../../support/fake-peer.js';
import { TransportError, type TransportFactory } from '../../../src/transport/types.js';
import { memoryLogger } from '../../support/log.js';
import { waitFor } from '../../support/procs.js';

const fast = { backoffBaseMs: 5, backoffMaxMs: 20, jitter: 0, handshakeTimeoutMs: 200, stopTimeoutMs: 200 };
const open: Connection[] = [];

function connect(script: PeerScript = {}, extra: Partial<ConstructorParameters<typeof Connection>[0]> = {}) {
  const peer = new FakePeer(script);
  const { log, records } = memoryLogger();
  const conn = new Connection({ ...extra, transport: { kind: 'custom', open: peer.factory }, log, machine: { ...fast, ...(extra.machine ?? {}) } });
  const states: string[] = [];
  conn.actor.subscribe((s) => {
    const v = typeof s.value === 'string' ? s.value : `running.${String((s.value as { running: string }).running)}`;
    if (states.at(-1) !== v) states.push(v);
  });
  const events: ConnectionLifecycleEvent[] = [];
  conn.onLifecycle((e) => events.push(e));
  open.push(conn);
  return { peer, conn, states, events, records };
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.stop()));
});

describe('connection machine', () => {
  it('starting → initializing → ready → stopping → stopped', async () => {
    const { conn, states, peer } = connect();
    await conn.start();
    expect(conn.status()).toMatchObject({ state: 'running.ready', serverVersion: '0.169.0', pid: 4242, restarts: 0 });
    expect(peer.received.map((m) => m.method)).toEqual(['initialize', 'initialized']);
    await conn.stop();
    expect(states).toEqual(['idle', 'running.starting', 'running.initializing', 'running.ready', 'running.stopping', 'stopped']);
  });

  it('refuses an app-server older than 0.118.0 and does not retry', async () => {
    const { conn, peer, states } = connect({ userAgent: 'fake/0.100.0 (test)' });
    await expect(conn.start()).rejects.toThrow('Codex app-server 0.118.0 or newer is required, found 0.100.0');
    expect(states.at(-1)).toBe('failed');
    expect(peer.opens).toBe(1);
  });

  it('refuses an unversioned server, but accepts it under the warn-only policy', async () => {
    const refused = connect({ userAgent: 'forked-server' });
    await expect(refused.conn.start()).rejects.toThrow(/found unversioned "forked-server"/);
    const warned = connect({ userAgent: 'forked-server' }, { machine: { versionPolicy: 'warn' } });
    await warned.conn.start();
    expect(warned.conn.status().warning).toMatch(/0.118.0 or newer is required/);
    expect(warned.records().some((r) => r.msg === 'app-server version accepted by warn-only policy')).toBe(true);
  });

  it('honours a configured minimum version', async () => {
    const { conn } = connect({ userAgent: 'fake/0.150.0' }, { machine: { minVersion: '0.160.0' } });
    await expect(conn.start()).rejects.toThrow('Codex app-server 0.160.0 or newer is required, found 0.150.0');
  });

  it('rejects pending calls at once when the server dies, then restarts to ready', async () => {
    const { conn, peer, states, events } = connect({ onFrame: () => undefined });
    await conn.start();
    const pending = conn.request('model/list', {});
    await waitFor(() => conn.status().pending === 1);
    peer.crash({ kind: 'exit', code: null, signal: 'SIGKILL', retryable: true, reason: 'codex app-server exited on SIGKILL', stderrTail: 'last words' });
    await expect(pending).rejects.toThrow(/SIGKILL.*last words/);
    expect(events[events.length - 1]).toMatchObject({ type: 'lost', exit: { signal: 'SIGKILL' } });
    await conn.waitForReady(undefined, 2000);
    expect(states).toContain('backoff');
    expect(conn.status()).toMatchObject({ state: 'running.ready', restarts: 1, lastExit: 'codex app-server exited on SIGKILL' });
    expect(peer.opens).toBe(2);
  });

  it('goes degraded after too many failures in the window, fails requests at once, keeps retrying slowly and recovers by itself', async () => {
    const { conn, peer, states, events } = connect({}, { machine: { maxFailures: 3, degradedBackoffBaseMs: 40, degradedBackoffMaxMs: 80 } });
    await conn.start();
    peer.refuseOpens({ kind: 'error', retryable: true, reason: 'connect ECONNREFUSED 127.0.0.1:9' });
    peer.crash();
    await waitFor(() => conn.status().state === 'degraded', 2000);
    expect(conn.status().outage).toMatchObject({ attempts: 1, reason: 'app-server failed 3 times within 60000 ms; last: connect ECONNREFUSED 127.0.0.1:9' });
    // No waiting for a server that is not there: the request fails at once, saying why.
    const t0 = Date.now();
    const err = await conn.request('model/list', {}, { timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(100);
    expect(err).toBeInstanceOf(ConnectionUnavailableError);
    expect((err as Error).message).toMatch(/^the app-server is unavailable: app-server failed 3 times within 60000 ms; last: connect ECONNREFUSED .*; next retry at /);
    // Slow retries, each announced with its reason and its time: 40 ms, then capped at 80 ms.
    await waitFor(() => (conn.status().outage?.attempts ?? 0) >= 3, 2000);
    const degraded = events.flatMap((e) => (e.type === 'degraded' ? [e] : []));
    expect(degraded[0]!.retryAt - degraded[0]!.since).toBe(40);
    expect(degraded.map((e) => e.attempt).slice(0, 3)).toEqual([1, 2, 3]);
    expect(conn.status().outage?.reason).toMatch(/^app-server still unavailable after \d+ slow retr(y|ies); last: connect ECONNREFUSED/);
    // The server is back: the next slow retry ends the outage without anyone restarting anything.
    peer.refuseOpens(undefined);
    await waitFor(() => conn.ready, 2000);
    expect(events.map((e) => e.type).slice(-2)).toEqual(['recovered', 'ready']);
    expect(conn.status()).toMatchObject({ state: 'running.ready', outage: undefined, error: undefined });
    expect(states).toContain('degraded');
    expect(states).not.toContain('failed');
    // A fresh fast-retry budget: one crash after the recovery is a fast restart, not an outage.
    const outages = events.filter((e) => e.type === 'degraded').length;
    peer.crash();
    await conn.waitForReady(undefined, 2000);
    expect(events.filter((e) => e.type === 'degraded').length).toBe(outages);
    expect(conn.status().outage).toBeUndefined();
  });

  it('a degraded connection stays degraded while the server is down, and stops cleanly from there', async () => {
    const { conn, peer, states } = connect({}, { machine: { maxFailures: 2, degradedBackoffBaseMs: 10_000 } });
    await conn.start();
    peer.refuseOpens({ kind: 'error', retryable: true, reason: 'connect ECONNREFUSED' });
    peer.crash();
    await waitFor(() => conn.status().state === 'degraded', 2000);
    await expect(conn.waitForReady()).rejects.toBeInstanceOf(ConnectionUnavailableError);
    await conn.stop();
    expect(states.slice(-2)).toEqual(['degraded', 'stopped']);
  });

  it('does not retry non-retryable transport failures (auth)', async () => {
    const { conn, peer } = connect({
      refuseOpen: { kind: 'auth', retryable: false, reason: 'WebSocket app-server refused authentication (HTTP 401): check the auth token' },
    });
    await expect(conn.start()).rejects.toThrow(/HTTP 401/);
    expect(peer.opens).toBe(1);
    expect(conn.status().state).toBe('failed');
  });

  it('restarts a server that never answers initialize (handshake timeout), then degrades', async () => {
    const { conn, peer, states } = connect({ hangInitialize: true }, { machine: { maxFailures: 2, degradedBackoffBaseMs: 10_000 } });
    await expect(conn.start()).rejects.toThrow(/^the app-server is unavailable: app-server failed 2 times within 60000 ms; last: handshake failed: initialize got no response within 200 ms/);
    expect(states).toContain('backoff');
    expect(states.at(-1)).toBe('degraded');
    expect(peer.opens).toBe(2);
  });

  it('retries idempotent calls on -32001 with backoff, never non-idempotent ones', async () => {
    let overloads = 2;
    let starts = 0;
    const { conn } = connect(
      {
        onFrame: (msg) => {
          if (msg.method === 'model/list') {
            if (overloads-- > 0) return { id: msg.id, error: { code: -32001, message: 'overloaded' } };
            return { id: msg.id, result: { data: [], nextCursor: null } };
          }
          if (msg.method === 'thread/start') {
            starts++;
            return { id: msg.id, error: { code: -32001, message: 'overloaded' } };
          }
          return undefined;
        },
      },
      { overloadRetry: { attempts: 4, baseMs: 1, maxMs: 5 } },
    );
    await conn.start();
    await expect(conn.request('model/list', {})).resolves.toEqual({ data: [], nextCursor: null });
    expect(overloads).toBe(-1);
    const err = await conn.request('thread/start', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcError);
    expect(starts).toBe(1);
  });

  it('validates params before sending', async () => {
    const { conn, peer } = connect();
    await conn.start();
    await expect(conn.request('turn/start', { threadId: '', input: [] } as never)).rejects.toThrow(/invalid params for turn\/start/);
    expect(peer.received.filter((m) => m.method === 'turn/start')).toHaveLength(0);
  });

  it('a request made while restarting waits for ready', async () => {
    const { conn, peer } = connect({ onFrame: (m) => (m.method === 'model/list' ? { id: m.id, result: { data: [] } } : undefined) });
    await conn.start();
    peer.crash();
    const r = await conn.request('model/list', {}, { timeoutMs: 2000 });
    expect(r.data).toEqual([]);
  });

  it('routes notifications by thread and answers server requests fail-closed without a handler', async () => {
    const { conn, peer } = connect();
    await conn.start();
    const a: string[] = [];
    const all: string[] = [];
    const off = conn.subscribe('thr_a', (n) => a.push(n.method));
    conn.subscribe('*', (n) => all.push(n.method));
    peer.push({ method: 'turn/started', params: { threadId: 'thr_a', turn: { id: 't', status: 'inProgress' } } });
    peer.push({ method: 'turn/started', params: { threadId: 'thr_b', turn: { id: 't', status: 'inProgress' } } });
    peer.push({ method: 'future/notification', params: { threadId: 'thr_a' } });
    off();
    peer.push({ method: 'turn/started', params: { threadId: 'thr_a', turn: { id: 't2', status: 'inProgress' } } });
    expect(a).toEqual(['turn/started', 'future/notification']);
    expect(all).toHaveLength(4);
    peer.push({ id: 77, method: 'item/tool/requestUserInput', params: { threadId: 'thr_a', turnId: 't', itemId: 'i', questions: [] } });
    await waitFor(() => peer.received.some((m) => m.id === 77));
    expect(peer.received.find((m) => m.id === 77)).toEqual({ id: 77, result: { answers: {} } });
  });

  it('status counts malformed frames', async () => {
    const { conn, peer } = connect();
    await conn.start();
    peer.push('not json at all');
    peer.push('{"half":');
    expect(conn.status().malformed).toBe(2);
    expect(conn.ready).toBe(true);
  });

  it('a manual restart goes through backoff back to ready', async () => {
    const { conn, states } = connect();
    await conn.start();
    conn.restart('turn interrupt never completed');
    await waitFor(() => conn.status().restarts === 1 && conn.ready, 2000);
    expect(states.slice(-4)).toEqual(['backoff', 'running.starting', 'running.initializing', 'running.ready']);
  });

  it('stop from backoff goes straight to stopped', async () => {
    const { conn, peer, states } = connect({}, { machine: { backoffBaseMs: 10_000, backoffMaxMs: 10_000 } });
    await conn.start();
    peer.crash();
    await waitFor(() => conn.status().state === 'backoff');
    await conn.stop();
    expect(states.slice(-2)).toEqual(['backoff', 'stopped']);
  });
});

describe('restart races', () => {
  it('a late exit of the old transport never disconnects its replacement', async () => {
    const { log } = memoryLogger();
    const lateCloses: Array<() => void> = [];
    let opens = 0;
    const open: TransportFactory = async (handlers) => {
      const me = ++opens;
      return {
        pid: 1000 + me,
        description: `t${me}`,
        send: (text) => {
          const msg = JSON.parse(text) as { id?: number; method?: string };
          if (msg.id === undefined) return;
          const result = msg.method === 'initialize' ? { userAgent: 'fake/0.169.0' } : { data: [], nextCursor: null };
          queueMicrotask(() => handlers.onLine(JSON.stringify({ id: msg.id, result })));
        },
        // The old process takes its time to die: its exit arrives after the new one is up.
        close: async () => void lateCloses.push(() => handlers.onClose({ kind: 'exit', code: null, signal: 'SIGKILL', retryable: false, intentional: true, reason: 'closed by Switchboard' })),
      };
    };
    const conn = new Connection({ transport: { kind: 'custom', open }, log, machine: { backoffBaseMs: 1, jitter: 0 } });
    const events: ConnectionLifecycleEvent[] = [];
    conn.onLifecycle((e) => events.push(e));
    await conn.start();
    const pending = conn.request('model/list', {}, { timeoutMs: 0 }).catch((e: Error) => e);
    conn.restart('test: escalation');
    // Pending calls fail at once, not when the old server finally exits.
    expect(await pending).toBeInstanceOf(Error);
    expect(events.some((e) => e.type === 'lost')).toBe(true);
    await waitFor(() => conn.ready && opens === 2, 2000);
    for (const c of lateCloses.splice(0)) c();
    expect(conn.status().state).toBe('running.ready');
    await expect(conn.request('model/list', {}, { timeoutMs: 1000 })).resolves.toEqual({ data: [], nextCursor: null });
    await conn.stop();
  });
});

describe('what the machine announces, and what it is given', () => {
  it('emits connection.ready / lost / degraded / recovered / failed as typed events; lifecycle listeners follow them', async () => {
    const { conn, peer, events } = connect({}, { machine: { maxFailures: 2, degradedBackoffBaseMs: 30 } });
    const emitted: string[] = [];
    const types = ['connection.ready', 'connection.lost', 'connection.degraded', 'connection.recovered', 'connection.failed', 'connection.stopped'] as const;
    for (const type of types) conn.actor.on(type, (e) => emitted.push(e.type));
    const ready: Array<{ version: string | undefined; restarts: number }> = [];
    conn.actor.on('connection.ready', (e) => ready.push({ version: e.version, restarts: e.restarts }));
    const degraded: unknown[] = [];
    conn.actor.on('connection.degraded', (e) => degraded.push(e));
    await conn.start();
    peer.crash();
    await conn.waitForReady(undefined, 2000);
    peer.crash();
    await expect(conn.waitForReady(undefined, 2000)).rejects.toThrow(/failed 2 times/);
    expect(degraded).toEqual([expect.objectContaining({ attempt: 1, retryInMs: 30, reason: 'app-server failed 2 times within 60000 ms; last: fake peer crashed' })]);
    await conn.waitForReady(undefined, 2000).catch(() => undefined);
    await waitFor(() => conn.ready, 2000);
    expect(emitted).toEqual(['connection.ready', 'connection.lost', 'connection.ready', 'connection.lost', 'connection.degraded', 'connection.recovered', 'connection.ready']);
    expect(ready).toEqual([{ version: '0.169.0', restarts: 0 }, { version: '0.169.0', restarts: 1 }, { version: '0.169.0', restarts: 2 }]);
    expect(events.map((e) => e.type)).toEqual(['ready', 'lost', 'ready', 'lost', 'degraded', 'recovered', 'ready']);
    // Non-retryable: failed for good, with the reason.
    peer.crash({ kind: 'auth', retryable: false, reason: 'WebSocket app-server refused authentication (HTTP 401)' });
    await waitFor(() => conn.status().state === 'failed', 2000);
    expect(emitted.at(-1)).toBe('connection.failed');
    expect(conn.status().error).toBe('WebSocket app-server refused authentication (HTTP 401)');
    expect(conn.ready).toBe(false);
  });

  it('a graceful stop announces stopped and no loss', async () => {
    const { conn, events } = connect();
    const failed: unknown[] = [];
    conn.actor.on('connection.failed', (e) => failed.push(e));
    await conn.start();
    await conn.stop();
    expect(events.map((e) => e.type)).toEqual(['ready', 'stopped']);
    expect(failed).toEqual([]);
    await expect(conn.waitForReady()).rejects.toThrow('connection stopped');
  });

  it('the failure window runs on the injected clock', async () => {
    let now = 0;
    // Every reading is a minute and a half later: no two failures share a window.
    const clock = { now: () => (now += 90_000), random: () => 0 };
    const { conn, peer } = connect({}, { machine: { maxFailures: 2 }, clock });
    await conn.start();
    for (let i = 0; i < 3; i++) {
      peer.crash();
      await conn.waitForReady(undefined, 2000);
    }
    expect(conn.status()).toMatchObject({ state: 'running.ready', restarts: 3 });
  });

  it('hands out its machine for a parent to spawn, and adopts the child', async () => {
    const peer = new FakePeer({});
    const { log } = memoryLogger();
    const conn = new Connection({ id: 'conn:parented', transport: { kind: 'custom', open: peer.factory }, log, machine: fast, spawnedByParent: true });
    const parent = createActor(
      setup({ actors: { connection: conn.logic } }).createMachine({
        entry: spawnChild('connection', { id: conn.id, systemId: conn.id, input: conn.connectionInput() }),
      }),
    ).start();
    conn.adopt(parent.system.get(conn.id)!);
    await conn.start();
    expect(conn.status()).toMatchObject({ id: 'conn:parented', state: 'running.ready', pid: 4242 });
    await conn.stop();
    parent.stop();
  });

  it('a transport factory that throws is a failed open, not an actor error', async () => {
    const { log } = memoryLogger();
    const open: TransportFactory = () => {
      throw new TransportError({ kind: 'spawn-error', retryable: false, reason: 'spawn codex ENOENT' });
    };
    const conn = new Connection({ transport: { kind: 'custom', open }, log, machine: fast });
    await expect(conn.start()).rejects.toThrow('spawn codex ENOENT');
    expect(conn.status()).toMatchObject({ state: 'failed', restarts: 0 });
    expect(conn.actor.getSnapshot().status).toBe('done');
  });

  it('the bare machine has no transport: it fails at once, saying so', () => {
    const actor = createActor(connectionMachine, { input: { connectionId: 'bare' } }).start();
    actor.send({ type: 'START' });
    expect(actor.getSnapshot().status).toBe('done');
    expect(actor.getSnapshot().context.error).toMatch(/no transport provided/);
  });

  it('backoff doubles per failure up to the cap, spread by jitter', () => {
    const cfg = { ...defaultConnectionConfig, backoffBaseMs: 100, backoffMaxMs: 1_000, jitter: 0.5 };
    expect([1, 2, 3, 4, 5, 6].map((n) => restartDelay(cfg, n, 0))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(restartDelay(cfg, 1, 1)).toBe(150);
  });
});
