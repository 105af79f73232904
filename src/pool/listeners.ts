// Who listens to a pool: notifications by thread (or all), lifecycle events, and callers
// waiting for a member to change (a placement waiting for a member that takes new threads).
import type { Logger } from 'pino';
import type { InboundNotification } from '../protocol/notifications.js';
import type { SessionLifecycleEvent } from '../turn/runtime.js';
import type { TimerClock } from '../util/clock.js';

type Listener = (n: InboundNotification) => void;

export class PoolListeners {
  private readonly byThread = new Map<string, Set<Listener>>();
  private readonly everything = new Set<Listener>();
  private readonly lifecycle = new Set<(e: SessionLifecycleEvent) => void>();
  private waiters = new Set<() => void>();

  constructor(
    private readonly clock: Required<TimerClock>,
    private readonly log: Logger,
  ) {}

  /** Notifications of one thread; '*' for all. Returns the unsubscribe function. */
  subscribe(threadId: string, listener: Listener): () => void {
    if (threadId === '*') {
      this.everything.add(listener);
      return () => this.everything.delete(listener);
    }
    let set = this.byThread.get(threadId);
    if (!set) this.byThread.set(threadId, (set = new Set()));
    set.add(listener);
    return () => {
      set!.delete(listener);
      if (set!.size === 0) this.byThread.delete(threadId);
    };
  }

  notify(n: InboundNotification): void {
    if (n.threadId !== undefined) {
      const set = this.byThread.get(n.threadId);
      if (set) for (const l of set) l(n);
    }
    for (const l of this.everything) l(n);
  }

  onLifecycle(listener: (e: SessionLifecycleEvent) => void): () => void {
    this.lifecycle.add(listener);
    return () => this.lifecycle.delete(listener);
  }

  emit(e: SessionLifecycleEvent): void {
    for (const l of this.lifecycle) {
      try {
        l(e);
      } catch (err) {
        this.log.error({ err }, 'lifecycle listener threw');
      }
    }
  }

  /** Resolves at the next `wake()` or after `ms`; rejects when `signal` aborts. */
  changed(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = () => {
        this.clock.clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        done();
        reject(signal?.reason ?? new Error('aborted'));
      };
      const timer = this.clock.setTimeout(done, ms);
      this.waiters.add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  wake(): void {
    if (this.waiters.size === 0) return;
    const woken = this.waiters;
    this.waiters = new Set();
    for (const w of woken) w();
  }
}
