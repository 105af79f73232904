// The series of a host that runs as a cluster node (`cluster` config, `postgres` storage): what
// it holds and runs, the shared queue, and how well its grouped writers group. Registered only
// on cluster nodes, read at scrape time.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { GroupedStats } from '../storage/postgres/grouped.js';

/** The grouped writers of postgres storage (grouped.ts), by what they write. */
export const GROUPED_KINDS = ['fenced', 'acquire', 'enqueue', 'append'] as const;
export type GroupedKind = (typeof GROUPED_KINDS)[number];

/** What the cluster series read at scrape time. */
export interface ClusterProbe {
  /** Conversations this node holds a lease for, and messages it runs now. */
  counts(): { held: number; running: number };
  /** Messages in the shared queue, all nodes; NaN when the database did not answer in time. */
  queueDepth(): Promise<number>;
  grouped(): Record<GroupedKind, GroupedStats>;
}

export function registerClusterMetrics(registry: Registry, probe: ClusterProbe): void {
  const registers = [registry];
  new Gauge({
    name: 'switchboard_cluster_leases_held',
    help: 'Conversations this node holds a lease for',
    registers,
    collect() {
      this.set(probe.counts().held);
    },
  });
  new Gauge({
    name: 'switchboard_cluster_sessions_running',
    help: 'Queued messages this node runs now',
    registers,
    collect() {
      this.set(probe.counts().running);
    },
  });
  new Gauge({
    name: 'switchboard_cluster_queue_depth',
    help: 'Messages in the shared inbox queue, all nodes (NaN when the database did not answer in time)',
    registers,
    async collect() {
      this.set(await probe.queueDepth());
    },
  });
  // The writers keep their own totals: each scrape sets the counters to them.
  const total = (name: string, help: string, field: keyof GroupedStats) =>
    new Counter({
      name,
      help,
      labelNames: ['kind'],
      registers,
      collect() {
        const stats = probe.grouped();
        this.reset();
        for (const kind of GROUPED_KINDS) this.inc({ kind }, stats[kind][field]);
      },
    });
  total('switchboard_postgres_statements_total', 'Statements the grouped postgres writers ran, by kind', 'statements');
  total('switchboard_postgres_writes_total', 'Writes the grouped postgres writers carried in those statements, by kind', 'writes');
}
