// What a pool reports: each member's connection status with its place in the pool (phase,
// loaded threads, RSS, work, recycles), and one summary in the shape of a connection's status.
import type { ConnectionStatus } from '../connection/connection.js';
import type { PoolMember } from './member.js';

export interface PoolMemberStatus extends ConnectionStatus {
  /** `down`, `active`, `draining` or `recycling`. */
  phase: string;
  loadedThreads: number;
  /** The last `thread/loaded/list` count of its process. */
  listedThreads: number | undefined;
  rssBytes: number | undefined;
  busy: number;
  recycles: number;
  /** Why it was last drained or recycled. */
  reason: string | undefined;
}

/** The pool as one connection (any member ready = ready), plus every member. */
export interface PoolStatus extends ConnectionStatus {
  members: PoolMemberStatus[];
}

export function poolStatus(id: string, members: readonly PoolMember[]): PoolStatus {
  const list = members.map((m): PoolMemberStatus => {
    const c = m.actor.getSnapshot().context;
    return {
      ...m.conn.status(),
      phase: m.phase,
      loadedThreads: m.threads.size,
      listedThreads: c.listed,
      rssBytes: c.rssBytes,
      busy: c.busy,
      recycles: c.recycles,
      reason: c.reason,
    };
  });
  const ready = list.find((s) => s.state === 'running.ready');
  const sum = (f: (s: PoolMemberStatus) => number) => list.reduce((n, s) => n + f(s), 0);
  const allIn = (state: string) => list.every((s) => s.state === state);
  return {
    id,
    state: ready ? 'running.ready' : allIn('failed') ? 'failed' : allIn('stopped') ? 'stopped' : list[0]!.state,
    transport: `pool of ${list.length}: ${[...new Set(list.map((s) => s.transport))].join(', ')}`,
    serverVersion: ready?.serverVersion ?? list[0]!.serverVersion,
    userAgent: ready?.userAgent ?? list[0]!.userAgent,
    pid: undefined,
    restarts: sum((s) => s.restarts),
    pending: sum((s) => s.pending),
    pendingServerRequests: sum((s) => s.pendingServerRequests),
    malformed: sum((s) => s.malformed),
    lateResponses: sum((s) => s.lateResponses),
    invalidNotifications: sum((s) => s.invalidNotifications),
    lastExit: list.find((s) => s.lastExit)?.lastExit,
    error: list.find((s) => s.error)?.error,
    warning: list.find((s) => s.warning)?.warning,
    // No member ready: the pool is back when the first retrying member is.
    outage: ready ? undefined : list.flatMap((s) => (s.outage ? [s.outage] : [])).sort((a, b) => a.retryAt - b.retryAt)[0],
    members: list,
  };
}

/** Paged `thread/loaded/list` of one connection (bounded: at most 100 pages). */
export async function listLoaded(
  conn: { request(method: 'thread/loaded/list', params: { cursor?: string }, opts: { signal: AbortSignal }): Promise<{ data: string[]; nextCursor?: string | null | undefined }> },
  signal: AbortSignal,
): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 100; page++) {
    const r = await conn.request('thread/loaded/list', cursor ? { cursor } : {}, { signal });
    out.push(...r.data);
    cursor = r.nextCursor ?? undefined;
    if (!cursor) break;
  }
  return out;
}
