// The connection actor: one app-server, from spawn to stop, with restarts.
//
//   idle → running(starting → initializing → ready | stopping) → stopped
//                ↘ backoff → running (fast restarts, bounded by the failure window)
//                ↘ degraded → running (slow retries, capped backoff, until it is back)
//                ↘ failed (terminal: only for faults a restart cannot fix)
//
// A transient fault never ends the connection: when the fast restarts are spent it is
// `degraded` (requests fail at once instead of waiting) and keeps retrying on a slow,
// capped schedule; the first successful handshake ends the outage (connection.recovered).
//
// Its IO (transport, handshake) and its clock come from `provideConnection()`, which the
// owner of the live handles (`Connection`) calls with closures; the bare `connectionMachine`
// only knows stand-ins (diagrams, graph exploration). It tells the world what happened with
// typed emitted events: connection.ready / .lost / .degraded / .recovered / .failed / .stopped.
//
// Readiness is the `ready` tag: `running.ready` is entered only after TRANSPORT.OPENED (the
// transport actor attaches the engine just before it reports that) and left in the same
// synchronous step in which the engine lets go of a dying transport (the transport actor
// detaches it and reports TRANSPORT.CLOSED at once), so "ready" implies "engine attached".
import { assign, emit, enqueueActions, fromCallback, fromPromise, sendTo, setup, type CallbackActorLogic, type PromiseActorLogic } from 'xstate';
import type { ConnectionActorInput, HandshakeInput, HandshakeOutput, TransportCommand, TransportEvent } from '../src/connection/actors.js';
import { checkVersion } from '../src/protocol/version.js';
import type { TransportExit } from '../src/transport/types.js';
import {
  defaultConnectionConfig,
  failureExit,
  nextOutage,
  restartDelay,
  restartExit,
  tooManyFailures,
  withFailure,
  type ConnectionClock,
  type ConnectionConfig,
  type Outage,
} from '../src/connection/policy.js';

export { defaultConnectionConfig, restartExit, type ConnectionClock, type ConnectionConfig, type Outage };

export interface ConnectionContext {
  connectionId: string;
  config: ConnectionConfig;
  pid: number | undefined;
  userAgent: string | undefined;
  version: string | undefined;
  restarts: number;
  /** Timestamps of recent failures (for the window), oldest first. */
  failures: number[];
  lastExit: TransportExit | undefined;
  error: string | undefined;
  warning: string | undefined;
  /** The engine is attached to this run's transport (TRANSPORT.OPENED seen, running not yet left). */
  engineAttached: boolean;
  /** Set while degraded (fast restarts spent), until a handshake succeeds again. */
  outage: Outage | undefined;
}

export type ConnectionEvent =
  | { type: 'START' }
  | { type: 'STOP' }
  | { type: 'RESTART'; reason: string }
  /** A planned restart (a pool member unloading its threads): not a failure, no backoff growth. */
  | { type: 'RECYCLE'; reason: string }
  | TransportEvent;

/** What the connection announces (consumed with `actor.on(...)`). */
export type ConnectionEmitted =
  | { type: 'connection.ready'; version: string | undefined; userAgent: string | undefined; restarts: number; warning: string | undefined }
  | { type: 'connection.lost'; reason: string; exit: TransportExit }
  /** Entered (or re-entered after a failed slow retry) the degraded state. */
  | { type: 'connection.degraded'; reason: string; since: number; attempt: number; retryAt: number; retryInMs: number }
  /** A handshake succeeded after an outage (emitted just before connection.ready). */
  | { type: 'connection.recovered'; since: number; attempts: number; reason: string }
  | { type: 'connection.failed'; reason: string; retryable: boolean }
  | { type: 'connection.stopped' };

export interface ConnectionInput {
  connectionId: string;
  config?: Partial<ConnectionConfig>;
}

/** The exit the engine was lost to when running is left: the transport's own, or the forced restart's; none for a close we asked for. */
function lostExit(event: ConnectionEvent): TransportExit | undefined {
  if (event.type !== 'TRANSPORT.CLOSED') return restartExit;
  return event.exit.intentional ? undefined : event.exit;
}

// Stand-ins of the bare machine: it has no transport and a frozen clock until provided.
const unprovidedTransport = fromCallback<TransportCommand, ConnectionActorInput, TransportEvent>(({ sendBack }) => {
  sendBack({ type: 'TRANSPORT.CLOSED', exit: { kind: 'error', retryable: false, reason: 'no transport provided (build the machine with provideConnection)' } });
});
const unprovidedHandshake = fromPromise<HandshakeOutput, HandshakeInput>(() => Promise.reject(new Error('no handshake provided')));
const frozenClock: ConnectionClock = { now: () => 0, random: () => 0 };

