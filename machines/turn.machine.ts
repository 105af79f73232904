// The turn actor: one Codex turn, from `turn/start` to its end.
//
//   subscribing → starting → running(active ⇄ waiting) → completed | failed | interrupted
//                                  ↘ interrupting(requesting ⇄ retryWait) → … | escalating → …
//
// The stream actor is subscribed to the thread before `turn/start` is sent and forwards
// streamed deltas straight to the room; this machine only sees lifecycle facts. Timeouts are
// `after` transitions with named delays.
//
// The chart does no IO itself. Its vocabulary is in ./turn.setup.ts: its actors are
// placeholders and its outward actions (`announce`, `report`, `withdrawRequests`,
// `restartAppServer`, `log`) are provided by the owner of the live handles:
// `provideTurnMachine` in src/turn/provide.ts. Unprovided, `announce` and `report` are
// XState `emit`s (observe them with `actor.on`).
import { DEFAULT_INTERRUPT_WAIT_MS, DEFAULT_START_TIMEOUT_MS, DEFAULT_WATCHDOG_MS } from '../src/turn/limits.js';
import { ending, escalationReason, logs, say, turnSetup } from './turn.setup.js';

export { DEFAULT_INTERRUPT_WAIT_MS, DEFAULT_WATCHDOG_MS };
export type {
  TurnAnnouncement,
  TurnContext,
  TurnEvent,
  TurnLog,
  TurnMachineInput,
  TurnOutput,
  TurnParentEvent,
  TurnStatus,
  WithdrawRequest,
} from './turn.setup.js';

export const turnMachine = turnSetup.createMachine({
  id: 'turn',
  context: ({ input }) => ({
    session: input.session,
    threadId: input.threadId,
    input: input.input,
    model: input.model,
    threadModel: input.threadModel,
    action: input.action,
    clientMessageId: input.clientMessageId,
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
        input: ({ context }) => ({
          session: context.session,
          threadId: context.threadId,
          input: context.input,
          model: context.model,
          threadModel: context.threadModel,
          action: context.action,
          clientMessageId: context.clientMessageId,
        }),
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

