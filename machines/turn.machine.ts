// The turn actor: one Codex turn, from `turn/start` to its end.
//
//   subscribing → starting → running(active ⇄ waiting) → completed | failed | interrupted
//                                  ↘ interrupting(requesting ⇄ retryWait) → … | escalating → …
//
// The stream actor is subscribed to the thread before `turn/start` is sent and forwards
// streamed deltas straight to the room; this machine only sees lifecycle facts. Timeouts are
// `after` transitions with named delays.
//
// The chart does no IO itself. Its actors are placeholders and its outward actions
// (`announce`, `report`, `withdrawRequests`, `restartAppServer`, `log`) are provided by the
// owner of the live handles: `provideTurnMachine` in src/turn/provide.ts. Unprovided,
// `announce` and `report` are XState `emit`s (observe them with `actor.on`).
import { assign, emit, fromCallback, fromPromise, sendTo, setup } from 'xstate';
import type { UserInput } from '../src/protocol/common.js';
import type { InterruptInput, StartTurnInput, StreamCommand, StreamEvent, StreamInput } from '../src/turn/actors.js';
import { DEFAULT_INTERRUPT_WAIT_MS, DEFAULT_START_TIMEOUT_MS, DEFAULT_WATCHDOG_MS, INTERRUPT_RETRY_MS } from '../src/turn/limits.js';
import { errorMessage, interruptTooEarly, seconds, turnNotTaken } from '../src/turn/policy.js';

export { DEFAULT_INTERRUPT_WAIT_MS, DEFAULT_WATCHDOG_MS };

