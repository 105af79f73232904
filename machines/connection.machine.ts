// The connection actor: one app-server, from spawn to stop, with restarts.
//
//   idle → running(starting → initializing → ready | stopping) → stopped
//                ↘ backoff → running (restart)      ↘ failed (terminal)
import { assign, sendTo, setup } from 'xstate';
import { handshakeActor, transportActor, type HandshakeOutput, type TransportEvent } from '../src/connection/actors.js';
import { checkVersion } from '../src/protocol/version.js';
import type { TransportExit } from '../src/transport/types.js';

export interface ConnectionConfig {
  minVersion: string;
  /** `warn` accepts older/unversioned servers (forks) with a warning. */
  versionPolicy: 'enforce' | 'warn';
  handshakeTimeoutMs: number;
  stopTimeoutMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** 0..1: fraction of random spread added to each backoff delay. */
  jitter: number;
  /** This many failures within `failureWindowMs` → failed. */
  maxFailures: number;
  failureWindowMs: number;
}

export const defaultConnectionConfig: ConnectionConfig = {
  minVersion: '0.118.0',
  versionPolicy: 'enforce',
  handshakeTimeoutMs: 20_000,
  stopTimeoutMs: 5_000,
  backoffBaseMs: 250,
  backoffMaxMs: 15_000,
  jitter: 0.2,
  maxFailures: 5,
  failureWindowMs: 60_000,
};

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
}

export type ConnectionEvent =
  | { type: 'START' }
  | { type: 'STOP' }
  | { type: 'RESTART'; reason: string }
  | TransportEvent;

export interface ConnectionInput {
  connectionId: string;
  config?: Partial<ConnectionConfig>;
}

const failureExit = (reason: string): TransportExit => ({ kind: 'error', retryable: true, reason });

export const connectionMachine = setup({
  types: {
    context: {} as ConnectionContext,
    events: {} as ConnectionEvent,
    input: {} as ConnectionInput,
  },
  actors: { transport: transportActor, handshake: handshakeActor },
  delays: {
    handshakeTimeout: ({ context }) => context.config.handshakeTimeoutMs,
    stopTimeout: ({ context }) => context.config.stopTimeoutMs,
    restartDelay: ({ context }) => {
      const { backoffBaseMs, backoffMaxMs, jitter } = context.config;
      const n = Math.max(0, context.failures.length - 1);
      const base = Math.min(backoffMaxMs, backoffBaseMs * 2 ** n);
      return Math.round(base * (1 + jitter * Math.random()));
    },
  },
  guards: {
    exitNotRetryable: ({ event }) => event.type === 'TRANSPORT.CLOSED' && !event.exit.retryable,
    tooManyFailures: ({ context }) => {
      const since = Date.now() - context.config.failureWindowMs;
      return context.failures.filter((t) => t >= since).length + 1 >= context.config.maxFailures;
    },
    versionAccepted: ({ context, event }) =>
      checkVersion((event as unknown as { output: HandshakeOutput }).output.userAgent, context.config.minVersion).ok,
    versionWarnOnly: ({ context }) => context.config.versionPolicy === 'warn',
  },
  actions: {
    recordExit: assign({
      lastExit: ({ event }) => (event.type === 'TRANSPORT.CLOSED' ? event.exit : undefined),
      pid: undefined,
    }),
    recordFailure: assign({
      failures: ({ context }) => {
        const since = Date.now() - context.config.failureWindowMs;
        return [...context.failures.filter((t) => t >= since), Date.now()];
      },
    }),
    recordHandshakeError: assign({
      lastExit: ({ event }) => failureExit(`handshake failed: ${String((event as unknown as { error: Error }).error?.message ?? 'unknown')}`),
    }),
    recordHandshakeTimeout: assign({
      lastExit: ({ context }) => failureExit(`no initialize response within ${context.config.handshakeTimeoutMs} ms`),
    }),
    failWithExit: assign({
      error: ({ context, event }) => {
        const exit = event.type === 'TRANSPORT.CLOSED' ? event.exit : context.lastExit;
        const tail = exit?.stderrTail ? `; stderr: ${exit.stderrTail.slice(-500)}` : '';
        return `${exit?.reason ?? 'connection failed'}${tail}`;
      },
    }),
    failTooMany: assign({
      error: ({ context }) =>
        `app-server failed ${context.config.maxFailures} times within ${context.config.failureWindowMs} ms; last: ${context.lastExit?.reason ?? 'unknown'}`,
    }),
    countRestart: assign({ restarts: ({ context }) => context.restarts + 1 }),
    recordPid: assign({ pid: ({ event }) => (event.type === 'TRANSPORT.OPENED' ? event.pid : undefined) }),
    recordVersion: assign(({ context, event }) => {
      const { userAgent } = (event as unknown as { output: HandshakeOutput }).output;
      const verdict = checkVersion(userAgent, context.config.minVersion);
      return {
        userAgent,
        version: verdict.version,
        warning: verdict.ok ? undefined : verdict.message,
        error: verdict.ok || context.config.versionPolicy === 'warn' ? undefined : verdict.message,
      };
    }),
    clearError: assign({ error: undefined }),
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
          { guard: 'exitNotRetryable', target: 'failed', actions: ['recordExit', 'failWithExit'] },
          { guard: 'tooManyFailures', target: 'failed', actions: ['recordExit', 'failTooMany'] },
          { target: 'backoff', actions: ['recordExit', 'recordFailure'] },
        ],
        STOP: '.stopping',
        RESTART: { target: 'backoff', actions: ['recordFailure'] },
      },
      initial: 'starting',
      states: {
        starting: {
          on: { 'TRANSPORT.OPENED': { target: 'initializing', actions: 'recordPid' } },
          after: { handshakeTimeout: { target: '#connection.backoff', actions: ['recordHandshakeTimeout', 'recordFailure'] } },
        },
        initializing: {
          invoke: {
            id: 'handshake',
            src: 'handshake',
            input: ({ context }) => ({ connectionId: context.connectionId, timeoutMs: context.config.handshakeTimeoutMs }),
            onDone: [
              { guard: 'versionAccepted', target: 'ready', actions: 'recordVersion' },
              { guard: 'versionWarnOnly', target: 'ready', actions: 'recordVersion' },
              { target: '#connection.failed', actions: 'recordVersion' },
            ],
            // A failed handshake on a live transport: restart it, bounded by the failure window.
            onError: [
              { guard: 'tooManyFailures', target: '#connection.failed', actions: ['recordHandshakeError', 'failTooMany'] },
              { target: '#connection.backoff', actions: ['recordHandshakeError', 'recordFailure'] },
            ],
          },
        },
        ready: {
          entry: ['clearError'],
        },
        stopping: {
          entry: sendTo('transport', { type: 'CLOSE' }),
          on: { 'TRANSPORT.CLOSED': { target: '#connection.stopped', actions: 'recordExit' } },
          after: { stopTimeout: '#connection.stopped' },
        },
      },
    },
    backoff: {
      after: { restartDelay: { target: 'running', actions: 'countRestart' } },
      on: { STOP: 'stopped', START: { target: 'running', actions: 'countRestart' } },
    },
    failed: { type: 'final' },
    stopped: { type: 'final' },
  },
});
