// The session actor: one conversation (room/channel/thread, optionally per participant)
// bound to one Codex thread. Parallel regions:
//
//   conversation: unbound → binding(loading → resuming → starting) → ready ⇄ turn   (bindWait on a failed bind)
//   steer:        idle ⇄ steering                         (messages into the running turn)
//   catalog:      idle ⇄ loading → fallback               (/model, /models; discovery timeout)
//   persist:      idle ⇄ writing                          (binding file, one write at a time)
//   link:         up ⇄ down                               (the app-server unavailable: messages fail at once)
//
// A session may start from a hibernated record (`input.restore`): an idle session's plain
// data, kept by the manager while its actor is stopped. It enters `ready` on its known thread
// at once; a thread that is not loaded any more (connection restarted) is resumed first.
//
// One turn at a time. A message during a turn is steered (default) or queued; a steer that
// fails (the turn just ended) queues the message. Queued messages are never dropped.
//
// The chart does no IO. Its vocabulary (types, guards, actions, placeholder actors) is in
// ./session.setup.ts; the real actors come from `provideSessionMachine` (src/session/provide.ts).
// It announces its room notices and log lines with typed `emit` events (the turn's room
// events go to the sink from the turn itself). States where work is in flight carry the tag
// `busy`, the resting states of the conversation the tag `idle`: the manager hibernates on them.
import { and, not } from 'xstate';
import { sessionSetup, withError } from './session.setup.js';
import type { PersistInput } from '../src/session/actors.js';
import { initialContext } from '../src/session/types.js';
import { fallbackReason } from '../src/session/models.js';

export type { SessionContext, SessionRestore } from '../src/session/types.js';
export type { SessionEmitted, SessionEvent, SessionMachineInput } from './session.setup.js';

