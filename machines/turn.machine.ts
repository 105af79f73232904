// The turn actor: one Codex turn, from `turn/start` to its end.
//
//   subscribing → starting → running(active ⇄ waiting) → completed | failed | interrupted
//                                  ↘ interrupting (/stop, watchdog) → … | escalating → …
//
// The stream actor (`src/turn/actors.ts`) is subscribed to the thread before `turn/start`
// is sent and forwards streamed deltas straight to the room; this machine only sees
// lifecycle facts. Timeouts are `after` transitions with named delays.
import { assign, enqueueActions, sendTo, setup } from 'xstate';
import type { UserInput } from '../src/protocol/common.js';
import { ConnectionLostError, RpcError } from '../src/connection/errors.js';
import { interruptTurnActor, startTurnActor, streamActor, type StreamEvent } from '../src/turn/actors.js';
import { turnRuntimes } from '../src/turn/runtime.js';
import { DEFAULT_START_TIMEOUT_MS } from '../src/turn/limits.js';

export const DEFAULT_WATCHDOG_MS = 300_000;
export const DEFAULT_INTERRUPT_WAIT_MS = 10_000;

export interface TurnMachineInput {
  /** Key of the live handles in `turnRuntimes`. */
  runtimeId: string;
  /** `session` of the room events. */
  session: string;
  threadId: string;
  input: UserInput[];
  /** Model for this turn (and, per Codex, the turns after it). */
  model?: string | undefined;
  /** No notification for this long → interrupt and fail with a "no progress" notice. */
  watchdogMs?: number;
  /** How long to wait for `turn/completed` after `turn/interrupt` before escalating. */
  interruptWaitMs?: number;
  /** How long `turn/start` may go unanswered before the turn fails (at most the watchdog). */
  startTimeoutMs?: number;
}

export type TurnStatus = 'completed' | 'failed' | 'interrupted';

export interface TurnOutput {
  status: TurnStatus;
  turnId: string | undefined;
  threadId: string;
  error: string | undefined;
  /** `turn/start` was refused because the thread is not loaded: resume, then retry the message. */
  retry: boolean;
}

interface StopRequest {
  by: 'user' | 'watchdog';
  reason: string;
}

export interface TurnContext {
  runtimeId: string;
  session: string;
  threadId: string;
  input: UserInput[];
  model: string | undefined;
  watchdogMs: number;
  interruptWaitMs: number;
  startTimeoutMs: number;
  turnId: string | undefined;
  stop: StopRequest | undefined;
  status: TurnStatus | undefined;
  error: string | undefined;
  /** Why the turn ended interrupted (for the room). */
  endReason: string | undefined;
  retry: boolean;
}

export type TurnEvent = StreamEvent | { type: 'STOP'; reason?: string };

/** Parent (session) is told the turn id as soon as Codex assigns it. */
export type TurnParentEvent =
  | { type: 'TURN.BOUND'; turnId: string }
  /** The turn is being interrupted (/stop or watchdog): do not steer into it any more. */
  | { type: 'TURN.INTERRUPTING'; turnId: string };

const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const THREAD_NOT_LOADED = /thread not found|not loaded|no such thread/i;

