// The pool member actor: the lifecycle of one app-server of a pool, as the pool sees it.
// Parallel regions:
//
//   lifecycle: down → active(working ⇄ idle) → draining(working ⇄ quiet) → recycling → active
//                        ↘ (idle for recycleIdleAfterMs) ────────────↗
//   probe:     waiting ⇄ sampling                      (RSS and thread/loaded/list)
//
// `active` is the only state that takes new threads (tag `accepting`). A member over its
// limits (loaded threads, RSS) is drained: it keeps serving the threads it has but takes no
// new one, and is recycled once it has had no work (no turn running, no bind in flight) for
// the drain grace. An
// active member whose threads have had no work for `recycleIdleAfterMs` is recycled too, which
// unloads them all. Recycling itself (unloading, restarting the process) is the pool's job: the
// machine announces it with `member.recycle` and waits for the connection to be ready again.
//
// The counts come in as events from the pool (which sees every request and notification);
// the sampling actor is provided by the pool (`poolMemberMachine.provide({ actors: { sample } })`).
import { assign, emit, fromPromise, setup } from 'xstate';
import { effectiveLoaded, idleRecyclable, overLimits, type PoolLimits } from '../src/pool/policy.js';
import { MAX_TIMER_MS } from '../src/turn/limits.js';

export interface PoolMemberInput {
  memberId: string;
  limits: PoolLimits;
}

export interface PoolMemberContext {
  memberId: string;
  limits: PoolLimits;
  /** The current process (undefined while down, or for a remote member). */
  pid: number | undefined;
  /** Threads placed on the current process (a reservation counts from the moment of placement). */
  loaded: number;
  /** The last `thread/loaded/list` count of the current process. */
  listed: number | undefined;
  rssBytes: number | undefined;
  /** Turns running and binds in flight. */
  busy: number;
  /** Why it was last drained or recycled. */
  reason: string | undefined;
  recycles: number;
}

export interface MemberSample {
  pid: number | undefined;
  rssBytes: number | undefined;
  listed: number | undefined;
}

export type PoolMemberEvent =
  | { type: 'CONNECTION.READY'; pid: number | undefined }
  /** The process is gone (crashed, or restarted by the connection). */
  | { type: 'CONNECTION.LOST' }
  /** The connection failed or stopped: no process until it is ready again. */
  | { type: 'CONNECTION.ENDED' }
  | { type: 'THREAD.PLACED' }
  /** A placement whose thread/start or thread/resume failed. */
  | { type: 'THREAD.RELEASED' }
  | { type: 'WORK.STARTED' }
  | { type: 'WORK.ENDED' };

export type PoolMemberEmitted =
  | { type: 'member.accepting'; memberId: string }
  | { type: 'member.draining'; memberId: string; reason: string }
  | { type: 'member.recycle'; memberId: string; reason: string }
  | { type: 'member.down'; memberId: string };

const fresh = { loaded: 0, listed: undefined, rssBytes: undefined, busy: 0 } as const;