export const connectionMachine = setup({
  types: {
    context: {} as ConnectionContext,
    events: {} as ConnectionEvent,
    input: {} as ConnectionInput,
    emitted: {} as ConnectionEmitted,
    tags: {} as 'ready',
  },
  actors: { transport: unprovidedTransport, handshake: unprovidedHandshake },
  delays: {
    handshakeTimeout: ({ context }) => context.config.handshakeTimeoutMs,
    stopTimeout: ({ context }) => context.config.stopTimeoutMs,
    restartDelay: ({ context }) => restartDelay(context.config, context.failures.length, frozenClock.random()),
    // Computed once when the outage is recorded, so the announced retry time is the real one.
    degradedRetry: ({ context }) => context.outage?.delayMs ?? context.config.degradedBackoffBaseMs,
  },
  guards: {
    exitNotRetryable: (_, params: { exit: TransportExit }) => !params.exit.retryable,
    /** Already degraded, or one more failure fills the window: retry slowly from now on. */
    outOfFastRetries: ({ context }) => context.outage !== undefined || tooManyFailures(context.failures, frozenClock.now(), context.config),
    versionAccepted: ({ context }, params: { userAgent: string }) => checkVersion(params.userAgent, context.config.minVersion).ok,
    versionWarnOnly: ({ context }) => context.config.versionPolicy === 'warn',
  },
  actions: {
    recordExit: assign((_, params: { exit: TransportExit }) => ({ lastExit: params.exit, pid: undefined })),
    recordFailure: assign({ failures: ({ context }) => withFailure(context.failures, frozenClock.now(), context.config) }),
    recordHandshakeError: assign((_, params: { error: unknown }) => ({
      lastExit: failureExit(`handshake failed: ${String((params.error as Error | undefined)?.message ?? 'unknown')}`),
    })),
    recordHandshakeTimeout: assign({
      lastExit: ({ context }) => failureExit(`no initialize response within ${context.config.handshakeTimeoutMs} ms`),
    }),
    failWithExit: assign(({ context }, params: { exit: TransportExit | undefined }) => {
      const exit = params.exit ?? context.lastExit;
      // The server's own reason is in `reason` already: the raw tail would only bury it.
      const tail = exit?.stderrTail && !exit.appServerReason ? `; stderr: ${exit.stderrTail.slice(-500)}` : '';
      return { error: `${exit?.reason ?? 'connection failed'}${tail}` };
    }),
    enterDegraded: assign(({ context }) => {
      const outage = nextOutage(context.outage, context.config, context.lastExit, frozenClock.now(), frozenClock.random());
      return { outage, error: outage.reason };
    }),
    countRestart: assign({ restarts: ({ context }) => context.restarts + 1 }),
    recordOpen: assign((_, params: { pid: number | undefined }) => ({ pid: params.pid, engineAttached: true })),
    recordVersion: assign(({ context }, params: { userAgent: string }) => {
      const verdict = checkVersion(params.userAgent, context.config.minVersion);
      return {
        userAgent: params.userAgent,
        version: verdict.version,
        warning: verdict.ok ? undefined : verdict.message,
        error: verdict.ok || context.config.versionPolicy === 'warn' ? undefined : verdict.message,
      };
    }),
    clearError: assign({ error: undefined }),
    closeTransport: sendTo('transport', { type: 'CLOSE' } as TransportCommand),
    announceReady: emit(({ context }) => ({
      type: 'connection.ready' as const,
      version: context.version,
      userAgent: context.userAgent,
      restarts: context.restarts,
      warning: context.warning,
    })),
    // Entered from running: if the engine was attached and the close was not ours, the server is lost.
    announceLost: enqueueActions(({ context, event, enqueue }) => {
      const exit = context.engineAttached ? lostExit(event) : undefined;
      if (exit) enqueue.emit({ type: 'connection.lost', reason: exit.reason, exit });
      enqueue.assign({ engineAttached: false });
    }),
    announceDegraded: emit(({ context }) => {
      const o = context.outage!;
      return { type: 'connection.degraded' as const, reason: o.reason, since: o.since, attempt: o.attempts, retryAt: o.retryAt, retryInMs: o.delayMs };
    }),
    // Entered on ready: an outage ends here, and the fast-retry budget starts afresh.
    announceRecovered: enqueueActions(({ context, enqueue }) => {
      const o = context.outage;
      if (!o) return;
      enqueue.emit({ type: 'connection.recovered', since: o.since, attempts: o.attempts, reason: o.reason });
      enqueue.assign({ outage: undefined, failures: [] });
    }),
    announceFailed: emit(({ context }) => ({
      type: 'connection.failed' as const,
      reason: context.error ?? 'connection failed',
      retryable: context.lastExit?.retryable ?? false,
    })),
    announceStopped: emit({ type: 'connection.stopped' as const }),
  },
}).createMachine({
  id: 'connection',
  context: ({ input }) => ({
    connectionId: input.connectionId,
    config: { ...defaultConnectionConfig, ...input.config },
    pid: undefined,
    userAgent: undefined,
    version: undefined,
    restarts: 0,
    failures: [],
    lastExit: undefined,
    error: undefined,
    warning: undefined,
    engineAttached: false,
    outage: undefined,
  }),
  initial: 'idle',
  states: {
    idle: {
      on: { START: 'running', STOP: 'stopped' },
    },
    running: {
      invoke: { id: 'transport', src: 'transport', input: ({ context }) => ({ connectionId: context.connectionId }) },
      on: {
        'TRANSPORT.CLOSED': [
          {
            guard: { type: 'exitNotRetryable', params: ({ event }) => ({ exit: event.exit }) },
            target: 'failed',
            actions: [
              { type: 'recordExit', params: ({ event }) => ({ exit: event.exit }) },
              { type: 'failWithExit', params: ({ event }) => ({ exit: event.exit }) },
            ],
          },
          {
            guard: 'outOfFastRetries',
            target: 'degraded',
            actions: [{ type: 'recordExit', params: ({ event }) => ({ exit: event.exit }) }, 'enterDegraded'],
          },
          { target: 'backoff', actions: [{ type: 'recordExit', params: ({ event }) => ({ exit: event.exit }) }, 'recordFailure'] },
        ],
        STOP: '.stopping',
        RESTART: { target: 'backoff', actions: ['recordFailure'] },
        RECYCLE: 'backoff',
      },
      initial: 'starting',
      states: {
        starting: {
          on: { 'TRANSPORT.OPENED': { target: 'initializing', actions: { type: 'recordOpen', params: ({ event }) => ({ pid: event.pid }) } } },
          after: {
            handshakeTimeout: [
              { guard: 'outOfFastRetries', target: '#connection.degraded', actions: ['recordHandshakeTimeout', 'enterDegraded'] },
              { target: '#connection.backoff', actions: ['recordHandshakeTimeout', 'recordFailure'] },
            ],
          },
        },
        initializing: {
          invoke: {
            id: 'handshake',
            src: 'handshake',
            input: ({ context }) => ({ connectionId: context.connectionId, timeoutMs: context.config.handshakeTimeoutMs }),
            onDone: [
              {
                guard: { type: 'versionAccepted', params: ({ event }) => ({ userAgent: event.output.userAgent }) },
                target: 'ready',
                actions: { type: 'recordVersion', params: ({ event }) => ({ userAgent: event.output.userAgent }) },
              },
              {
                guard: 'versionWarnOnly',
                target: 'ready',
                actions: { type: 'recordVersion', params: ({ event }) => ({ userAgent: event.output.userAgent }) },
              },
              { target: '#connection.failed', actions: { type: 'recordVersion', params: ({ event }) => ({ userAgent: event.output.userAgent }) } },
            ],
            // A failed handshake on a live transport: restart it, fast while the window allows, slowly after.
            onError: [
              {
                guard: 'outOfFastRetries',
                target: '#connection.degraded',
                actions: [{ type: 'recordHandshakeError', params: ({ event }) => ({ error: event.error }) }, 'enterDegraded'],
              },
              { target: '#connection.backoff', actions: [{ type: 'recordHandshakeError', params: ({ event }) => ({ error: event.error }) }, 'recordFailure'] },
            ],
          },
        },
        ready: {
          tags: ['ready'],
          entry: ['clearError', 'announceRecovered', 'announceReady'],
        },
        stopping: {
          entry: 'closeTransport',
          on: { 'TRANSPORT.CLOSED': { target: '#connection.stopped', actions: { type: 'recordExit', params: ({ event }) => ({ exit: event.exit }) } } },
          after: { stopTimeout: '#connection.stopped' },
        },
      },
    },
    backoff: {
      entry: 'announceLost',
      after: { restartDelay: { target: 'running', actions: 'countRestart' } },
      on: { STOP: 'stopped', START: { target: 'running', actions: 'countRestart' } },
    },
    // The fast restarts are spent: requests fail at once (Connection.waitForReady) while this
    // waits out the slow, capped backoff and tries again; never final.
    degraded: {
      entry: ['announceLost', 'announceDegraded'],
      after: { degradedRetry: { target: 'running', actions: 'countRestart' } },
      on: { STOP: 'stopped' },
    },
    failed: { type: 'final', entry: ['announceLost', 'announceFailed'] },
    stopped: { type: 'final', entry: ['announceLost', 'announceStopped'] },
  },
});

export type ConnectionLogic = typeof connectionMachine;

/** The live dependencies of one connection: its IO actors and its clock. */
export interface ConnectionDeps {
  transport: CallbackActorLogic<TransportCommand, ConnectionActorInput, TransportEvent>;
  handshake: PromiseActorLogic<HandshakeOutput, HandshakeInput>;
  clock: ConnectionClock;
}

/** The connection machine wired to live handles (called by their owner, `Connection`). */
export function provideConnection(deps: ConnectionDeps): ConnectionLogic {
  const { clock } = deps;
  return connectionMachine.provide({
    actors: { transport: deps.transport, handshake: deps.handshake },
    guards: { outOfFastRetries: ({ context }) => context.outage !== undefined || tooManyFailures(context.failures, clock.now(), context.config) },
    actions: {
      recordFailure: assign({ failures: ({ context }) => withFailure(context.failures, clock.now(), context.config) }),
      enterDegraded: assign(({ context }) => {
        const outage = nextOutage(context.outage, context.config, context.lastExit, clock.now(), clock.random());
        return { outage, error: outage.reason };
      }),
    },
    delays: { restartDelay: ({ context }) => restartDelay(context.config, context.failures.length, clock.random()) },
  });
}
