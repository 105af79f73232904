// The pool's placement and drain rules as pure functions of plain data: which member gets a
// new thread, and when a member is over its limits. The member machine's guards and the
// pool's placement call them; unit tests drive them directly.

export interface PoolLimits {
  /** Loaded threads at which a member takes no new thread (and is recycled once idle). */
  maxLoadedThreads: number | undefined;
  /** Resident memory above which a member takes no new thread (and is recycled once idle). */
  maxRssBytes: number | undefined;
  /** A member with loaded threads and no work for this long is recycled. */
  recycleIdleAfterMs: number | undefined;
  /** Spawned members can be restarted to unload their threads; remote ones cannot (limits do not apply). */
  recyclable: boolean;
  /** How often a member's RSS and `thread/loaded/list` are sampled. */
  sampleEveryMs: number;
  /** How long a drained member must have had no work before it is recycled. */
  drainGraceMs: number;
}

export const noLimits: PoolLimits = {
  maxLoadedThreads: undefined,
  maxRssBytes: undefined,
  recycleIdleAfterMs: undefined,
  recyclable: false,
  sampleEveryMs: 5_000,
  drainGraceMs: 1_000,
};

/** What placement knows of a member. */
export interface MemberLoad {
  id: string;
  /** Ready and within its limits: it may take a new thread. */
  accepting: boolean;
  /** Threads loaded (or being loaded) there. */
  loaded: number;
  /** Turns running and binds in flight. */
  busy: number;
}

/**
 * The member a new (or resumed) thread goes to: the accepting member with the fewest loaded
 * threads, then the fewest busy, then the first listed. Undefined when none accepts.
 */
export function placeMember(members: readonly MemberLoad[]): string | undefined {
  let best: MemberLoad | undefined;
  for (const m of members) {
    if (!m.accepting) continue;
    if (!best || m.loaded < best.loaded || (m.loaded === best.loaded && m.busy < best.busy)) best = m;
  }
  return best?.id;
}

/** What a member's limits are checked against. */
export interface MemberUsage {
  /** Switchboard's own count (thread/start and thread/resume it placed there). */
  loaded: number;
  /** The last `thread/loaded/list` count of the member's current process, if sampled. */
  listed: number | undefined;
  rssBytes: number | undefined;
}

/** The loaded-thread count to act on: the member's own list when it knows of more. */
export function effectiveLoaded(u: Pick<MemberUsage, 'loaded' | 'listed'>): number {
  return Math.max(u.loaded, u.listed ?? 0);
}

/** Why a member must take no new thread, or undefined while it is within its limits. */
export function overLimits(u: MemberUsage, limits: PoolLimits): string | undefined {
  if (!limits.recyclable) return undefined;
  const loaded = effectiveLoaded(u);
  if (limits.maxLoadedThreads !== undefined && loaded >= limits.maxLoadedThreads) {
    return `${loaded} loaded threads (limit ${limits.maxLoadedThreads})`;
  }
  if (limits.maxRssBytes !== undefined && u.rssBytes !== undefined && u.rssBytes > limits.maxRssBytes) {
    return `RSS ${mb(u.rssBytes)} MB (limit ${mb(limits.maxRssBytes)} MB)`;
  }
  return undefined;
}

/** An idle member is worth recycling: idle recycling is on, and it holds threads to unload. */
export function idleRecyclable(u: Pick<MemberUsage, 'loaded' | 'listed'>, limits: PoolLimits): boolean {
  return limits.recyclable && limits.recycleIdleAfterMs !== undefined && effectiveLoaded(u) > 0;
}

const mb = (bytes: number): number => Math.round(bytes / (1024 * 1024));