export interface TurnMachineInput {
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

/** The parent session is told the turn id as soon as Codex assigns it. */
export type TurnParentEvent =
  | { type: 'TURN.BOUND'; turnId: string }
  /** The turn is being interrupted (/stop or watchdog): do not steer into it any more. */
  | { type: 'TURN.INTERRUPTING'; turnId: string };

/** The room events a turn announces itself (streamed ones come from the stream actor), without `session`/`at`. */
export type TurnAnnouncement =
  | { type: 'turn.started'; turnId: string; threadId: string; model: string | undefined }
  | { type: 'turn.completed'; turnId: string; threadId: string }
  | { type: 'turn.failed'; turnId: string | undefined; threadId: string | undefined; error: string }
  | { type: 'turn.interrupted'; turnId: string; threadId: string; reason: string }
  | { type: 'notice'; level: 'info' | 'warning' | 'error'; text: string };
export interface TurnLog {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  data: Record<string, unknown>;
}
export interface WithdrawRequest {
  threadId: string;
  /** Undefined when Codex never took the turn: nothing to withdraw. */
  turnId: string | undefined;
  reason: string;
}

type Args = { context: TurnContext };
/** What the turn says to the room (the params of `announce`). */
const say = {
  watchdog: ({ context }: Args): TurnAnnouncement => ({
    type: 'notice',
    level: 'warning',
    text: `No progress from Codex for ${seconds(context.watchdogMs)}: interrupting the turn.`,
  }),
  startTimeout: ({ context }: Args): TurnAnnouncement => ({
    type: 'notice',
    level: 'warning',
    text: `Codex did not accept the turn within ${seconds(context.startTimeoutMs)}; the turn failed and the conversation is free for the next message.`,
  }),
  escalation: ({ context }: Args): TurnAnnouncement => ({
    type: 'notice',
    level: 'error',
    text: `Codex did not confirm the interrupt within ${seconds(context.interruptWaitMs)}; restarting the app-server.`,
  }),
  started: ({ context }: Args): TurnAnnouncement => ({ type: 'turn.started', turnId: context.turnId!, threadId: context.threadId, model: context.model }),
  completed: ({ context }: Args): TurnAnnouncement => ({ type: 'turn.completed', turnId: context.turnId!, threadId: context.threadId }),
  interrupted: ({ context }: Args): TurnAnnouncement => ({
    type: 'turn.interrupted',
    turnId: context.turnId ?? '',
    threadId: context.threadId,
    reason: context.endReason ?? context.stop?.reason ?? 'interrupted',
  }),
  failed: ({ context }: Args): TurnAnnouncement => ({
    type: 'turn.failed',
    turnId: context.turnId,
    threadId: context.threadId,
    error: context.error ?? 'the turn failed',
  }),
};
const escalationReason = ({ context }: Args): string =>
  `turn/interrupt of turn ${context.turnId} was not confirmed within ${seconds(context.interruptWaitMs)}`;
const logs = {
  startTimeout: ({ context }: Args): TurnLog => ({
    level: 'warn',
    msg: 'turn/start unanswered; turn failed',
    data: { threadId: context.threadId, startTimeoutMs: context.startTimeoutMs },
  }),
  escalation: (a: Args): TurnLog => ({ level: 'warn', msg: escalationReason(a), data: { threadId: a.context.threadId, turnId: a.context.turnId } }),
  interruptError: ({ context }: Args, error: unknown): TurnLog => ({
    level: 'warn',
    msg: 'turn/interrupt failed; still waiting for turn/completed',
    data: { err: errorMessage(error), turnId: context.turnId },
  }),
  ended: (status: TurnStatus) => ({ context }: Args): TurnLog => ({
    level: 'info',
    msg: 'turn ended',
    data: { threadId: context.threadId, turnId: context.turnId, status, error: context.error },
  }),
};
/** A final state: record the status, tell the room, withdraw the turn's open requests, log. */
const ending = (status: TurnStatus) => [
  { type: 'setStatus' as const, params: { status } },
  { type: 'announce' as const, params: say[status] },
  { type: 'withdrawRequests' as const, params: ({ context }: Args) => ({ threadId: context.threadId, turnId: context.turnId, reason: `turn ${status}` }) },
  { type: 'log' as const, params: logs.ended(status) },
];

// Placeholders: `provideTurnMachine` supplies the real actors.
const unprovided = (name: string) => () => {
  throw new Error(`turn machine: actor "${name}" was not provided`);
};
const noop = () => {};

export const turnMachine = setup({
  types: {
    context: {} as TurnContext,
    events: {} as TurnEvent,
    input: {} as TurnMachineInput,
    output: {} as TurnOutput,
    emitted: {} as TurnAnnouncement | TurnParentEvent,
  },
  actors: {
    stream: fromCallback<StreamCommand, StreamInput, StreamEvent>(unprovided('stream')),
    startTurn: fromPromise<{ turnId: string }, StartTurnInput>(unprovided('startTurn')),
    interruptTurn: fromPromise<void, InterruptInput>(unprovided('interruptTurn')),
  },
  delays: {
    watchdog: ({ context }) => context.watchdogMs,
    interruptWait: ({ context }) => context.interruptWaitMs,
    startWait: ({ context }) => context.startTimeoutMs,
    interruptRetry: INTERRUPT_RETRY_MS,
  },
  guards: {
    stopRequested: ({ context }) => context.stop !== undefined,
    stoppedByWatchdog: ({ context }) => context.stop?.by === 'watchdog',
    endedInterrupted: ({ event }) => event.type === 'TURN.COMPLETED' && event.status === 'interrupted',
    endedFailed: ({ event }) => event.type === 'TURN.COMPLETED' && event.status === 'failed',
    nowWaiting: ({ event }) => event.type === 'WAITING' && event.waiting,
    notWaiting: ({ event }) => event.type === 'WAITING' && !event.waiting,
    interruptTooEarly: (_, p: { error: unknown }) => interruptTooEarly(p.error),
  },
  actions: {
    // Outward actions, provided by the owner of the live handles (see the header).
    announce: emit((_, e: TurnAnnouncement) => e),
    report: emit((_, e: TurnParentEvent) => e),
    withdrawRequests: (_, _r: WithdrawRequest) => noop(),
    restartAppServer: (_, _p: { reason: string }) => noop(),
    log: (_, _l: TurnLog) => noop(),

    requestStop: assign({
      stop: ({ context, event }) =>
        context.stop ?? { by: 'user' as const, reason: (event.type === 'STOP' && event.reason) || 'stopped by request' },
    }),
    recordTurnId: assign({ turnId: (_, p: { turnId: string }) => p.turnId }),
    recordStartError: assign({
      error: ({ context }, p: { error: unknown }) => context.error ?? `turn/start failed: ${errorMessage(p.error)}`,
      // Retry the message once (after a resume) when Codex never took it.
      retry: (_, p: { error: unknown }) => turnNotTaken(p.error),
    }),
    recordStreamError: assign({ error: (_, p: { error: unknown }) => `turn stream failed: ${errorMessage(p.error)}` }),
    recordWatchdog: assign({
      stop: ({ context }) => ({ by: 'watchdog' as const, reason: `no progress for ${seconds(context.watchdogMs)}` }),
      error: ({ context }) => `no progress from Codex for ${seconds(context.watchdogMs)}; the turn was interrupted`,
    }),
    recordStartTimeout: assign({
      error: ({ context }) => `Codex did not accept the turn within ${seconds(context.startTimeoutMs)} (turn/start got no answer)`,
    }),
    recordTurnError: assign({
      error: ({ context, event }) => context.error ?? (event.type === 'TURN.COMPLETED' ? (event.error ?? 'the turn failed') : undefined),
    }),
    markRetry: assign({ retry: true }),
    recordLost: assign({
      error: ({ context, event }) => context.error ?? (event.type === 'CONNECTION.LOST' ? event.reason : 'connection lost'),
    }),
    recordEscalation: assign({
      endReason: ({ context }) => `interrupt not confirmed within ${seconds(context.interruptWaitMs)}; app-server restarted`,
      error: ({ context }) => context.error ?? `interrupt not confirmed within ${seconds(context.interruptWaitMs)}; app-server restarted`,
    }),
    abandonStream: sendTo('stream', ({ context }) => ({
      type: 'ABANDON' as const,
      status: context.stop?.by === 'watchdog' ? 'failed' : 'interrupted',
      reason: context.endReason ?? 'turn abandoned',
    })),
    bindStream: sendTo('stream', ({ context }) => ({ type: 'BIND' as const, turnId: context.turnId! })),
    setStatus: assign({ status: (_, p: { status: TurnStatus }) => p.status }),
  },
}).createMachine({
  id: 'turn',
  context: ({ input }) => ({
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
      session: context.session,
      threadId: context.threadId,
      activityThrottleMs: Math.min(1000, Math.max(10, Math.floor(context.watchdogMs / 10))),
    }),
    onError: { target: '.failed', actions: { type: 'recordStreamError', params: ({ event }) => ({ error: event.error }) } },
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
        input: ({ context }) => ({ threadId: context.threadId, input: context.input, model: context.model }),
        onDone: {
          target: 'running',
          actions: [{ type: 'recordTurnId', params: ({ event }) => ({ turnId: event.output.turnId }) }, { type: 'announce', params: say.started },
            'bindStream',
            { type: 'report', params: ({ context }) => ({ type: 'TURN.BOUND', turnId: context.turnId! }) },
          ],
        },
        onError: { target: 'failed', actions: { type: 'recordStartError', params: ({ event }) => ({ error: event.error }) } },
      },
      // turn/start has no control timeout of the connection; Codex answers it once the turn is
      // accepted (before the model runs), so a silence is a dropped request (e.g. ill-formed
      // text in 0.169.0): fail the turn and free the session instead of waiting for the watchdog.
      after: { startWait: { target: 'failed', actions: ['recordStartTimeout', { type: 'log', params: logs.startTimeout }, { type: 'announce', params: say.startTimeout }] } },
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
          after: { watchdog: { target: '#turn.interrupting', actions: ['recordWatchdog', { type: 'announce', params: say.watchdog }] } },
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
      entry: { type: 'report', params: ({ context }) => ({ type: 'TURN.INTERRUPTING', turnId: context.turnId! }) },
      initial: 'requesting',
      states: {
        requesting: {
          invoke: {
            id: 'interrupt',
            src: 'interruptTurn',
            input: ({ context }) => ({ threadId: context.threadId, turnId: context.turnId!, timeoutMs: context.interruptWaitMs }),
            onError: [
              // Right after turn/start is answered the turn may not be active in Codex yet: ask again shortly.
              { guard: { type: 'interruptTooEarly', params: ({ event }) => ({ error: event.error }) }, target: 'retryWait' },
              // Otherwise keep waiting for turn/completed, bounded by interruptWait.
              { actions: { type: 'log', params: (a) => logs.interruptError(a, a.event.error) } },
            ],
          },
        },
        retryWait: { after: { interruptRetry: 'requesting' } },
      },
      after: {
        interruptWait: {
          target: 'escalating',
          actions: [
            'recordEscalation',
            { type: 'log', params: logs.escalation },
            { type: 'announce', params: say.escalation },
            { type: 'restartAppServer', params: (a) => ({ reason: escalationReason(a) }) },
          ],
        },
      },
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
    completed: { type: 'final', entry: ending('completed') },
    failed: { type: 'final', entry: ending('failed') },
    interrupted: { type: 'final', entry: ending('interrupted') },
  },
});

export type TurnMachine = typeof turnMachine;
