// The session actor: one conversation (room/channel/thread, optionally per participant)
// bound to one Codex thread. Parallel regions:
//
//   conversation: unbound → binding(loading → resuming → starting) → ready ⇄ turn   (bindWait on a failed bind)
//   steer:        idle ⇄ steering                         (messages into the running turn)
//   catalog:      idle ⇄ loading → fallback               (/model, /models; discovery timeout)
//   persist:      idle ⇄ writing                          (binding file, one write at a time)
//
// A session may start from a hibernated record (`input.restore`): an idle session's plain
// data, kept by the manager while its actor is stopped. It enters `ready` on its known thread
// at once; a thread that is not loaded any more (connection restarted) is resumed first.
//
// One turn at a time. A message during a turn is steered (default) or queued; a steer that
// fails (the turn just ended) queues the message. Queued messages are never dropped.
//
// The chart does no IO: its actors are placeholders provided by `provideSessionMachine`
// (src/session/provide.ts). It announces room notices, its turn's room events and log lines
// with typed `emit` events; states where work is in flight carry the tag `busy`, the resting
// states of the conversation the tag `idle` (the manager hibernates on them).
import { and, assign, emit, enqueueActions, fromCallback, fromPromise, not, sendTo, setup, stateIn, type AnyEventObject } from 'xstate';
import { turnMachine, type TurnOutput, type TurnParentEvent } from './turn.machine.js';
import type {
  BoundThread,
  FallbackInput,
  LifecycleEvent,
  ListModelsInput,
  PersistInput,
  ResumeInput,
  StartThreadInput,
  SteerInput,
} from '../src/session/actors.js';
import type { Binding, BindingCorruptError } from '../src/session/bindings.js';
import { answerCatalogRequests, catalogOf, type Catalog } from '../src/session/models.js';
import { texts } from '../src/session/texts.js';
import { isCorruptBinding, isTransient } from '../src/session/policy.js';
import type {
  PendingMessage,
  SessionContext,
  SessionLog,
  SessionNotice,
  SessionRestore,
  SessionSettings,
  SlashCommand,
} from '../src/session/types.js';

export type { SessionContext, SessionRestore };

export interface SessionMachineInput {
  /** Conversation key; the `session` of every room event. */
  key: string;
  settings: SessionSettings;
  /** Start from a hibernated session instead of a new conversation. */
  restore?: SessionRestore;
}

export type SessionEvent =
  | { type: 'MESSAGE'; message: PendingMessage }
  | { type: 'COMMAND'; command: SlashCommand }
  | TurnParentEvent
  | LifecycleEvent;

/** What a session emits: room events without `session`/`at` (the manager stamps them), and log lines. */
export type SessionEmitted = ({ type: 'notice' } & SessionNotice) | SessionLog;

const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const notice = (level: SessionNotice['level'], text: string): SessionEmitted => ({ type: 'notice', level, text });
const logLine = (level: SessionLog['level'], msg: string, data: Record<string, unknown>): SessionLog => ({ type: 'log', level, msg, data });
type Err = { error: unknown };

/** enqueueActions typed without the machine's guards (their params defeat its inference). */
type Collect = Parameters<typeof enqueueActions<SessionContext, SessionEvent, undefined, SessionEvent, never, never, never, never, SessionEmitted>>[0];
const collect = (f: Collect) => enqueueActions<SessionContext, SessionEvent, undefined, SessionEvent, never, never, never, never, SessionEmitted>(f);

// Placeholders: `provideSessionMachine` supplies the real actors.
const unprovided = (name: string) => () => {
  throw new Error(`session machine: actor "${name}" was not provided`);
};

