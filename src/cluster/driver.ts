// Exactly one driver per conversation across the nodes sharing a postgres database. A node
// takes a conversation's lease before it runs the conversation's queued messages (one at a time,
// in posting order), keeps it renewed (LeaseKeeper), and on losing it stops driving that
// conversation at once: its session actor is dropped and nothing more is written for it (a
// write would be fenced anyway). A message an earlier driver had claimed (`reclaimed`) is
// checked against the Codex thread before it is sent again. A message whose turn does not start
// in time (turnStartWatch) is acked with a notice, so it cannot hold the queue.
import { createActor, fromPromise, type Actor } from 'xstate';
import type { Logger } from 'pino';
import { clusterDriverMachine } from '../../machines/cluster-driver.machine.js';
import { turnStartWatchMachine } from '../../machines/turn-start-watch.machine.js';
import type { RoomEvent } from '../events/room-events.js';
import { LeaseKeeper } from '../storage/lease-keeper.js';
import { FencedWriteError, type ClusterStore, type Lease, type QueuedMessage } from '../storage/cluster.js';
import { timerClock, type ClockOption } from '../util/clock.js';
import type { CandidateQuery } from './candidates.js';

export interface ClusterDriverOptions {
  cluster: ClusterStore;
  candidates: CandidateQuery;
  ttlMs: number;
  /** Conversations driven at once by this node. */
  maxSessions: number;
  /** Between scans of the shared queue when nothing wakes the driver (default 500 ms). */
  pollMs?: number;
  /** Run a claimed message; 'turn' when a turn follows (its end is awaited), 'none' when it was done with at once. */
  dispatch: (session: string, entry: QueuedMessage) => Promise<'turn' | 'none'>;
  /** Another node drives `session` now: stop its local actor without interrupting anything. */
  drop: (session: string) => void;
  /** The Codex thread of `session` when it already took `entry` (a reclaimed message). */
  sentAlready: (session: string, entry: QueuedMessage) => Promise<{ threadId: string } | undefined>;
  emit: (e: RoomEvent) => void;
  /** This node took the lease anew (a new epoch): e.g. close what an earlier driver left open. Must not throw. */
  acquired?: (lease: Lease) => Promise<void>;
  log: Logger;
  /** How long a dispatched message's turn may take to start before the message is given up (default 60 s). */
  turnStartTimeoutMs?: number;
  /** For the turn-start watch (default: the system clock). */
  clock?: ClockOption;
}

interface Running {
  lease: Lease;
  entry: QueuedMessage;
  /** Set once the turn that took the message started. */
  turnId?: string;
  /** Until the turn starts. */
  watch?: Actor<typeof turnStartWatchMachine>;
}

/** Messages of one conversation run one after the other before it waits for a scan like the others. */
const RUN_IN_A_ROW = 8;
/** Conversations a scan takes (lease, then claim) at the same time. */
const TAKE_AT_ONCE = 16;

const preview = (text: string): string => {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > 80 ? `${one.slice(0, 80)}…` : one;
};

export class ClusterDriver {
  readonly keeper: LeaseKeeper;
  /** Conversations this node holds a lease for (fencing reads node and epoch only: renewals change neither). */
  private readonly held = new Map<string, Lease>();
  /** Conversations this node drove and lost: nothing more of them is written here. */
  private readonly lost = new Set<string>();
  /** Per conversation: the message running now. */
  private readonly running = new Map<string, Running>();
  /** Finished messages whose ack failed (not fenced), by inbox id: tried again at each scan. */
  private readonly unacked = new Map<string, Lease>();
  /** Conversations whose next message finish() is claiming now. */
  private readonly continuing = new Set<string>();
  /** Per conversation: messages run in a row without a scan (finish() runs the next one at once). */
  private readonly streaks = new Map<string, number>();
  /** Idle leases being given up (makeRoom): a take of the same conversation waits for it. */
  private readonly releasing = new Map<string, Promise<void>>();
  private readonly actor: Actor<typeof clusterDriverMachine>;
  private stopped = false;

  constructor(private readonly o: ClusterDriverOptions) {
    this.keeper = new LeaseKeeper({ store: o.cluster, ttlMs: o.ttlMs, log: o.log, onLost: (lease, why) => this.lose(lease, why) });
    const machine = clusterDriverMachine.provide({ actors: { scan: fromPromise(() => this.scan()) } });
    this.actor = createActor(machine, { input: { node: o.cluster.node, pollMs: o.pollMs ?? 500 } });
    this.actor.on('driver.scanFailed', (e) => o.log.warn({ err: e.error }, 'cluster queue scan failed; retrying'));
  }

  get node(): string {
    return this.o.cluster.node;
  }

  async start(): Promise<void> {
    await this.keeper.start();
    this.actor.start();
  }

  /** Something was queued or finished on this node: scan now rather than at the next tick. */
  wake(): void {
    if (!this.stopped) this.actor.send({ type: 'WAKE' });
  }

  /** Whether this node drives `session` now. */
  drives(session: string): boolean {
    return this.held.has(session);
  }

