// The metrics probe of a running host: each app-server connection's restarts, loaded threads
// (`thread/loaded/list`, bounded in time) and RSS (/proc, spawned app-servers only).
import { groupRssBytes } from './process-rss.js';
import type { MemberSample, MetricsProbe } from './metrics.js';
import type { ClusterProbe } from './cluster-metrics.js';

/** What the probe needs of one app-server connection. */
export interface ProbedConnection {
  status(): { id: string; state: string; pid: number | undefined; restarts: number };
  request(method: 'thread/loaded/list', params: { cursor?: string }, opts: { signal: AbortSignal }): Promise<{ data: string[]; nextCursor?: string | null | undefined }>;
}

export interface HostProbeSources {
  /** Each harness with its app-server connections. */
  connections(): Array<{ harness: string; connection: ProbedConnection }>;
  roomClients(): number;
  inboxDepth(): Promise<number> | number;
  /** Only on a cluster node. */
  cluster?: ClusterProbe | undefined;
  /** Per-call bound of `thread/loaded/list` (default 2 s). */
  timeoutMs?: number;
}

async function loadedThreads(c: ProbedConnection, timeoutMs: number): Promise<number | undefined> {
  if (c.status().state !== 'running.ready') return undefined;
  const signal = AbortSignal.timeout(timeoutMs);
  let n = 0;
  let cursor: string | undefined;
  try {
    for (let page = 0; page < 100; page++) {
      const r = await c.request('thread/loaded/list', cursor ? { cursor } : {}, { signal });
      n += r.data.length;
      cursor = r.nextCursor ?? undefined;
      if (!cursor) return n;
    }
    return n;
  } catch {
    // A scrape must not fail because one app-server is slow or restarting.
    return undefined;
  }
}

export { rssBytes } from './process-rss.js';

export function hostProbe(src: HostProbeSources): MetricsProbe {
  const timeoutMs = src.timeoutMs ?? 2000;
  return {
    async members(): Promise<MemberSample[]> {
      return Promise.all(
        src.connections().map(async ({ harness, connection }) => {
          const s = connection.status();
          return {
            harness,
            member: s.id,
            restarts: s.restarts,
            loadedThreads: await loadedThreads(connection, timeoutMs),
            // The launcher and the native server it starts: the whole process group.
            rssBytes: s.pid !== undefined ? await groupRssBytes(s.pid) : undefined,
          };
        }),
      );
    },
    roomClients: () => src.roomClients(),
    inboxDepth: () => src.inboxDepth(),
    ...(src.cluster ? { cluster: src.cluster } : {}),
  };
}
