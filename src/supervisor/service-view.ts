// What a service manager and a metrics scraper read of a running host: is an app-server
// connection ready, which app-server connections there are, how deep the inbox is, and on a
// cluster node what it holds and runs.
import type { ProbedConnection } from '../metrics/host-probe.js';
import type { ClusterProbe } from '../metrics/cluster-metrics.js';
import type { Harness } from './harness.js';

export interface ServiceView {
  /** Ready when at least one harness has an app-server connection that is ready. */
  ready(): { ok: boolean; reason: string };
  connections(): Array<{ harness: string; connection: ProbedConnection }>;
  inboxDepth(): Promise<number> | number;
  /** Only when the host runs as a cluster node. */
  cluster?: ClusterProbe | undefined;
}

/** A harness that talks to app-servers: its connections (one, or a pool's members). */
function connectionsOf(h: Harness): ProbedConnection[] {
  const x = h as Harness & { appServers?: () => ProbedConnection[]; connection?: ProbedConnection };
  if (typeof x.appServers === 'function') return x.appServers();
  return x.connection && typeof x.connection.status === 'function' ? [x.connection] : [];
}

export function serviceView(harnesses: ReadonlyMap<string, Harness>, inboxDepth: () => Promise<number> | number, cluster?: ClusterProbe): ServiceView {
  const connections = () => [...harnesses].flatMap(([harness, h]) => connectionsOf(h).map((connection) => ({ harness, connection })));
  return {
    ready() {
      const all = connections();
      if (all.length === 0) return { ok: false, reason: 'no app-server connection' };
      const states = all.map(({ harness, connection }) => ({ harness, s: connection.status() }));
      if (states.some(({ s }) => s.state === 'running.ready')) return { ok: true, reason: 'an app-server connection is ready' };
      return { ok: false, reason: states.map(({ harness, s }) => `${harness}/${s.id}: ${s.state}`).join(', ') };
    },
    connections,
    inboxDepth,
    ...(cluster ? { cluster } : {}),
  };
}
