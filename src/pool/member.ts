// One member of a pool: its connection, its lifecycle actor (machines/pool-member.machine.ts)
// and the plain data the pool routes by: which threads are loaded in its current process and
// which of them have a turn in flight.
import { readFileSync } from 'node:fs';
import { createActor, fromPromise, type Actor, type InspectionEvent } from 'xstate';
import type { Connection } from '../connection/connection.js';
import { poolMemberMachine, type MemberSample, type PoolMemberMachine } from '../../machines/pool-member.machine.js';
import type { TimerClock } from '../util/clock.js';
import { effectiveLoaded, type MemberLoad, type PoolLimits } from './policy.js';

/** How long the pool waits for an old process to be gone before it lets its threads load elsewhere. */
const EXIT_WAIT_MS = 10_000;
const EXIT_POLL_MS = 20;

export interface PoolMemberOptions {
  conn: Connection;
  limits: PoolLimits;
  clock: Required<TimerClock>;
  sample: (member: PoolMember) => Promise<MemberSample>;
  inspect?: ((ev: InspectionEvent) => void) | undefined;
}

export class PoolMember {
  readonly id: string;
  readonly conn: Connection;
  readonly actor: Actor<PoolMemberMachine>;
  /** Threads loaded in the current process, bound through the pool. */
  readonly threads = new Set<string>();
  /** Threads with a turn in flight here (from `turn/start` until `turn/completed`). */
  readonly turns = new Set<string>();
  /** Bumped whenever the process goes away: an answer from an older process is not recorded. */
  generation = 0;
  /** The current process (spawned members). */
  pid: number | undefined;
  /** The connection failed or stopped (and has not been ready since). */
  ended = false;
  /** The connection's fast restarts are spent: it retries slowly (connection `degraded`). */
  outage: { reason: string; retryAt: number } | undefined;
  private exitWaiters: Array<() => void> = [];
  private readonly clock: Required<TimerClock>;

  constructor(o: PoolMemberOptions) {
    this.id = o.conn.id;
    this.conn = o.conn;
    this.clock = o.clock;
    const logic = poolMemberMachine.provide({
      actors: { sample: fromPromise<MemberSample, { memberId: string; pid: number | undefined }>(() => o.sample(this)) },
    });
    this.actor = createActor(logic, {
      id: `pool:${this.id}`,
      input: { memberId: this.id, limits: o.limits },
      clock: this.clock,
      ...(o.inspect ? { inspect: o.inspect } : {}),
    });
  }

  /** Ready and within its limits: it may take a new thread. */
  get accepting(): boolean {
    return this.conn.ready && this.actor.getSnapshot().hasTag('accepting');
  }

  load(): MemberLoad {
    const c = this.actor.getSnapshot().context;
    return { id: this.id, accepting: this.accepting, loaded: effectiveLoaded(c), busy: c.busy };
  }

  /** Where the member is in its lifecycle: `down`, `active`, `draining`, `recycling`. */
  get phase(): string {
    const v = this.actor.getSnapshot().value as { lifecycle: string | Record<string, string> };
    return typeof v.lifecycle === 'string' ? v.lifecycle : Object.keys(v.lifecycle)[0]!;
  }

  /** Resolves once the process running now has exited (bounded: see EXIT_WAIT_MS). */
  nextExit(): Promise<void> {
    return new Promise((resolve) => {
      const t = this.clock.setTimeout(resolve, EXIT_WAIT_MS);
      this.exitWaiters.push(() => (this.clock.clearTimeout(t), resolve()));
    });
  }

  /** Forget the threads and work of the current process (it is being replaced); returns the threads. */
  unload(): string[] {
    const threads = [...this.threads];
    this.threads.clear();
    this.turns.clear();
    this.generation++;
    return threads;
  }

  /** The connection lost its process: unload; `gone` resolves once the process has really exited. */
  processLost(): { threads: string[]; gone: Promise<void> } {
    const threads = this.unload();
    const pid = this.pid;
    this.pid = undefined;
    const waiters = this.exitWaiters;
    this.exitWaiters = [];
    const gone = this.waitGone(pid);
    void gone.then(() => {
      for (const w of waiters) w();
    });
    return { threads, gone };
  }

  /** Polls until `pid` is gone: a killed process may live for a few ms after the connection let go of it. */
  private async waitGone(pid: number | undefined): Promise<void> {
    if (pid === undefined) return;
    const until = this.clock.now() + EXIT_WAIT_MS;
    while (alive(pid) && this.clock.now() < until) {
      await new Promise<void>((r) => this.clock.setTimeout(r, EXIT_POLL_MS));
    }
  }
}

/** The process runs (a zombie has closed its files and released its threads: it counts as gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return true; // no /proc: trust the signal
  }
}