export const turnMachine = setup({
  types: {
    context: {} as TurnContext,
    events: {} as TurnEvent,
    input: {} as TurnMachineInput,
    output: {} as TurnOutput,
  },
  actors: { stream: streamActor, startTurn: startTurnActor, interruptTurn: interruptTurnActor },
  delays: {
    watchdog: ({ context }) => context.watchdogMs,
    interruptWait: ({ context }) => context.interruptWaitMs,
    startWait: ({ context }) => context.startTimeoutMs,
  },
  guards: {
    stopRequested: ({ context }) => context.stop !== undefined,
    stoppedByWatchdog: ({ context }) => context.stop?.by === 'watchdog',
    endedInterrupted: ({ event }) => event.type === 'TURN.COMPLETED' && event.status === 'interrupted',
    endedFailed: ({ event }) => event.type === 'TURN.COMPLETED' && event.status === 'failed',
    nowWaiting: ({ event }) => event.type === 'WAITING' && event.waiting,
    notWaiting: ({ event }) => event.type === 'WAITING' && !event.waiting,
  },
  actions: {
    requestStop: assign({
      stop: ({ context, event }) =>
        context.stop ?? { by: 'user' as const, reason: (event.type === 'STOP' && event.reason) || 'stopped by request' },
    }),
    recordWatchdog: assign({
      stop: ({ context }) => ({ by: 'watchdog' as const, reason: `no progress for ${seconds(context.watchdogMs)}` }),
      error: ({ context }) => `no progress from Codex for ${seconds(context.watchdogMs)}; the turn was interrupted`,
    }),
    noticeWatchdog: ({ context }) =>
      emit(context, {
        type: 'notice',
        level: 'warning',
        text: `No progress from Codex for ${seconds(context.watchdogMs)}: interrupting the turn.`,
      }),
    recordStartTimeout: assign({
      error: ({ context }) => `Codex did not accept the turn within ${seconds(context.startTimeoutMs)} (turn/start got no answer)`,
    }),
    noticeStartTimeout: ({ context }) => {
      turnRuntimes.get(context.runtimeId).log.warn({ threadId: context.threadId, startTimeoutMs: context.startTimeoutMs }, 'turn/start unanswered; turn failed');
      emit(context, {
        type: 'notice',
        level: 'warning',
        text: `Codex did not accept the turn within ${seconds(context.startTimeoutMs)}; the turn failed and the conversation is free for the next message.`,
      });
    },
    recordTurnError: assign({
      error: ({ context, event }) =>
        context.error ?? (event.type === 'TURN.COMPLETED' ? event.error ?? 'the turn failed' : undefined),
    }),
    markRetry: assign({ retry: true }),
    recordLost: assign({
      error: ({ context, event }) => context.error ?? (event.type === 'CONNECTION.LOST' ? event.reason : 'connection lost'),
    }),
    escalate: ({ context }) => {
      const rt = turnRuntimes.get(context.runtimeId);
      const reason = `turn/interrupt of turn ${context.turnId} was not confirmed within ${seconds(context.interruptWaitMs)}`;
      rt.log.warn({ threadId: context.threadId, turnId: context.turnId }, reason);
      emit(context, {
        type: 'notice',
        level: 'error',
        text: `Codex did not confirm the interrupt within ${seconds(context.interruptWaitMs)}; restarting the app-server.`,
      });
      rt.conn.restart(reason);
    },
    recordEscalation: assign({
      endReason: ({ context }) => `interrupt not confirmed within ${seconds(context.interruptWaitMs)}; app-server restarted`,
      error: ({ context }) =>
        context.error ?? `interrupt not confirmed within ${seconds(context.interruptWaitMs)}; app-server restarted`,
    }),
    abandonStream: sendTo('stream', ({ context }) => ({
      type: 'ABANDON' as const,
      status: context.stop?.by === 'watchdog' ? 'failed' : 'interrupted',
      reason: context.endReason ?? 'turn abandoned',
    })),
    bindStream: sendTo('stream', ({ context }) => ({ type: 'BIND' as const, turnId: context.turnId! })),
    emitStarted: ({ context }) =>
      emit(context, { type: 'turn.started', turnId: context.turnId!, threadId: context.threadId, model: context.model }),
    tellParent: enqueueActions(({ context, enqueue, self }) => {
      if (self._parent) enqueue.sendParent({ type: 'TURN.BOUND', turnId: context.turnId! } satisfies TurnParentEvent);
    }),
    tellParentInterrupting: enqueueActions(({ context, enqueue, self }) => {
      if (self._parent) enqueue.sendParent({ type: 'TURN.INTERRUPTING', turnId: context.turnId! } satisfies TurnParentEvent);
    }),
    logInterruptError: ({ context, event }) =>
      turnRuntimes
        .get(context.runtimeId)
        .log.warn({ err: errorMessage((event as { error?: unknown }).error), turnId: context.turnId }, 'turn/interrupt failed; still waiting for turn/completed'),
    finish: ({ context }) => {
      const rt = turnRuntimes.get(context.runtimeId);
      const { turnId, threadId } = context;
      if (context.status === 'completed') emit(context, { type: 'turn.completed', turnId: turnId!, threadId });
      else if (context.status === 'interrupted') {
        emit(context, { type: 'turn.interrupted', turnId: turnId ?? '', threadId, reason: context.endReason ?? context.stop?.reason ?? 'interrupted' });
      } else emit(context, { type: 'turn.failed', turnId, threadId, error: context.error ?? 'the turn failed' });
      if (turnId !== undefined) {
        const reason = `turn ${context.status}`;
        try {
          rt.conn.withdrawServerRequests(threadId, reason);
          rt.approvals?.withdrawTurn(threadId, turnId, reason);
        } catch (err) {
          rt.log.error({ err, turnId }, 'withdrawing approvals of an ended turn failed');
        }
      }
      rt.log.info({ threadId, turnId, status: context.status, error: context.error }, 'turn ended');
    },
  },
}).createMachine({
  id: 'turn',
  context: ({ input }) => ({
    runtimeId: input.runtimeId,
    session: input.session,
    threadId: input.threadId,
    input: input.input,
    model: input.model,
    watchdogMs: input.watchdogMs ?? DEFAULT_WATCHDOG_MS,
    interruptWaitMs: input.interruptWaitMs ?? DEFAULT_INTERRUPT_WAIT_MS,
    // The watchdog used to bound turn/start; the start wait never outlasts it.
    startTimeoutMs: Math.min(input.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS, input.watchdogMs ?? DEFAULT_WATCHDOG_MS),
    turnId: undefined,
    stop: undefined,
    status: undefined,
    error: undefined,
    endReason: undefined,
    retry: false,
  }),
  invoke: {
    id: 'stream',
    src: 'stream',
    input: ({ context }) => ({
      runtimeId: context.runtimeId,
      session: context.session,
      threadId: context.threadId,
      activityThrottleMs: Math.min(1000, Math.max(10, Math.floor(context.watchdogMs / 10))),
    }),
    onError: { target: '.failed', actions: assign({ error: ({ event }) => `turn stream failed: ${errorMessage(event.error)}` }) },
  },
  initial: 'subscribing',
  output: ({ context }) => ({
    status: context.status ?? 'failed',
    turnId: context.turnId,
    threadId: context.threadId,
    error: context.error,
    retry: context.retry,
  }),
  states: {
    subscribing: {
      on: {
        'STREAM.READY': 'starting',
        STOP: { actions: 'requestStop' },
        'CONNECTION.LOST': { target: 'failed', actions: 'recordLost' },
      },
    },
    starting: {
      invoke: {
        id: 'start',
        src: 'startTurn',
        input: ({ context }) => ({
          runtimeId: context.runtimeId,
          threadId: context.threadId,
          input: context.input,
          model: context.model,
        }),
        onDone: {
          target: 'running',
          actions: [assign({ turnId: ({ event }) => event.output.turnId }), 'emitStarted', 'bindStream', 'tellParent'],
        },
        onError: {
          target: 'failed',
          actions: assign({
            error: ({ context, event }) => context.error ?? `turn/start failed: ${errorMessage(event.error)}`,
            // Retry the message once (after a resume) when Codex never took it: the thread was
            // not loaded, or the connection died before turn/start was answered.
            retry: ({ event }) =>
              event.error instanceof ConnectionLostError || (event.error instanceof RpcError && THREAD_NOT_LOADED.test(event.error.message)),
          }),
        },
      },
      // turn/start has no control timeout of the connection; Codex answers it once the turn is
      // accepted (before the model runs), so a silence is a dropped request (e.g. ill-formed
      // text in 0.169.0): fail the turn and free the session instead of waiting for the watchdog.
      after: { startWait: { target: 'failed', actions: ['recordStartTimeout', 'noticeStartTimeout'] } },
      on: {
        STOP: { actions: 'requestStop' },
        'CONNECTION.LOST': { target: 'failed', actions: ['recordLost', 'markRetry'] },
      },
    },
    running: {
      always: { guard: 'stopRequested', target: 'interrupting' },
      initial: 'active',
      states: {
        active: {
          after: { watchdog: { target: '#turn.interrupting', actions: ['recordWatchdog', 'noticeWatchdog'] } },
          on: {
            ACTIVITY: { target: 'active', reenter: true },
            ITEM: { target: 'active', reenter: true },
            'TURN.STARTED': { target: 'active', reenter: true },
            WAITING: [{ guard: 'nowWaiting', target: 'waiting' }, { target: 'active', reenter: true }],
          },
        },
        // Waiting on a person (an approval, a question): not "no progress".
        waiting: {
          on: { WAITING: { guard: 'notWaiting', target: 'active' } },
        },
      },
      on: {
        'TURN.COMPLETED': [
          { guard: 'endedInterrupted', target: 'interrupted' },
          { guard: 'endedFailed', target: 'failed', actions: 'recordTurnError' },
          { target: 'completed' },
        ],
        STOP: { target: 'interrupting', actions: 'requestStop' },
        'CONNECTION.LOST': { target: 'failed', actions: 'recordLost' },
      },
    },
    interrupting: {
      entry: 'tellParentInterrupting',
      invoke: {
        id: 'interrupt',
        src: 'interruptTurn',
        input: ({ context }) => ({
          runtimeId: context.runtimeId,
          threadId: context.threadId,
          turnId: context.turnId!,
          timeoutMs: context.interruptWaitMs,
        }),
        onError: { actions: 'logInterruptError' },
      },
      after: { interruptWait: { target: 'escalating', actions: ['recordEscalation', 'escalate'] } },
      on: {
        'TURN.COMPLETED': [
          { guard: 'stoppedByWatchdog', target: 'failed' },
          { guard: 'endedInterrupted', target: 'interrupted' },
          { guard: 'endedFailed', target: 'failed', actions: 'recordTurnError' },
          { target: 'completed' },
        ],
        'CONNECTION.LOST': { target: 'failed', actions: 'recordLost' },
      },
    },
    escalating: {
      entry: 'abandonStream',
      on: {
        'STREAM.CLOSED': [{ guard: 'stoppedByWatchdog', target: 'failed' }, { target: 'interrupted' }],
        'CONNECTION.LOST': [{ guard: 'stoppedByWatchdog', target: 'failed' }, { target: 'interrupted' }],
      },
    },
    completed: { type: 'final', entry: [assign({ status: 'completed' as const }), 'finish'] },
    failed: { type: 'final', entry: [assign({ status: 'failed' as const }), 'finish'] },
    interrupted: { type: 'final', entry: [assign({ status: 'interrupted' as const }), 'finish'] },
  },
});

export type TurnMachine = typeof turnMachine;

type Emitted = Parameters<ReturnType<typeof turnRuntimes.get>['sink']>[0];
type WithoutBase<T> = T extends unknown ? Omit<T, 'session' | 'at'> : never;

function emit(context: Pick<TurnContext, 'runtimeId' | 'session'>, e: WithoutBase<Emitted>): void {
  turnRuntimes.get(context.runtimeId).sink({ ...e, session: context.session, at: Date.now() } as Emitted);
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