export const poolMemberMachine = setup({
  types: {
    context: {} as PoolMemberContext,
    events: {} as PoolMemberEvent,
    input: {} as PoolMemberInput,
    emitted: {} as PoolMemberEmitted,
    tags: {} as 'accepting',
  },
  actors: {
    sample: fromPromise<MemberSample, { memberId: string; pid: number | undefined }>(() => Promise.reject(new Error('pool member: sample was not provided'))),
  },
  delays: {
    // Disabled idle recycling never reaches this state (see `idleWithThreads`); the cap keeps Node's timer sane.
    recycleIdle: ({ context }) => Math.min(context.limits.recycleIdleAfterMs ?? MAX_TIMER_MS, MAX_TIMER_MS),
    sampleEvery: ({ context }) => context.limits.sampleEveryMs,
    drainGrace: ({ context }) => context.limits.drainGraceMs,
  },
  guards: {
    overLimits: ({ context }) => overLimits(context, context.limits) !== undefined,
    idleWithThreads: ({ context }) => context.busy === 0 && idleRecyclable(context, context.limits),
    notIdle: ({ context }) => context.busy > 0 || !idleRecyclable(context, context.limits),
    noWork: ({ context }) => context.busy === 0,
    hasWork: ({ context }) => context.busy > 0,
  },
  actions: {
    freshProcess: assign((_, p: { pid: number | undefined }) => ({ ...fresh, pid: p.pid })),
    unload: assign({ ...fresh, pid: undefined }),
    placed: assign({ loaded: ({ context }) => context.loaded + 1 }),
    released: assign({ loaded: ({ context }) => Math.max(0, context.loaded - 1) }),
    workStarted: assign({ busy: ({ context }) => context.busy + 1 }),
    workEnded: assign({ busy: ({ context }) => Math.max(0, context.busy - 1) }),
    recordSample: assign(({ context }, s: MemberSample) =>
      // A sample of a process that has since been replaced says nothing about this one.
      s.pid !== context.pid ? {} : { rssBytes: s.rssBytes ?? context.rssBytes, listed: s.listed ?? context.listed },
    ),
    recordDrain: assign({ reason: ({ context }) => overLimits(context, context.limits) }),
    recordIdle: assign({
      reason: ({ context }) => `${effectiveLoaded(context)} threads idle for ${context.limits.recycleIdleAfterMs} ms`,
    }),
    countRecycle: assign({ recycles: ({ context }) => context.recycles + 1 }),
    announceAccepting: emit(({ context }) => ({ type: 'member.accepting' as const, memberId: context.memberId })),
    announceDraining: emit(({ context }) => ({ type: 'member.draining' as const, memberId: context.memberId, reason: context.reason ?? 'over its limits' })),
    announceRecycle: emit(({ context }) => ({ type: 'member.recycle' as const, memberId: context.memberId, reason: context.reason ?? 'recycled' })),
    announceDown: emit(({ context }) => ({ type: 'member.down' as const, memberId: context.memberId })),
  },
}).createMachine({
  id: 'member',
  type: 'parallel',
  context: ({ input }) => ({
    memberId: input.memberId,
    limits: input.limits,
    pid: undefined,
    ...fresh,
    reason: undefined,
    recycles: 0,
  }),
  on: {
    'THREAD.PLACED': { actions: 'placed' },
    'THREAD.RELEASED': { actions: 'released' },
    'WORK.STARTED': { actions: 'workStarted' },
    'WORK.ENDED': { actions: 'workEnded' },
  },
  states: {
    lifecycle: {
      initial: 'down',
      on: { 'CONNECTION.ENDED': { target: '.down', actions: ['unload', 'announceDown'] } },
      states: {
        down: {
          on: {
            'CONNECTION.ENDED': {},
            'CONNECTION.READY': { target: 'active', actions: { type: 'freshProcess', params: ({ event }) => ({ pid: event.pid }) } },
          },
        },
        active: {
          tags: ['accepting'],
          entry: 'announceAccepting',
          always: { guard: 'overLimits', target: 'draining', actions: 'recordDrain' },
          on: { 'CONNECTION.LOST': { target: 'down', actions: ['unload', 'announceDown'] } },
          initial: 'working',
          states: {
            working: { always: { guard: 'idleWithThreads', target: 'idle' } },
            idle: {
              always: { guard: 'notIdle', target: 'working' },
              after: { recycleIdle: { target: '#member.lifecycle.recycling', actions: 'recordIdle' } },
            },
          },
        },
        // Serves the threads it has, takes no new one; recycled once nothing has run there for
        // the drain grace (a thread just bound gets to start its turn first).
        draining: {
          entry: 'announceDraining',
          on: { 'CONNECTION.LOST': { target: 'down', actions: ['unload', 'announceDown'] } },
          initial: 'working',
          states: {
            working: { always: { guard: 'noWork', target: 'quiet' } },
            quiet: {
              always: { guard: 'hasWork', target: 'working' },
              after: { drainGrace: '#member.lifecycle.recycling' },
            },
          },
        },
        // The pool unloads the threads and restarts the process; the loss that follows is expected.
        recycling: {
          entry: ['countRecycle', 'announceRecycle', 'unload'],
          on: { 'CONNECTION.READY': { target: 'active', actions: { type: 'freshProcess', params: ({ event }) => ({ pid: event.pid }) } } },
        },
      },
    },
    probe: {
      initial: 'waiting',
      states: {
        waiting: { after: { sampleEvery: 'sampling' } },
        sampling: {
          invoke: {
            id: 'sample',
            src: 'sample',
            input: ({ context }) => ({ memberId: context.memberId, pid: context.pid }),
            onDone: { target: 'waiting', actions: { type: 'recordSample', params: ({ event }) => event.output } },
            // A failed sample (member restarting, slow) is simply skipped; the next one may succeed.
            onError: 'waiting',
          },
        },
      },
    },
  },
});

export type PoolMemberMachine = typeof poolMemberMachine;
