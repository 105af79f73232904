// The turn machine's vocabulary: its types, what it says (params of `announce` and `log`),
// placeholder actors, guards and actions. The chart that uses them is machines/turn.machine.ts.
import { assign, emit, fromCallback, fromPromise, sendTo, setup } from 'xstate';
import type { UserInput } from '../src/protocol/common.js';
import type { InterruptInput, StartTurnInput, StreamCommand, StreamEvent, StreamInput } from '../src/turn/actors.js';
import type { TurnAction } from '../src/turn/action.js';
import { INTERRUPT_RETRY_MS } from '../src/turn/limits.js';
import { errorMessage, interruptTooEarly, seconds, turnNotTaken } from '../src/turn/policy.js';

export interface TurnMachineInput {
  /** `session` of the room events. */
  session: string;
  threadId: string;
  input: UserInput[];
  /** Model for this turn (and, per Codex, the turns after it). */
  model?: string | undefined;
  /** The model the thread runs on when `model` is not given (Codex's answer when it was bound); for `llm_input`. */
  threadModel?: string | undefined;
  /** A review or compaction run as this turn instead of `input`. */
  action?: TurnAction | undefined;
  /** `clientUserMessageId` of `turn/start`: the inbox entry, so a re-run after a crash can be recognised. */
  clientMessageId?: string | undefined;
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
  threadModel: string | undefined;
  action: TurnAction | undefined;
  clientMessageId: string | undefined;
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

/** Set on the turn events of a review or compaction. */
type ActionOf = { action?: TurnAction['type'] };
/** The room events a turn announces itself (streamed ones come from the stream actor), without `session`/`at`. */
export type TurnAnnouncement =
  | (ActionOf & { type: 'turn.started'; turnId: string; threadId: string; model: string | undefined })
  | (ActionOf & { type: 'turn.completed'; turnId: string; threadId: string })
  | (ActionOf & { type: 'turn.failed'; turnId: string | undefined; threadId: string | undefined; error: string })
  | (ActionOf & { type: 'turn.interrupted'; turnId: string; threadId: string; reason: string })
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
/** A review's or compaction's turn says so (hosts and the inbox tell it from a turn of messages). */
const actionOf = (context: TurnContext): ActionOf => (context.action ? { action: context.action.type } : {});
/** What the turn says to the room (the params of `announce`). */
export const say = {
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
  started: ({ context }: Args): TurnAnnouncement => ({ type: 'turn.started', turnId: context.turnId!, threadId: context.threadId, model: context.model, ...actionOf(context) }),
  completed: ({ context }: Args): TurnAnnouncement => ({ type: 'turn.completed', turnId: context.turnId!, threadId: context.threadId, ...actionOf(context) }),
  interrupted: ({ context }: Args): TurnAnnouncement => ({
    type: 'turn.interrupted',
    turnId: context.turnId ?? '',
    threadId: context.threadId,
    reason: context.endReason ?? context.stop?.reason ?? 'interrupted',
    ...actionOf(context),
  }),
  failed: ({ context }: Args): TurnAnnouncement => ({
    type: 'turn.failed',
    turnId: context.turnId,
    threadId: context.threadId,
    error: context.error ?? 'the turn failed',
    ...actionOf(context),
  }),
};
export const escalationReason = ({ context }: Args): string =>
  `turn/interrupt of turn ${context.turnId} was not confirmed within ${seconds(context.interruptWaitMs)}`;
export const logs = {
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
export const ending = (status: TurnStatus) => [
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

export const turnSetup = setup({
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
});
