// A pool seen as one connection through an outage: sessions hear `degraded` once every member
// is retrying slowly (not when only one is), a new thread fails at once instead of waiting for
// a member, and the first member back brings a `ready` for everyone. Members are fake
// connections driven by hand (the real connection's degraded state has its own tests).
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { Connection, ConnectionLifecycleEvent } from '../../../src/connection/connection.js';
import { ConnectionUnavailableError } from '../../../src/connection/errors.js';
import { ConnectionPool } from '../../../src/pool/pool.js';
import { noLimits } from '../../../src/pool/policy.js';
import type { SessionLifecycleEvent } from '../../../src/turn/runtime.js';

class FakeMember {
  ready = true;
  outage: { reason: string; retryAt: number; since: number; attempts: number } | undefined;
  private readonly lifecycle = new Set<(e: ConnectionLifecycleEvent) => void>();
  private threads = 0;
  constructor(readonly id: string) {}
  status() {
    return { id: this.id, state: this.ready ? 'running.ready' : 'degraded', pid: undefined, transport: 'fake', outage: this.outage };
  }
  subscribe() {
    return () => {};
  }
  onLifecycle(l: (e: ConnectionLifecycleEvent) => void) {
    this.lifecycle.add(l);
    return () => this.lifecycle.delete(l);
  }
  async start() {}
  async stop() {}
  async request(method: string) {
    if (!this.ready) throw new ConnectionUnavailableError('down', Date.now() + 1_000);
    if (method === 'thread/loaded/list') return { data: [] };
    return { thread: { id: `${this.id}-t${++this.threads}` } };
  }
  recycle() {}
  restart() {}
  withdrawServerRequests() {
    return 0;
  }
  setServerRequestHandler() {}
  emit(e: ConnectionLifecycleEvent) {
    this.ready = e.type === 'ready';
    this.outage = e.type === 'degraded' ? { reason: e.reason, retryAt: e.retryAt, since: e.since, attempts: e.attempt } : e.type === 'ready' ? undefined : this.outage;
    for (const l of this.lifecycle) l(e);
  }
  down(retryAt: number) {
    this.emit({ type: 'lost', exit: { kind: 'exit', retryable: true, reason: 'app-server exited' } as never });
    this.emit({ type: 'degraded', reason: `${this.id} refused`, since: 0, attempt: 1, retryAt });
  }
}

const pools: ConnectionPool[] = [];
afterEach(async () => {
  for (const p of pools.splice(0)) await p.stop();
});

async function pool() {
  const a = new FakeMember('a');
  const b = new FakeMember('b');
  const p = new ConnectionPool({
    id: 'codex',
    members: [a, b] as unknown as Connection[],
    limits: { ...noLimits, sampleEveryMs: 3_600_000 },
    log: pino({ level: 'silent' }),
    placeTimeoutMs: 5_000,
  });
  pools.push(p);
  const heard: SessionLifecycleEvent[] = [];
  p.onLifecycle((e) => heard.push(e));
  await p.start();
  for (const m of [a, b]) m.emit({ type: 'ready', version: '0.169.0', restarts: 0 });
  return { p, a, b, heard };
}

const start = (p: ConnectionPool) => p.request('thread/start', {} as never, { timeoutMs: 5_000 }) as Promise<{ thread: { id: string } }>;

describe('pool outage', () => {
  it('one member retrying slowly: only its threads are told, new threads go to the other member', async () => {
    const { p, a, heard } = await pool();
    const first = await start(p);
    expect(first.thread.id).toBe('a-t1');
    a.down(Date.now() + 30_000);
    expect(heard.map((e) => [e.type, e.threads && [...e.threads]])).toEqual([
      ['lost', ['a-t1']],
    ]);
    expect((await start(p)).thread.id).toBe('b-t1');
  });

  it('every member retrying: one degraded for everyone with the first retry due, new threads fail at once; the first back brings ready', async () => {
    const { p, a, b, heard } = await pool();
    const retryAt = Date.now() + 10_000;
    a.down(Date.now() + 30_000);
    b.down(retryAt);
    const wide = heard.filter((e) => e.threads === undefined);
    expect(wide).toHaveLength(1);
    expect(wide[0]).toMatchObject({ type: 'degraded', reason: 'b refused' });
    expect((wide[0] as { retryAt: number }).retryAt).toBe(retryAt);
    expect(p.status().outage?.reason).toBe('b refused');

    const t0 = Date.now();
    const err = await start(p).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionUnavailableError);
    expect((err as Error).message).toMatch(/every app-server of pool codex is retrying \(b refused\)/);
    expect(Date.now() - t0).toBeLessThan(1_000); // not the 5 s placement wait

    b.emit({ type: 'recovered', outageMs: 10_000, attempts: 2 });
    b.emit({ type: 'ready', version: '0.169.0', restarts: 3 });
    expect(heard.filter((e) => e.threads === undefined).map((e) => e.type)).toEqual(['degraded', 'ready']);
    expect(p.status().outage).toBeUndefined();
    expect((await start(p)).thread.id).toBe('b-t1');
  });

  it('every member failed for good: failed, not degraded', async () => {
    const { a, b, heard } = await pool();
    a.emit({ type: 'failed', error: 'auth refused' });
    b.emit({ type: 'failed', error: 'auth refused' });
    expect(heard.filter((e) => e.threads === undefined).map((e) => e.type)).toEqual(['failed']);
  });
});