export const sessionMachine = setup({
  types: {
    context: {} as SessionContext,
    events: {} as SessionEvent,
    input: {} as SessionMachineInput,
    emitted: {} as SessionEmitted,
  },
  actors: {
    loadBinding: fromPromise<Binding | undefined, { key: string }>(unprovided('loadBinding')),
    resumeThread: fromPromise<BoundThread, ResumeInput>(unprovided('resumeThread')),
    startThread: fromPromise<BoundThread, StartThreadInput>(unprovided('startThread')),
    turn: turnMachine,
    steer: fromPromise<{ turnId: string }, SteerInput>(unprovided('steer')),
    listModels: fromPromise<Catalog, ListModelsInput>(unprovided('listModels')),
    fallbackCatalog: fromPromise<Catalog, FallbackInput>(unprovided('fallbackCatalog')),
    persistBinding: fromPromise<void, PersistInput>(unprovided('persistBinding')),
    connectionWatch: fromCallback<AnyEventObject, void, LifecycleEvent>(unprovided('connectionWatch')),
  },
  delays: {
    bindRetry: ({ context }) => context.settings.bindRetryMs,
    modelDiscovery: ({ context }) => context.settings.modelDiscoveryMs,
  },
  guards: {
    hasQueue: ({ context }) => context.queue.length > 0,
    /** The session has a thread of its own (not `/new`, not reset). */
    hasThread: ({ context }) => context.threadId !== undefined && !context.fresh,
    freshThread: ({ context }) => context.fresh,
    needsBind: ({ context }) => context.queue.length > 0 && (!context.threadLoaded || context.threadId === undefined),
    canStartTurn: ({ context }) => context.queue.length > 0 && context.steering === undefined,
    inTurn: stateIn({ conversation: 'turn' }),
    steerMode: ({ context }) => context.settings.busyMode === 'steer',
    canSteer: ({ context }) => context.steerQueue.length > 0 && context.activeTurnId !== undefined && !context.stopping,
    turnStopping: ({ context }) => context.stopping,
    wantsCatalog: ({ context }) => context.catalogRequests.length > 0,
    /** Needs the clock: provided by the manager (unprovided, the catalog is always reloaded). */
    catalogFresh: () => false,
    wantsWrite: ({ context }) => context.persist === 'delete' || (context.persist === 'save' && context.threadId !== undefined),
    isModel: ({ event }) => event.type === 'COMMAND' && (event.command.name === 'model' || event.command.name === 'models'),
    isStop: ({ event }) => event.type === 'COMMAND' && event.command.name === 'stop',
    isNew: ({ event }) => event.type === 'COMMAND' && event.command.name === 'new',
    isReset: ({ event }) => event.type === 'COMMAND' && event.command.name === 'reset',
    isStatus: ({ event }) => event.type === 'COMMAND' && event.command.name === 'status',
    foundBinding: (_, p: { binding: Binding | undefined }) => p.binding !== undefined,
    corruptBinding: (_, p: Err) => isCorruptBinding(p.error),
    transientError: (_, p: Err) => isTransient(p.error),
    /** Codex never took the turn (thread not loaded): resume, then run the message once more. */
    retryStart: ({ context }, p: { output: TurnOutput }) => p.output.retry && context.current !== undefined && context.startRetries < 1,
    /** A fresh thread and nothing else to say: tell the room its id. */
    quietStart: ({ context }) => context.bindNotices.length === 0,
  },
  actions: {
    enqueue: assign({
      queue: ({ context, event }) => (event.type === 'MESSAGE' ? [...context.queue, event.message] : context.queue),
    }),
    enqueueSteer: assign({
      steerQueue: ({ context, event }) => (event.type === 'MESSAGE' ? [...context.steerQueue, event.message] : context.steerQueue),
    }),
    noticeQueued: emit(({ context }) => notice('info', texts.queued(context.queue.length))),
    markUnloaded: assign({ threadLoaded: false }),
    startBind: assign({
      bindNotices: [],
      candidate: ({ context }) =>
        context.fresh || context.threadId === undefined
          ? undefined
          : { threadId: context.threadId, model: context.model, createdAt: context.createdAt, fromStore: false },
    }),
    useStoredBinding: assign({
      candidate: ({ context }, p: { binding: Binding | undefined }) =>
        p.binding && { threadId: p.binding.threadId, model: p.binding.model ?? context.model, createdAt: p.binding.createdAt, fromStore: true },
    }),
    logCorruptBinding: emit(({ context }, p: { error: BindingCorruptError }) =>
      logLine('error', 'corrupt binding; starting a new thread', { err: p.error.message, key: context.key, movedTo: p.error.movedTo }),
    ),
    noteCorruptBinding: assign({
      bindNotices: ({ context }, p: { error: BindingCorruptError }) => [...context.bindNotices, { level: 'warning' as const, text: texts.corruptBinding(p.error) }],
    }),
    logResumeFailed: emit(({ context }, p: Err) =>
      logLine('warn', 'thread/resume failed; starting a new thread', { err: errorMessage(p.error), threadId: context.candidate?.threadId }),
    ),
    noteResumeFailed: assign({
      bindNotices: ({ context }, p: Err) => [
        ...context.bindNotices,
        { level: 'warning' as const, text: texts.resumeFailed(context.candidate?.threadId ?? '', errorMessage(p.error)) },
      ],
    }),
    /** Bound: record the thread and what the bind will tell the room. */
    recordBinding: assign(({ context }, p: { thread: BoundThread; resumed: boolean }) => ({
      threadId: p.thread.threadId,
      threadLoaded: true,
      createdAt: p.thread.createdAt,
      model: p.resumed ? context.candidate?.model : (context.model ?? context.settings.model),
      fresh: false,
      persist: 'save' as const,
      candidate: undefined,
      bindNotices:
        p.resumed && context.candidate?.fromStore
          ? [...context.bindNotices, { level: 'info' as const, text: texts.continuing(p.thread.threadId) }]
          : context.bindNotices,
    })),
    tellBindNotices: collect(({ context, enqueue }) => {
      for (const n of context.bindNotices) enqueue.emit(notice(n.level, n.text));
    }),
    noticeNewThread: emit(({ context }) => notice('info', texts.newThread(context.threadId))),
    logBindError: emit(({ context }, p: Err) => logLine('warn', 'binding the Codex thread failed', { err: errorMessage(p.error), key: context.key })),
    noticeBindError: emit(({ context }, p: Err) =>
      notice('error', texts.bindFailed(errorMessage(p.error), context.queue.length, context.settings.bindRetryMs)),
    ),
    dequeue: assign({
      current: ({ context }) => context.queue[0],
      queue: ({ context }) => context.queue.slice(1),
      activeTurnId: undefined,
      stopping: false,
    }),
    markStopping: assign({
      stopping: true,
      // Not yet sent: these wait for the next turn instead of joining one being stopped.
      queue: ({ context }) => [...context.queue, ...context.steerQueue],
      steerQueue: [],
    }),
    recordTurnId: assign({ activeTurnId: ({ context, event }) => (event.type === 'TURN.BOUND' ? event.turnId : context.activeTurnId) }),
    turnEnded: assign(({ context }, p: { output: TurnOutput }) => ({
      current: undefined,
      activeTurnId: undefined,
      steerQueue: [],
      queue: [...context.queue, ...context.steerQueue],
      turns: context.turns + 1,
      startRetries: 0,
      persist: context.threadId ? ('save' as const) : context.persist,
      lastTurn: { status: p.output.status, turnId: p.output.turnId, error: p.output.error },
    })),
    /** Messages still waiting to be steered into the turn that just ended run next. */
    noticeLeftover: collect(({ context, enqueue }) => {
      if (context.steerQueue.length) enqueue.emit(notice('info', texts.leftoverSteer(context.steerQueue.length)));
    }),
    requeueForRetry: assign({
      queue: ({ context }) => (context.current ? [context.current, ...context.steerQueue, ...context.queue] : context.queue),
      steerQueue: [],
      current: undefined,
      activeTurnId: undefined,
      threadLoaded: false,
      startRetries: ({ context }) => context.startRetries + 1,
    }),
    logTurnCrash: emit(({ context }, p: Err) => logLine('error', 'turn actor crashed', { err: errorMessage(p.error), key: context.key })),
    turnCrashed: assign(({ context }) => ({
      current: undefined,
      activeTurnId: undefined,
      queue: [...context.queue, ...context.steerQueue],
      steerQueue: [],
    })),
    noticeTurnCrash: emit((_, p: Err) => notice('error', texts.turnCrashed(errorMessage(p.error)))),
    stopTurn: sendTo('turn', { type: 'STOP', reason: 'stopped by /stop' }),
    popSteer: assign({
      steering: ({ context }) => context.steerQueue[0],
      steerQueue: ({ context }) => context.steerQueue.slice(1),
    }),
    steered: assign({
      steering: undefined,
      activeTurnId: ({ context }, p: { turnId: string }) => (context.current !== undefined ? p.turnId : context.activeTurnId),
    }),
    logSteerFailed: emit(({ context }, p: Err) => logLine('info', 'turn/steer failed; message queued', { err: errorMessage(p.error), key: context.key })),
    steerFailed: collect(({ context, enqueue }) => {
      const msg = context.steering;
      enqueue.assign({ steering: undefined, queue: msg ? [...context.queue, msg] : context.queue });
      if (msg) enqueue.emit(notice('info', texts.steerFailed));
    }),
    requestCatalog: assign({
      catalogRequests: ({ context, event }) => {
        if (event.type !== 'COMMAND') return context.catalogRequests;
        const c = event.command;
        if (c.name === 'models') return [...context.catalogRequests, { kind: 'models' as const }];
        if (c.name === 'model') return [...context.catalogRequests, { kind: 'model' as const, name: c.arg }];
        return context.catalogRequests;
      },
    }),
    storeCatalog: assign({ catalog: (_, p: { catalog: Catalog }) => p.catalog }),
    answerCatalog: collect(({ context, enqueue }) => {
      const catalog = context.catalog ?? catalogOf(context.settings.fallbackModels, 'fallback');
      const a = answerCatalogRequests(catalog, context.model, context.catalogRequests, context.current !== undefined);
      enqueue.assign({ catalogRequests: [], model: a.model, persist: a.changed && context.threadId ? 'save' : context.persist });
      for (const t of a.texts) enqueue.emit(notice(t.level, t.text));
    }),
    startPersist: assign({ writing: ({ context }) => context.persist, persist: undefined }),
    endPersist: assign({ writing: undefined }),
    logPersistFailed: emit(({ context }, p: Err) => logLine('error', 'saving the thread binding failed', { err: errorMessage(p.error), key: context.key })),
    noticePersistFailed: emit((_, p: Err) => notice('warning', texts.persistFailed(errorMessage(p.error)))),
    logWatchError: emit(({ context }, p: Err) => logLine('error', 'connection watch failed', { err: errorMessage(p.error), key: context.key })),
    noticeNothingToStop: emit(notice('info', texts.nothingToStop)),
    noticeStopping: emit(({ context }) => notice('info', texts.stopping(context.queue.length))),
    noticeBusy: emit(notice('warning', texts.busy)),
    prepareNew: assign({ fresh: true }),
    reset: assign(({ context }) => ({
      threadId: undefined,
      threadLoaded: false,
      createdAt: undefined,
      model: context.settings.model,
      fresh: true,
      persist: 'delete' as const,
    })),
    noticeReset: emit(notice('info', texts.reset)),
    noticeStatus: emit(({ context, self }) =>
      notice(
        'info',
        texts.status({
          threadId: context.threadId,
          model: context.model,
          running: context.current !== undefined,
          activeTurnId: context.activeTurnId,
          queued: context.queue.length,
          busyMode: context.settings.busyMode,
          state: self.getSnapshot().value,
        }),
      ),
    ),
  },
}).createMachine({
  id: 'session',
  type: 'parallel',
  context: ({ input }) => ({
    key: input.key,
    settings: input.settings,
    threadId: input.restore?.threadId,
    threadLoaded: input.restore?.threadLoaded ?? false,
    createdAt: input.restore?.createdAt,
    model: input.restore ? input.restore.model : input.settings.model,
    fresh: input.restore?.fresh ?? false,
    candidate: undefined,
    bindNotices: [],
    queue: [],
    current: undefined,
    activeTurnId: undefined,
    stopping: false,
    steerQueue: [],
    steering: undefined,
    catalog: input.restore?.catalog,
    catalogRequests: [],
    persist: undefined,
    writing: undefined,
    turns: input.restore?.turns ?? 0,
    startRetries: 0,
    lastTurn: input.restore?.lastTurn,
  }),
  invoke: {
    id: 'connectionWatch',
    src: 'connectionWatch',
    onError: { actions: { type: 'logWatchError', params: ({ event }) => ({ error: event.error }) } },
  },
  on: {
    MESSAGE: [
      { guard: and(['inTurn', 'steerMode', not('turnStopping')]), actions: 'enqueueSteer' },
      { guard: 'inTurn', actions: ['enqueue', 'noticeQueued'] },
      { actions: 'enqueue' },
    ],
    COMMAND: [
      { guard: 'isModel', actions: 'requestCatalog' },
      { guard: 'isStatus', actions: 'noticeStatus' },
    ],
    'CONNECTION.LOST': { actions: 'markUnloaded' },
    'CONNECTION.READY': { actions: 'markUnloaded' },
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
                    guard: { type: 'corruptBinding', params: ({ event }) => ({ error: event.error }) },
                    target: 'starting',
                    actions: [
                      { type: 'logCorruptBinding', params: ({ event }) => ({ error: event.error as BindingCorruptError }) },
                      { type: 'noteCorruptBinding', params: ({ event }) => ({ error: event.error as BindingCorruptError }) },
                    ],
                  },
                  { target: '#session.conversation.bindWait', actions: [{ type: 'logBindError', params: ({ event }) => ({ error: event.error }) }, { type: 'noticeBindError', params: ({ event }) => ({ error: event.error }) }] },
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
                  {
                    guard: { type: 'transientError', params: ({ event }) => ({ error: event.error }) },
                    target: '#session.conversation.bindWait',
                    actions: [{ type: 'logBindError', params: ({ event }) => ({ error: event.error }) }, { type: 'noticeBindError', params: ({ event }) => ({ error: event.error }) }],
                  },
                  { target: 'starting', actions: [{ type: 'logResumeFailed', params: ({ event }) => ({ error: event.error }) }, { type: 'noteResumeFailed', params: ({ event }) => ({ error: event.error }) }] },
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
                onError: { target: '#session.conversation.bindWait', actions: [{ type: 'logBindError', params: ({ event }) => ({ error: event.error }) }, { type: 'noticeBindError', params: ({ event }) => ({ error: event.error }) }] },
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
          after: { bindRetry: 'unbound' },
        },
        ready: {
          tags: ['idle'],
          always: [
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
              actions: [{ type: 'logTurnCrash', params: ({ event }) => ({ error: event.error }) }, 'turnCrashed', { type: 'noticeTurnCrash', params: ({ event }) => ({ error: event.error }) }],
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
            input: ({ context }) => ({ threadId: context.threadId!, turnId: context.activeTurnId!, input: context.steering!.input }),
            onDone: { target: 'idle', actions: { type: 'steered', params: ({ event }) => ({ turnId: event.output.turnId }) } },
            onError: { target: 'idle', actions: [{ type: 'logSteerFailed', params: ({ event }) => ({ error: event.error }) }, 'steerFailed'] },
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
            input: ({ context, event }) => ({
              models: context.settings.fallbackModels,
              why:
                'error' in event
                  ? `model/list failed: ${errorMessage(event.error)}`
                  : `model/list did not answer within ${context.settings.modelDiscoveryMs} ms`,
            }),
            onDone: { target: 'idle', actions: [{ type: 'storeCatalog', params: ({ event }) => ({ catalog: event.output }) }, 'answerCatalog'] },
            onError: { target: 'idle', actions: 'answerCatalog' },
          },
        },
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
              actions: ['endPersist', { type: 'logPersistFailed', params: ({ event }) => ({ error: event.error }) }, { type: 'noticePersistFailed', params: ({ event }) => ({ error: event.error }) }],
            },
          },
        },
      },
    },
  },
});

export type SessionMachine = typeof sessionMachine;