export const sessionMachine = sessionSetup.createMachine({
  id: 'session',
  type: 'parallel',
  context: ({ input }) => initialContext(input),
  invoke: {
    id: 'connectionWatch',
    src: 'connectionWatch',
    onError: { actions: { type: 'logWatchError', params: withError } },
  },
  on: {
    MESSAGE: [
      // A review or compaction never joins a turn, and nothing joins theirs.
      { guard: and(['inTurn', 'steerMode', not('turnStopping'), not('actionInvolved')]), actions: 'enqueueSteer' },
      { guard: 'inTurn', actions: ['enqueue', 'noticeQueued'] },
      { actions: 'enqueue' },
    ],
    COMMAND: [
      { guard: 'isModel', actions: 'requestCatalog' },
      { guard: 'isStatus', actions: 'noticeStatus' },
    ],
    // A pool scopes LOST to the threads of the member that went away.
    'CONNECTION.LOST': { guard: 'concernsMyThread', actions: 'markUnloaded' },
    'CONNECTION.READY': [
      { guard: and(['concernsMyThread', 'outageTold']), actions: ['markUnloaded', 'clearOutage', 'noticeBack'] },
      { guard: 'concernsMyThread', actions: ['markUnloaded', 'clearOutage'] },
    ],
    'CONNECTION.DEGRADED': { actions: ['markUnloaded', 'recordOutage'] },
    // Told it keeps retrying, the room now hears that it will not.
    'CONNECTION.FAILED': [
      { guard: 'outageTold', actions: ['markUnloaded', 'recordOutage', 'noticeUnavailable'] },
      { actions: ['markUnloaded', 'recordOutage'] },
    ],
  },
  states: {
    conversation: {
      initial: 'unbound',
      on: {
        COMMAND: [
          { guard: 'isStop', actions: 'noticeNothingToStop' },
          { guard: 'isNew', target: '.binding', actions: 'prepareNew' },
          { guard: 'isReset', target: '.unbound', actions: ['reset', 'noticeReset'] },
        ],
      },
      states: {
        unbound: {
          tags: ['idle'],
          always: [
            // The app-server is unavailable: waiting messages fail now, not after a bind loop.
            { guard: and(['hasQueue', 'hasOutage']), actions: 'refuseQueued' },
            // A thread of its own (restored, or back from bindWait): `ready` resumes it if needed.
            { guard: 'hasThread', target: 'ready' },
            { guard: 'hasQueue', target: 'binding' },
          ],
        },
        // Bind the conversation to a Codex thread: the one it had (resume), the stored one
        // (load, then resume), or a new one (start). A corrupt binding file was moved aside by
        // the store: say so and start a new thread. A failed resume starts a new thread too,
        // unless the connection is the problem (bindWait, then try again).
        binding: {
          tags: ['busy'],
          entry: 'startBind',
          initial: 'choosing',
          states: {
            choosing: {
              always: [
                { guard: 'freshThread', target: 'starting' },
                { guard: 'hasThread', target: 'resuming' },
                { target: 'loading' },
              ],
            },
            loading: {
              invoke: {
                id: 'loadBinding',
                src: 'loadBinding',
                input: ({ context }) => ({ key: context.key }),
                onDone: [
                  {
                    guard: { type: 'foundBinding', params: ({ event }) => ({ binding: event.output }) },
                    target: 'resuming',
                    actions: { type: 'useStoredBinding', params: ({ event }) => ({ binding: event.output }) },
                  },
                  { target: 'starting' },
                ],
                onError: [
                  {
                    guard: { type: 'corruptBinding', params: withError },
                    target: 'starting',
                    actions: { type: 'noteCorruptBinding', params: withError },
                  },
                  { guard: 'hasOutage', target: '#session.conversation.unbound' },
                  { target: '#session.conversation.bindWait', actions: { type: 'bindFailed', params: withError } },
                ],
              },
            },
            resuming: {
              invoke: {
                id: 'resumeThread',
                src: 'resumeThread',
                input: ({ context }) => ({ candidate: context.candidate!, settings: context.settings }),
                onDone: {
                  target: '#session.conversation.ready',
                  actions: [{ type: 'recordBinding', params: ({ event }) => ({ thread: event.output, resumed: true }) }, 'tellBindNotices'],
                },
                onError: [
                  // The app-server became unavailable: `unbound` refuses the waiting messages.
                  { guard: 'hasOutage', target: '#session.conversation.unbound' },
                  {
                    guard: { type: 'transientError', params: withError },
                    target: '#session.conversation.bindWait',
                    actions: { type: 'bindFailed', params: withError },
                  },
                  { target: 'starting', actions: { type: 'noteResumeFailed', params: withError } },
                ],
              },
            },
            starting: {
              invoke: {
                id: 'startThread',
                src: 'startThread',
                input: ({ context }) => ({ model: context.model ?? context.settings.model, settings: context.settings }),
                onDone: [
                  {
                    guard: 'quietStart',
                    target: '#session.conversation.ready',
                    actions: [{ type: 'recordBinding', params: ({ event }) => ({ thread: event.output, resumed: false }) }, 'tellBindNotices', 'noticeNewThread'],
                  },
                  {
                    target: '#session.conversation.ready',
                    actions: [{ type: 'recordBinding', params: ({ event }) => ({ thread: event.output, resumed: false }) }, 'tellBindNotices'],
                  },
                ],
                onError: [
                  { guard: 'hasOutage', target: '#session.conversation.unbound' },
                  { target: '#session.conversation.bindWait', actions: { type: 'bindFailed', params: withError } },
                ],
              },
            },
          },
          on: {
            COMMAND: [
              { guard: 'isStop', actions: 'noticeNothingToStop' },
              { guard: 'isNew', actions: 'noticeBusy' },
              { guard: 'isReset', actions: 'noticeBusy' },
            ],
          },
        },
        bindWait: {
          tags: ['busy'],
          // Unavailable meanwhile: no point waiting, `unbound` refuses the messages now.
          always: { guard: 'hasOutage', target: 'unbound' },
          after: { bindRetry: 'unbound' },
        },
        ready: {
          tags: ['idle'],
          always: [
            { guard: and(['hasQueue', 'hasOutage']), actions: 'refuseQueued' },
            { guard: 'needsBind', target: 'binding' },
            { guard: 'canStartTurn', target: 'turn' },
          ],
          on: {
            COMMAND: [
              { guard: 'isStop', actions: 'noticeNothingToStop' },
              { guard: 'isNew', target: 'binding', actions: 'prepareNew' },
              { guard: 'isReset', target: 'unbound', actions: ['reset', 'noticeReset'] },
            ],
          },
        },
        turn: {
          tags: ['busy'],
          entry: 'dequeue',
          invoke: {
            id: 'turn',
            src: 'turn',
            input: ({ context }) => ({
              session: context.key,
              threadId: context.threadId!,
              input: context.current!.input,
              model: context.model,
              threadModel: context.threadModel,
              action: context.current!.action,
              clientMessageId: context.current!.clientMessageId ?? context.current!.id,
              watchdogMs: context.settings.watchdogMs,
              startTimeoutMs: context.settings.startTimeoutMs,
              interruptWaitMs: context.settings.interruptWaitMs,
            }),
            onDone: [
              {
                guard: { type: 'retryStart', params: ({ event }) => ({ output: event.output }) },
                target: 'ready',
                actions: 'requeueForRetry',
              },
              { target: 'ready', actions: ['noticeLeftover', { type: 'turnEnded', params: ({ event }) => ({ output: event.output }) }] },
            ],
            onError: {
              target: 'ready',
              actions: { type: 'turnCrashed', params: withError },
            },
          },
          on: {
            'TURN.BOUND': { actions: 'recordTurnId' },
            'TURN.INTERRUPTING': { actions: 'markStopping' },
            COMMAND: [
              { guard: 'isStop', actions: ['stopTurn', 'noticeStopping'] },
              { guard: 'isNew', actions: 'noticeBusy' },
              { guard: 'isReset', actions: 'noticeBusy' },
            ],
          },
        },
      },
    },
    steer: {
      initial: 'idle',
      states: {
        idle: {
          always: { guard: 'canSteer', target: 'steering', actions: 'popSteer' },
        },
        steering: {
          tags: ['busy'],
          invoke: {
            id: 'steer',
            src: 'steer',
            input: ({ context }) => ({
              session: context.key,
              threadId: context.threadId!,
              turnId: context.activeTurnId!,
              input: context.steering!.input,
              clientMessageId: context.steering!.clientMessageId ?? context.steering!.id,
              model: context.model ?? context.threadModel,
            }),
            onDone: { target: 'idle', actions: { type: 'steered', params: ({ event }) => ({ turnId: event.output.turnId }) } },
            onError: { target: 'idle', actions: { type: 'steerFailed', params: withError } },
          },
        },
      },
    },
    catalog: {
      initial: 'idle',
      states: {
        idle: {
          always: [
            { guard: and(['wantsCatalog', 'catalogFresh']), actions: 'answerCatalog' },
            { guard: 'wantsCatalog', target: 'loading' },
          ],
        },
        loading: {
          tags: ['busy'],
          invoke: {
            id: 'models',
            src: 'listModels',
            input: ({ context }) => ({ cacheMs: context.settings.modelCacheMs, staticModels: context.settings.models }),
            onDone: { target: 'idle', actions: [{ type: 'storeCatalog', params: ({ event }) => ({ catalog: event.output }) }, 'answerCatalog'] },
            onError: { target: 'fallback' },
          },
          after: { modelDiscovery: { target: 'fallback' } },
        },
        // Discovery failed or is slow: answer from the configured list (reused for a while).
        fallback: {
          tags: ['busy'],
          invoke: {
            id: 'fallback',
            src: 'fallbackCatalog',
            // Entered on the discovery's error event or on its timeout.
            input: ({ context, event }) => ({ models: context.settings.fallbackModels, why: fallbackReason(event, context.settings.modelDiscoveryMs) }),
            onDone: { target: 'idle', actions: [{ type: 'storeCatalog', params: ({ event }) => ({ catalog: event.output }) }, 'answerCatalog'] },
            onError: { target: 'idle', actions: 'answerCatalog' },
          },
        },
      },
    },
    // The app-server as this session sees it. `down` keeps the session live (no hibernation)
    // until the connection is back, so a room told of the outage is told when it ends.
    link: {
      initial: 'up',
      states: {
        up: { always: { guard: 'hasOutage', target: 'down' } },
        down: { tags: ['busy'], always: { guard: not('hasOutage'), target: 'up' } },
      },
    },
    persist: {
      initial: 'idle',
      states: {
        idle: {
          always: { guard: 'wantsWrite', target: 'writing' },
        },
        writing: {
          tags: ['busy', 'persisting'],
          entry: 'startPersist',
          invoke: {
            id: 'persist',
            src: 'persistBinding',
            input: ({ context }): PersistInput =>
              context.writing === 'delete'
                ? { op: 'delete', key: context.key }
                : { op: 'save', key: context.key, threadId: context.threadId!, model: context.model, cwd: context.settings.cwd, createdAt: context.createdAt },
            onDone: { target: 'idle', actions: 'endPersist' },
            onError: {
              target: 'idle',
              actions: ['endPersist', { type: 'persistFailed', params: withError }],
            },
          },
        },
      },
    },
  },
});

export type SessionMachine = typeof sessionMachine;
