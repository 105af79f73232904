// The metrics probe of a cluster node: its driver's counts, the shared queue's depth (bounded in
// time, so a slow database never hangs a scrape) and its postgres writers' grouping stats.
import type { Logger } from 'pino';
import type { ClusterProbe } from '../metrics/cluster-metrics.js';
import type { GroupedStats } from '../storage/postgres/grouped.js';
import { within } from '../util/clock.js';

export interface ClusterProbeSources {
  counts(): { held: number; running: number };
  /** One count of the shared queue (may be slow: the probe bounds it). */
  queueDepth(): Promise<number>;
  cluster: { groupedStats(): { fenced: GroupedStats; acquire: GroupedStats; enqueue: GroupedStats } };
  store: { groupedStats(): { append: GroupedStats } };
  log: Logger;
  /** How long a scrape waits for the count (default 1 s). */
  timeoutMs?: number;
}

export function clusterProbe(src: ClusterProbeSources): ClusterProbe {
  const timeoutMs = src.timeoutMs ?? 1000;
  // At most one count in flight: the queue gauge and the inbox gauge of one scrape share it, and
  // scrapes against a stalled database do not pile queries up.
  let inflight: Promise<number> | undefined;
  return {
    counts: () => src.counts(),
    grouped: () => ({ ...src.cluster.groupedStats(), ...src.store.groupedStats() }),
    async queueDepth() {
      const count = (inflight ??= src.queueDepth().finally(() => (inflight = undefined)));
      try {
        const depth = await within(count, timeoutMs, undefined);
        if (depth !== undefined) return depth;
        src.log.debug({ err: `no answer within ${timeoutMs} ms` }, 'shared queue depth not read for metrics');
      } catch (err) {
        src.log.debug({ err: (err as Error).message }, 'shared queue depth not read for metrics');
      }
      return Number.NaN;
    },
  };
}