  /** What history writes need: the lease of a conversation, whether it was lost here. */
  leaseOf(session: string): Lease | undefined {
    return this.held.get(session);
  }

  /** For metrics: conversations whose lease this node holds, messages it runs now. */
  counts(): { held: number; running: number } {
    return { held: this.held.size, running: this.running.size };
  }

  lostDriving(session: string): boolean {
    return this.lost.has(session);
  }

  /** A graceful stop gives every lease up, so another node takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.actor.getSnapshot().status === 'active') this.actor.send({ type: 'STOP' });
    this.actor.stop();
    await this.keeper.stop({ release: true });
    this.held.clear();
    for (const session of [...this.running.keys()]) this.forget(session);
  }

  private forget(session: string): void {
    this.streaks.delete(session);
    this.running.get(session)?.watch?.stop();
    this.running.delete(session);
  }

  private async scan(): Promise<void> {
    if (this.stopped) return;
    this.retryAcks();
    const ready = (await this.o.candidates(this.o.maxSessions * 2)).filter((s) => !this.running.has(s) && !this.continuing.has(s));
    // Capacity is what runs here; an idle conversation keeps its lease (and its thread loaded
    // here) until a new one needs the room, so a node never stops taking conversations.
    const picks = ready.slice(0, Math.max(0, this.o.maxSessions - this.running.size - this.continuing.size));
    this.makeRoom(picks, ready);
    // Each take is two round trips to the database (acquire, claim): taken a few at once, or
    // one node's scan would be bound by round-trip latency, not by its CPU.
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < picks.length && !this.stopped) await this.take(picks[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(TAKE_AT_ONCE, picks.length) }, worker));
  }

  /**
   * Gives up the leases of idle conversations so `picks` fit in maxSessions: first those with
   * nothing queued (least recently run first), then those queued but not picked now (`ready`):
   * a conversation about to get its next message keeps its lease and loaded thread if it can.
   */
  private makeRoom(picks: string[], ready: string[]): void {
    const wanted = new Set(picks);
    const queued = new Set(ready);
    let over = this.held.size + picks.filter((s) => !this.held.has(s)).length - this.o.maxSessions;
    const idle = [...this.held.keys()].filter((s) => !this.running.has(s) && !this.continuing.has(s) && !wanted.has(s));
    for (const session of [...idle.filter((s) => !queued.has(s)), ...idle.filter((s) => queued.has(s))]) {
      if (over-- <= 0) break;
      this.held.delete(session);
      const released = this.keeper
        .release(session)
        .catch((err: unknown) => this.o.log.warn({ err, session }, 'releasing an idle lease failed; it runs out instead'))
        .finally(() => this.releasing.delete(session));
      this.releasing.set(session, released);
      this.o.drop(session);
    }
  }

  private async take(session: string): Promise<void> {
    if (this.running.has(session) || this.continuing.has(session)) return;
    // Taken again while its release is on the way: after it, or the release could expire the new lease.
    await this.releasing.get(session);
    const held = this.keeper.current(session);
    const lease = held ?? (await this.keeper.acquire(session));
    if (!lease || this.stopped) return;
    // Re-inserted: `held` stays in least-recently-run order for makeRoom.
    this.held.delete(session);
    this.held.set(session, lease);
    this.lost.delete(session);
    // A new epoch: what an earlier driver left open is closed (nothing to do when the acquire saw none).
    if (!held && lease.openApprovals !== false) await this.o.acquired?.(lease);
    const entry = await this.o.cluster.claim(lease).catch((err: unknown) => this.fenced(lease, err));
    if (!entry) return;
    this.streaks.set(session, 1);
    this.begin(session, lease, entry);
  }

  private begin(session: string, lease: Lease, entry: QueuedMessage): void {
    this.running.set(session, { lease, entry });
    // Could not be run (Codex unreachable for the thread check, a dispatch that threw): the
    // lease is given up, so the next acquire (a new epoch) reclaims the message and checks again.
    void this.run(session, lease, entry).catch((err: unknown) => this.lose(lease, `running a queued message failed: ${(err as Error).message}`));
  }

  private async run(session: string, lease: Lease, entry: QueuedMessage): Promise<void> {
    if (entry.reclaimed) {
      const at = Date.now();
      const taken = await this.o.sentAlready(session, entry);
      if (taken) {
        // Codex took it on the node that stopped: that turn was cut off, its answer is lost.
        this.o.log.warn({ session, inbox: entry.id }, 'a reclaimed message was already taken by Codex: not sent again');
        this.o.emit({ type: 'turn.interrupted', session, at, turnId: entry.turnId ?? '', threadId: taken.threadId, reason: 'the node driving the conversation stopped' });
        this.o.emit({ type: 'notice', session, at, level: 'warning', text: `The node driving this conversation stopped during the turn for "${preview(entry.message.text)}"; that turn was interrupted and is not run again. Send it again if you still need it.` });
        return this.finish(session, lease, entry);
      }
      this.o.emit({ type: 'notice', session, at, level: 'info', text: `The node driving this conversation stopped before Codex took "${preview(entry.message.text)}"; node ${this.node} runs it now.` });
    }
    const kind = await this.o.dispatch(session, entry);
    if (kind === 'none') return this.finish(session, lease, entry);
    const r = this.running.get(session);
    if (r?.entry.id === entry.id && r.turnId === undefined) r.watch = this.watch(session, lease, entry);
  }

