// A cluster node's metrics on a real PostgreSQL: its leases and running messages (a real
// ClusterDriver), the shared queue of every node, and its grouped writers' statements and writes.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterDriver } from '../../../src/cluster/driver.js';
import { candidateSessions } from '../../../src/cluster/candidates.js';
import { clusterProbe } from '../../../src/cluster/cluster-probe.js';
import { SwitchboardMetrics } from '../../../src/metrics/metrics.js';
import { hostProbe } from '../../../src/metrics/host-probe.js';
import type { QueuedMessage } from '../../../src/storage/cluster.js';
import { PostgresStore } from '../../../src/storage/postgres/store.js';
import { postgresPerFile } from '../../support/postgres.js';
import { memoryLogger } from '../../support/log.js';
import { ClusterTeardown, lastUserText, until } from '../../support/cluster-test.js';
import { createSupervisor } from '../../../src/supervisor/supervisor.js';
import { hostEndpoints } from '../../../src/web/service.js';
import { say } from '../../support/mock-model.js';
import { makeSandbox } from '../../support/sandbox.js';

const server = postgresPerFile();

const cleanup: Array<() => Promise<void>> = [];
const t = new ClusterTeardown();
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
  await t.run();
}, 60_000);

const msg = (text: string) => ({ room: 'r', channel: 'chat', thread: 'main', from: { id: 'ann' }, text });
const value = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('cluster metrics', () => {
  it("a node's scrape: leases held, messages running, the whole shared queue, and grouped writes per kind", async () => {
    const url = await server.freshDatabase();
    const [a, b] = [await PostgresStore.open(url), await PostgresStore.open(url)];
    cleanup.push(() => a.close(), () => b.close());
    const { log } = memoryLogger('warn');
    const sent: QueuedMessage[] = [];
    // Dispatched turns never end here: each conversation's first message stays running and queued.
    const driver = new ClusterDriver({
      cluster: a.cluster('a'),
      candidates: candidateSessions(a.pool, 'a'),
      ttlMs: 10_000,
      maxSessions: 8,
      pollMs: 100,
      dispatch: async (_s, entry) => (sent.push(entry), 'turn'),
      drop: () => undefined,
      sentAlready: async () => undefined,
      emit: () => undefined,
      log,
      turnStartTimeoutMs: 60_000,
    });
    cleanup.push(() => driver.stop());
    const probe = clusterProbe({ counts: () => driver.counts(), queueDepth: () => a.cluster('a').queueDepth(), cluster: a.cluster('a'), store: a, log });
    const metrics = new SwitchboardMetrics(hostProbe({ connections: () => [], roomClients: () => 0, inboxDepth: () => probe.queueDepth(), cluster: probe }), { defaultMetrics: false });
    cleanup.push(async () => metrics.dispose());

    // Posted on both nodes; this node's two posts of one moment go in one statement.
    await Promise.all([a.cluster('a').enqueue('r/chat/one', msg('1')), a.cluster('a').enqueue('r/chat/one', msg('2')), b.cluster('b').enqueue('r/chat/two', msg('3'))]);
    await a.append('r/chat/one', { kind: 'message', role: 'user', text: 'hello' });
    await driver.start();
    driver.wake();
    await until(() => sent.length === 2, 10_000);

    const { body } = await metrics.text();
    expect(value(body, 'switchboard_cluster_leases_held')).toBe(2);
    expect(value(body, 'switchboard_cluster_sessions_running')).toBe(2);
    // Every node's messages, acked none yet.
    expect(value(body, 'switchboard_cluster_queue_depth')).toBe(3);
    expect(value(body, 'switchboard_inbox_depth')).toBe(3);
    const stat = (kind: string) => ({
      statements: value(body, `switchboard_postgres_statements_total{kind="${kind}"}`)!,
      writes: value(body, `switchboard_postgres_writes_total{kind="${kind}"}`)!,
    });
    expect(stat('enqueue').writes).toBe(2);
    for (const kind of ['enqueue', 'acquire', 'fenced', 'append']) {
      const s = stat(kind);
      expect(s.statements, kind).toBeGreaterThanOrEqual(1);
      expect(s.writes, kind).toBeGreaterThanOrEqual(s.statements);
    }
  });

  it("a cluster host's /metrics has the cluster series, and its inbox depth is the shared queue's", async () => {
    t.box = await makeSandbox((req) => say(`re: ${lastUserText(req)}`));
    const url = await server.freshDatabase();
    const { log } = memoryLogger('warn');
    const config = {
      appServer: { env: t.box.env },
      agents: { defaults: { cwd: t.box.workspace } },
      storage: { kind: 'postgres', url },
      cluster: { node: 'a', leaseTtlMs: 10_000 },
    };
    const sb = createSupervisor(config as never, { log, baseDir: t.box.root, stateDir: path.join(t.box.root, 'a') });
    t.supervisors.push(sb);
    const done: string[] = [];
    sb.events$.subscribe((e) => e.type === 'message.completed' && done.push(e.text));
    await sb.start();
    const { metrics } = hostEndpoints(sb, () => 0, { log });
    t.closers.push(() => metrics.dispose());
    await sb.post({ room: 'lab', from: { id: 'ann', name: 'Ann' }, text: 'hi' });
    await until(() => done.length === 1);
    // A conversation another node holds: its message waits in the shared queue, not in this node's inbox.
    const other = await PostgresStore.open(url);
    t.closers.push(() => other.close());
    expect(await other.cluster('x').acquire('lab/chat/elsewhere', 60_000)).toBeDefined();
    await other.cluster('x').enqueue('lab/chat/elsewhere', { ...msg('waits'), room: 'lab' });
    // Acked once its turn ended: only the other node's message is left.
    await until(async () => value((await metrics.text()).body, 'switchboard_cluster_queue_depth') === 1);
    const { body } = await metrics.text();
    expect(value(body, 'switchboard_inbox_depth')).toBe(1);
    expect(value(body, 'switchboard_cluster_leases_held')).toBe(1);
    expect(value(body, 'switchboard_cluster_sessions_running')).toBe(0);
    for (const kind of ['enqueue', 'acquire', 'fenced']) {
      const statements = value(body, `switchboard_postgres_statements_total{kind="${kind}"}`)!;
      expect(statements, kind).toBeGreaterThanOrEqual(1);
      expect(value(body, `switchboard_postgres_writes_total{kind="${kind}"}`)!, kind).toBeGreaterThanOrEqual(statements);
    }
  }, 120_000);
});
