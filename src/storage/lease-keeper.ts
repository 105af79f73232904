// Keeps this node's session leases: renews them every few seconds (a third of the TTL) with a
// node heartbeat, and reports a lease lost — taken over (fenced), or not renewed in time
// because the database could not be reached — so the node stops driving that session at once.
import type { Logger } from 'pino';
import { FencedWriteError, type ClusterStore, type Lease } from './cluster.js';

export const DEFAULT_LEASE_TTL_MS = 10_000;

export interface LeaseKeeperOptions {
  store: ClusterStore;
  /** How long a lease lasts unrenewed (default 10 s): the longest a dead node holds a session. */
  ttlMs?: number;
  /** Renewal period (default a third of the TTL: two renewals may fail before it runs out). */
  renewEveryMs?: number;
  /** The lease is gone: stop driving its session now. Called once per lease. */
  onLost: (lease: Lease, why: string) => void;
  log?: Logger;
}

interface Held {
  lease: Lease;
  /** By this node's clock: past it the lease may have run out (the renewal was not confirmed). */
  deadline: number;
}

export class LeaseKeeper {
  private readonly held = new Map<string, Held>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  readonly ttlMs: number;
  private readonly every: number;

  constructor(private readonly o: LeaseKeeperOptions) {
    this.ttlMs = o.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    this.every = o.renewEveryMs ?? Math.max(50, Math.floor(this.ttlMs / 3));
  }

  /** Starts the heartbeat and renewals. */
  async start(): Promise<void> {
    await this.o.store.heartbeat();
    this.timer ??= setInterval(() => {
      // Checked every period even while a renewal hangs (an unreachable database): never drive past the deadline.
      for (const h of [...this.held.values()]) if (Date.now() + this.every >= h.deadline && this.ticking) this.lose(h, 'lease not renewed in time: the database did not answer');
      void this.tick();
    }, this.every);
  }

  /** The lease of `session` when it is free (or ours); kept renewed from now on. */
  async acquire(session: string): Promise<Lease | undefined> {
    const asked = Date.now();
    const lease = await this.o.store.acquire(session, this.ttlMs);
    if (lease) this.held.set(session, { lease, deadline: asked + this.ttlMs });
    return lease;
  }

  /** The lease this node holds for `session`, if it still does. */
  current(session: string): Lease | undefined {
    return this.held.get(session)?.lease;
  }

  async release(session: string): Promise<void> {
    const h = this.held.get(session);
    if (!h) return;
    this.held.delete(session);
    await this.o.store.release(h.lease);
  }

  /** One round: heartbeat, then every held lease renewed (or reported lost). */
  tick(): Promise<void> {
    this.ticking ??= this.round().finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async round(): Promise<void> {
    await this.o.store.heartbeat().catch((err: Error) => this.o.log?.warn({ err: err.message }, 'node heartbeat failed'));
    await Promise.all([...this.held.values()].map((h) => this.renew(h)));
  }

  private async renew(h: Held): Promise<void> {
    const asked = Date.now();
    try {
      const lease = await this.o.store.renew(h.lease, this.ttlMs);
      if (this.held.get(lease.session) === h) this.held.set(lease.session, { lease, deadline: asked + this.ttlMs });
    } catch (err) {
      if (err instanceof FencedWriteError) return this.lose(h, err.message);
      // Not confirmed: keep trying while the lease may still be ours, give it up before another node may take it.
      if (Date.now() + this.every >= h.deadline) return this.lose(h, `lease not renewed in time: ${(err as Error).message}`);
      this.o.log?.warn({ session: h.lease.session, err: (err as Error).message }, 'lease renewal failed; retrying');
    }
  }

  private lose(h: Held, why: string): void {
    if (this.held.get(h.lease.session) !== h) return;
    this.held.delete(h.lease.session);
    this.o.log?.warn({ session: h.lease.session, epoch: h.lease.epoch, why }, 'session lease lost');
    this.o.onLost(h.lease, why);
  }

  /** Stops renewing; `release` gives every held lease up (a graceful stop), else they run out. */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
    const held = [...this.held.values()];
    this.held.clear();
    if (opts.release) await Promise.all(held.map((h) => this.o.store.release(h.lease).catch(() => undefined)));
  }
}
