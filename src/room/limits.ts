// Resource limits of the room server: their defaults, token buckets for rates, and counters
// for connection caps. Every map here is bounded so an attacker cannot grow it without limit.

export interface RoomLimits {
  /** Largest frame a client may send (bytes). Room uploads (base64 images) must fit. */
  maxFrameBytes: number;
  /** Per-socket send buffer cap (ws.bufferedAmount); over it the socket is closed with 4408. */
  maxBufferedBytes: number;
  /** How long a slow consumer closed with 4408 may take to go away before it is cut off (ms). */
  slowConsumerGraceMs: number;
  /** A socket must send its join within this time (ms). */
  joinTimeoutMs: number;
  /** Records in the `joined` history page when the client asks for none (default page). */
  historyPage: number;
  /** The largest history page a client may ask for. */
  historyPageMax: number;
  /** Live events kept per room for `resume`. */
  replayEvents: number;
  /** Open approval requests tracked per room for `joined.pending`. */
  pendingApprovals: number;
  /** Several nodes: how long a join waits for the approvals other nodes hold before it sends only its own (ms). */
  pendingLookupMs: number;
  /** Messages (and decisions) per participant: bucket size and refill per second. */
  messageBurst: number;
  messagesPerSecond: number;
  /** Joins per participant: bucket size and refill per second. */
  joinBurst: number;
  joinsPerSecond: number;
  /** History page requests per socket: bucket size and refill per second. */
  historyBurst: number;
  historyPerSecond: number;
  /** Open sockets per remote address, and joined sockets per room. */
  maxConnectionsPerAddress: number;
  maxConnectionsPerRoom: number;
}

export const DEFAULT_ROOM_LIMITS: RoomLimits = {
  maxFrameBytes: 8 * 1024 * 1024,
  maxBufferedBytes: 4 * 1024 * 1024,
  slowConsumerGraceMs: 5_000,
  joinTimeoutMs: 5_000,
  historyPage: 200,
  historyPageMax: 1_000,
  replayEvents: 2_000,
  pendingApprovals: 200,
  pendingLookupMs: 2_000,
  messageBurst: 10,
  messagesPerSecond: 1,
  joinBurst: 10,
  joinsPerSecond: 0.5,
  historyBurst: 10,
  historyPerSecond: 2,
  maxConnectionsPerAddress: 64,
  maxConnectionsPerRoom: 256,
};

/** A token bucket: `take()` returns 0 when allowed, else the ms until a token is available. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.perSecond);
    this.last = t;
  }

  take(): number {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return this.perSecond > 0 ? Math.ceil(((1 - this.tokens) / this.perSecond) * 1000) : Number.MAX_SAFE_INTEGER;
  }

  /** Full again: forgetting it loses nothing. */
  get idle(): boolean {
    this.refill();
    return this.tokens >= this.burst;
  }
}

/** Token buckets keyed by participant. Full buckets are forgotten when the map grows. */
export class RateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
    private readonly maxKeys = 10_000,
  ) {}

  /** 0 when allowed, else the retry-after in ms. */
  take(key: string): number {
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxKeys) this.sweep();
      b = new TokenBucket(this.burst, this.perSecond);
      this.buckets.set(key, b);
    }
    return b.take();
  }

  private sweep(): void {
    for (const [k, b] of this.buckets) if (b.idle) this.buckets.delete(k);
    // Still full of active keys: drop the oldest rather than grow (fails open for them only).
    while (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
  }
}

/** Counts open things per key against a cap. */
export class Counter {
  private readonly counts = new Map<string, number>();

  constructor(private readonly cap: number) {}

  /** Counts one more for `key`; false (and nothing counted) when over the cap. */
  tryAdd(key: string): boolean {
    const n = this.counts.get(key) ?? 0;
    if (n >= this.cap) return false;
    this.counts.set(key, n + 1);
    return true;
  }

  remove(key: string): void {
    const n = (this.counts.get(key) ?? 0) - 1;
    if (n <= 0) this.counts.delete(key);
    else this.counts.set(key, n);
  }

  count(key: string): number {
    return this.counts.get(key) ?? 0;
  }
}