  /** A turn must start for `entry` in time, else the message is acked with a notice and the queue moves on. */
  private watch(session: string, lease: Lease, entry: QueuedMessage): Actor<typeof turnStartWatchMachine> {
    const timeoutMs = this.o.turnStartTimeoutMs ?? 60_000;
    const w = createActor(turnStartWatchMachine, { input: { session, entry: entry.id, timeoutMs }, clock: timerClock(this.o.clock) });
    w.on('watch.expired', () => {
      if (this.running.get(session)?.entry.id !== entry.id) return;
      this.o.log.warn({ session, inbox: entry.id, timeoutMs }, 'no turn started for a queued message: acked, the queue moves on');
      this.o.emit({ type: 'notice', session, at: timerClock(this.o.clock).now(), level: 'warning', text: `No turn started for "${preview(entry.message.text)}" within ${Math.round(timeoutMs / 1000)} s; it was taken off the queue so the next message can run. Send it again if you still need it.` });
      // Its session actor goes too (the next message starts a new one on the same thread): a turn
      // that started late would otherwise be taken for the next message's, and its end ack that one.
      this.o.drop(session);
      void this.finish(session, lease, entry);
    });
    return w.start();
  }

  /** Every room event of this node: a running message's turn start is recorded, its end acks it. */
  onEvent(e: RoomEvent): void {
    if ('action' in e && e.action !== undefined) return;
    const r = this.running.get(e.session);
    if (!r) return;
    if (e.type === 'turn.started') {
      r.turnId = e.turnId;
      r.watch?.send({ type: 'TURN.STARTED' });
      void this.o.cluster.take(r.lease, r.entry.id, e.turnId, e.threadId).catch((err: unknown) => this.fenced(r.lease, err));
    } else if (e.type === 'turn.completed' || e.type === 'turn.failed' || e.type === 'turn.interrupted') {
      if (e.turnId !== undefined && r.turnId !== undefined && e.turnId !== r.turnId) return;
      void this.finish(e.session, r.lease, r.entry);
    }
  }

  private async finish(session: string, lease: Lease, entry: QueuedMessage): Promise<void> {
    const streak = (this.streaks.get(session) ?? 1) + 1;
    // Finished twice (its own turn.interrupted event and the caller): the second only acks again.
    const mine = this.running.get(session)?.entry.id === entry.id;
    if (mine) this.forget(session);
    const acked = this.o.cluster.ack(lease, entry.id).catch((err: unknown) => this.ackFailed(lease, entry.id, err));
    // Affinity: the conversation's next message runs here at once, its lease held and its thread
    // loaded (no scan, no new lease, no thread resume), claimed in the same statement as the ack.
    // A few in a row only, so conversations waiting on other nodes' full plates get their turn.
    if (mine && streak <= RUN_IN_A_ROW && !this.stopped && this.held.get(session) === lease && !this.running.has(session)) {
      // Until the claim returns, a scan must not claim for it too (it would get the message after).
      this.continuing.add(session);
      const next = await this.o.cluster.claim(lease).catch((err: unknown) => this.fenced(lease, err));
      this.continuing.delete(session);
      await acked;
      if (next && this.held.get(session) === lease && !this.running.has(session) && !this.stopped) {
        this.streaks.set(session, streak);
        this.begin(session, lease, next);
        return;
      }
    } else await acked;
    this.streaks.delete(session);
    this.wake();
  }

  /**
   * An ack the database did not take (not fenced: a lost connection, say) is tried again at each
   * scan while the lease lasts: left in the queue, the message would come back at the next
   * takeover as a turn that was cut off.
   */
  private ackFailed(lease: Lease, id: string, err: unknown): void {
    if (err instanceof FencedWriteError) return void this.fenced(lease, err);
    this.o.log.warn({ err, session: lease.session, inbox: id }, 'acknowledging a finished message failed; trying again at the next scan');
    this.unacked.set(id, lease);
  }

  private retryAcks(): void {
    for (const [id, lease] of [...this.unacked]) {
      this.unacked.delete(id);
      if (this.held.get(lease.session) === lease) void this.o.cluster.ack(lease, id).catch((err: unknown) => this.ackFailed(lease, id, err));
    }
  }

  private fenced(lease: Lease, err: unknown): undefined {
    if (err instanceof FencedWriteError) this.lose(lease, err.message);
    else this.o.log.error({ err, session: lease.session }, 'cluster write failed');
    return undefined;
  }

  /** The lease is gone (taken over, or not renewed in time): stop driving at once. */
  private lose(lease: Lease, why: string): void {
    if (!this.held.delete(lease.session)) return;
    this.lost.add(lease.session);
    this.forget(lease.session);
    void this.keeper.release(lease.session).catch(() => undefined);
    this.o.log.warn({ session: lease.session, epoch: lease.epoch, why }, 'stopped driving a conversation: its lease was lost');
    this.o.drop(lease.session);
  }
}
