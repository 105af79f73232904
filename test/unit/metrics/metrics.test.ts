// The Prometheus series of a host: counters from room events, gauges from the probe at scrape time.
import { describe, expect, it } from 'vitest';
import { Subject } from 'rxjs';
import type { RoomEvent } from '../../../src/events/room-events.js';
import { SwitchboardMetrics, type MemberSample } from '../../../src/metrics/metrics.js';
import { hostProbe, rssBytes } from '../../../src/metrics/host-probe.js';
import type { ClusterProbe } from '../../../src/metrics/cluster-metrics.js';
import { clusterProbe } from '../../../src/cluster/cluster-probe.js';
import { memoryLogger } from '../../support/log.js';

const base = { session: 'lab/chat/main' };
const value = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('metrics', () => {
  it('counts turns by status with their duration, and approvals by kind and outcome', async () => {
    let members: MemberSample[] = [{ harness: 'codex', member: 'codex', restarts: 0, loadedThreads: 3, rssBytes: 150e6 }];
    const m = new SwitchboardMetrics({ members: async () => members, roomClients: () => 4, inboxDepth: () => 2 }, { defaultMetrics: false });
    const events = new Subject<RoomEvent>();
    m.observe(events);
    events.next({ ...base, type: 'turn.started', at: 1000, turnId: 't1', threadId: 'th', model: undefined });
    events.next({ ...base, type: 'turn.completed', at: 3500, turnId: 't1', threadId: 'th' });
    events.next({ ...base, type: 'turn.started', at: 4000, turnId: 't2', threadId: 'th', model: undefined });
    events.next({ ...base, type: 'turn.failed', at: 4100, turnId: 't2', threadId: 'th', error: 'boom' });
    events.next({ ...base, type: 'turn.failed', at: 4200, turnId: undefined, threadId: undefined, error: 'no thread' });
    events.next({ ...base, type: 'approval.requested', at: 1, approvalId: 'a1', turnId: 't1', kind: 'command', title: 'Run: ls', detail: {}, choices: ['accept', 'decline'], reviewer: 'user', expiresAt: undefined });
    events.next({ ...base, type: 'approval.resolved', at: 2, approvalId: 'a1', outcome: 'denied', decision: 'decline', by: 'ann', reason: 'declined' });
    const { body, contentType } = await m.text();
    expect(contentType).toMatch(/^text\/plain/);
    expect(value(body, 'switchboard_turns_total{status="completed"}')).toBe(1);
    expect(value(body, 'switchboard_turns_total{status="failed"}')).toBe(2);
    expect(value(body, 'switchboard_turn_duration_seconds_sum{status="completed"}')).toBe(2.5);
    expect(value(body, 'switchboard_turn_duration_seconds_count{status="failed"}')).toBe(1);
    expect(value(body, 'switchboard_approvals_total{kind="command",outcome="denied"}')).toBe(1);
    expect(value(body, 'switchboard_app_server_loaded_threads{harness="codex",member="codex"}')).toBe(3);
    expect(value(body, 'switchboard_app_server_rss_bytes{harness="codex",member="codex"}')).toBe(150e6);
    expect(value(body, 'switchboard_app_server_restarts_total{harness="codex",member="codex"}')).toBe(0);
    expect(value(body, 'switchboard_room_clients')).toBe(4);
    expect(value(body, 'switchboard_inbox_depth')).toBe(2);
    // Restarts are a counter over the connection's own total: scraped twice, counted once.
    members = [{ ...members[0]!, restarts: 2 }];
    await new Promise((r) => setTimeout(r, 5));
    await m.text();
    await new Promise((r) => setTimeout(r, 5));
    expect(value((await m.text()).body, 'switchboard_app_server_restarts_total{harness="codex",member="codex"}')).toBe(2);
    m.dispose();
  });

  it('probes connections: loaded threads over every page, RSS of a live pid, nothing from a connection that is not ready', async () => {
    const pages: Record<string, { data: string[]; nextCursor?: string | null }> = { '': { data: ['a', 'b'], nextCursor: 'p2' }, p2: { data: ['c'], nextCursor: null } };
    const ready = {
      status: () => ({ id: 'codex', state: 'running.ready', pid: process.pid, restarts: 1 }),
      request: async (_m: 'thread/loaded/list', p: { cursor?: string }) => pages[p.cursor ?? '']!,
    };
    const down = { status: () => ({ id: 'other', state: 'backoff', pid: undefined, restarts: 3 }), request: async () => Promise.reject(new Error('not called')) };
    const probe = hostProbe({ connections: () => [{ harness: 'codex', connection: ready }, { harness: 'b', connection: down }], roomClients: () => 0, inboxDepth: () => 0 });
    const [a, b] = await probe.members();
    expect(a).toMatchObject({ harness: 'codex', member: 'codex', restarts: 1, loadedThreads: 3 });
    expect(a!.rssBytes).toBeGreaterThan(10e6);
    expect(b).toMatchObject({ member: 'other', restarts: 3, loadedThreads: undefined, rssBytes: undefined });
    expect(await rssBytes(2 ** 22 + 12345)).toBeUndefined();
  });

  it('a cluster node adds its leases, running messages, shared queue depth and grouped writes; other hosts have none of them', async () => {
    const stats = { fenced: { statements: 3, writes: 7 }, acquire: { statements: 1, writes: 2 }, enqueue: { statements: 2, writes: 5 }, append: { statements: 0, writes: 0 } };
    const cluster: ClusterProbe = { counts: () => ({ held: 2, running: 1 }), queueDepth: async () => 9, grouped: () => stats };
    const m = new SwitchboardMetrics(hostProbe({ connections: () => [], roomClients: () => 0, inboxDepth: () => 9, cluster }), { defaultMetrics: false });
    let body = (await m.text()).body;
    expect(value(body, 'switchboard_cluster_leases_held')).toBe(2);
    expect(value(body, 'switchboard_cluster_sessions_running')).toBe(1);
    expect(value(body, 'switchboard_cluster_queue_depth')).toBe(9);
    expect(value(body, 'switchboard_postgres_statements_total{kind="fenced"}')).toBe(3);
    expect(value(body, 'switchboard_postgres_writes_total{kind="fenced"}')).toBe(7);
    expect(value(body, 'switchboard_postgres_writes_total{kind="enqueue"}')).toBe(5);
    expect(value(body, 'switchboard_postgres_statements_total{kind="append"}')).toBe(0);
    // Counters follow the writers' own totals: scraped again, not counted twice.
    stats.enqueue = { statements: 4, writes: 11 };
    body = (await m.text()).body;
    expect(value(body, 'switchboard_postgres_statements_total{kind="enqueue"}')).toBe(4);
    expect(value(body, 'switchboard_postgres_writes_total{kind="acquire"}')).toBe(2);
    m.dispose();
    const single = new SwitchboardMetrics({ members: async () => [], roomClients: () => 0, inboxDepth: () => 0 }, { defaultMetrics: false });
    expect((await single.text()).body).not.toMatch(/switchboard_cluster_|switchboard_postgres_/);
    single.dispose();
  });

  it('a shared queue count the database does not answer in time is NaN, logged at debug, and never two at once', async () => {
    const { log, records } = memoryLogger('debug');
    let counts = 0;
    const probe = clusterProbe({
      counts: () => ({ held: 0, running: 0 }),
      queueDepth: () => (counts++, new Promise<number>(() => undefined)),
      cluster: { groupedStats: () => ({ fenced: { statements: 0, writes: 0 }, acquire: { statements: 0, writes: 0 }, enqueue: { statements: 1, writes: 1 } }) },
      store: { groupedStats: () => ({ append: { statements: 2, writes: 3 } }) },
      log,
      timeoutMs: 50,
    });
    const m = new SwitchboardMetrics({ members: async () => [], roomClients: () => 0, inboxDepth: () => probe.queueDepth(), cluster: probe }, { defaultMetrics: false });
    const t0 = Date.now();
    const { body } = await m.text();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(body).toMatch(/^switchboard_cluster_queue_depth nan$/im);
    expect(body).toMatch(/^switchboard_inbox_depth nan$/im);
    expect(value(body, 'switchboard_postgres_writes_total{kind="append"}')).toBe(3);
    expect(counts).toBe(1);
    expect(records().some((r) => r.msg === 'shared queue depth not read for metrics' && r.level === 20)).toBe(true);
    m.dispose();
  });
});
