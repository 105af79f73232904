// The session actor: one conversation (room/channel/thread, optionally per participant)
// bound to one Codex thread. Parallel regions:
//
//   conversation: unbound → binding → ready ⇄ turn        (bindWait on a failed bind)
//   steer:        idle ⇄ steering                         (messages into the running turn)
//   catalog:      idle ⇄ loading                          (/model, /models; discovery timeout)
//   persist:      idle ⇄ writing                          (binding file, one write at a time)
//
// A session may start from a hibernated record (`input.restore`): an idle session's plain
// data, kept by the manager while its actor is stopped. It enters `ready` on its known thread
// at once; a thread that is not loaded any more (connection restarted) is resumed first.
//
// One turn at a time. A message during a turn is steered (default) or queued; a steer that
// fails (the turn just ended) queues the message. Queued messages are never dropped.
import { and, assign, enqueueActions, not, sendTo, setup, stateIn } from 'xstate';
import { turnMachine, type TurnOutput, type TurnParentEvent } from './turn.machine.js';
import {
  bindingOf,
  bindThreadActor,
  connectionWatchActor,
  listModelsActor,
  persistBindingActor,
  steerActor,
  type BindOutput,
  type LifecycleEvent,
  type SessionNotice,
} from '../src/session/actors.js';
import { catalogOf, describeCatalog, findModel, type Catalog } from '../src/session/models.js';
import { sessionRuntimes } from '../src/session/runtime.js';
import type { PendingMessage, SessionSettings, SlashCommand } from '../src/session/types.js';

export interface SessionMachineInput {
  /** Key of the live handles in `sessionRuntimes`. */
  runtimeId: string;
  /** Conversation key; the `session` of every room event. */
  key: string;
  settings: SessionSettings;
  /** Start from a hibernated session instead of a new conversation. */
  restore?: SessionRestore;
}

/** What an idle session needs to go on where it left off (see `src/session/hibernate.ts`). */
export interface SessionRestore {
  threadId: string | undefined;
  /** False when the connection restarted since the thread was bound: resume it first. */
  threadLoaded: boolean;
  createdAt: string | undefined;
  model: string | undefined;
  fresh: boolean;
  turns: number;
  lastTurn: SessionContext['lastTurn'];
  catalog: Catalog | undefined;
}

type CatalogRequest = { kind: 'model'; name: string } | { kind: 'models' };

export interface SessionContext {
  runtimeId: string;
  key: string;
  settings: SessionSettings;
  threadId: string | undefined;
  /** The thread is loaded in the current app-server process (false after a restart). */
  threadLoaded: boolean;
  createdAt: string | undefined;
  /** Model passed on `turn/start`; `/model` changes it from the next turn. */
  model: string | undefined;
  /** The next bind starts a new thread (`/new`, `/reset`). */
  fresh: boolean;
  queue: PendingMessage[];
  /** The message that started the running turn. */
  current: PendingMessage | undefined;
  activeTurnId: string | undefined;
  /** The running turn is being interrupted: new messages queue instead of steering. */
  stopping: boolean;
  steerQueue: PendingMessage[];
  /** The message a `turn/steer` is in flight for. */
  steering: PendingMessage | undefined;
  catalog: Catalog | undefined;
  catalogRequests: CatalogRequest[];
  /** A binding write is due. */
  persist: 'save' | 'delete' | undefined;
  /** The write in progress. */
  writing: 'save' | 'delete' | undefined;
  turns: number;
  /** Times the current message was retried because its thread was not loaded. */
  startRetries: number;
  lastTurn: { status: string; turnId: string | undefined; error: string | undefined } | undefined;
}

export type SessionEvent =
  | { type: 'MESSAGE'; message: PendingMessage }
  | { type: 'COMMAND'; command: SlashCommand }
  | TurnParentEvent
  | LifecycleEvent;

const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const FALLBACK_CACHE_MS = 30_000;

export const sessionMachine = setup({
  types: {
    context: {} as SessionContext,
    events: {} as SessionEvent,
    input: {} as SessionMachineInput,
  },
  actors: {
    bind: bindThreadActor,
    turn: turnMachine,
    steer: steerActor,
    listModels: listModelsActor,
    persistBinding: persistBindingActor,
    connectionWatch: connectionWatchActor,
  },
  delays: {
    bindRetry: ({ context }) => context.settings.bindRetryMs,
    modelDiscovery: ({ context }) => context.settings.modelDiscoveryMs,
  },
  guards: {
    hasQueue: ({ context }) => context.queue.length > 0,
    /** The session has a thread of its own (not `/new`, not reset). */
    hasThread: ({ context }) => context.threadId !== undefined && !context.fresh,
    needsBind: ({ context }) => context.queue.length > 0 && (!context.threadLoaded || context.threadId === undefined),
    canStartTurn: ({ context }) => context.queue.length > 0 && context.steering === undefined,
    inTurn: stateIn({ conversation: 'turn' }),
    steerMode: ({ context }) => context.settings.busyMode === 'steer',
    canSteer: ({ context }) => context.steerQueue.length > 0 && context.activeTurnId !== undefined && !context.stopping,
    turnStopping: ({ context }) => context.stopping,
    wantsCatalog: ({ context }) => context.catalogRequests.length > 0,
    catalogFresh: ({ context }) => catalogFresh(context),
    wantsWrite: ({ context }) => context.persist === 'delete' || (context.persist === 'save' && context.threadId !== undefined),
    isModel: ({ event }) => event.type === 'COMMAND' && (event.command.name === 'model' || event.command.name === 'models'),
    isStop: ({ event }) => event.type === 'COMMAND' && event.command.name === 'stop',
    isNew: ({ event }) => event.type === 'COMMAND' && event.command.name === 'new',
    isReset: ({ event }) => event.type === 'COMMAND' && event.command.name === 'reset',
    isStatus: ({ event }) => event.type === 'COMMAND' && event.command.name === 'status',
    retryStart: ({ context, event }) =>
      (event as { output?: TurnOutput }).output?.retry === true && context.current !== undefined && context.startRetries < 1,
  },
  actions: {
    enqueue: assign({
      queue: ({ context, event }) => (event.type === 'MESSAGE' ? [...context.queue, event.message] : context.queue),
    }),
    enqueueSteer: assign({
      steerQueue: ({ context, event }) => (event.type === 'MESSAGE' ? [...context.steerQueue, event.message] : context.steerQueue),
    }),
    noticeQueued: ({ context }) =>
      notice(context, 'info', `A turn is running; your message is queued (${context.queue.length} waiting).`),
    markUnloaded: assign({ threadLoaded: false }),
    recordBinding: assign(({ event }) => {
      const out = (event as unknown as { output: BindOutput }).output;
      return {
        threadId: out.threadId,
        threadLoaded: true,
        createdAt: out.createdAt,
        model: out.model,
        fresh: false,
        persist: 'save' as const,
      };
    }),
    noticeBinding: ({ context, event }) => {
      const out = (event as unknown as { output: BindOutput }).output;
      for (const n of out.notices) notice(context, n.level, n.text);
    },
    noticeBindError: ({ context, event }) => {
      const err = errorMessage((event as { error?: unknown }).error);
      sessionRuntimes.get(context.runtimeId).log.warn({ err, key: context.key }, 'binding the Codex thread failed');
      notice(
        context,
        'error',
        `Could not open the Codex thread: ${err}. ${context.queue.length ? `Will retry in ${Math.round(context.settings.bindRetryMs / 1000)} s; ${context.queue.length} message(s) kept.` : ''}`.trim(),
      );
    },
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
    turnEnded: enqueueActions(({ context, event, enqueue }) => {
      const out = (event as unknown as { output: TurnOutput }).output;
      const leftover = context.steerQueue;
      enqueue.assign({
        current: undefined,
        activeTurnId: undefined,
        steerQueue: [],
        queue: [...context.queue, ...leftover],
        turns: context.turns + 1,
        startRetries: 0,
        persist: context.threadId ? 'save' : context.persist,
        lastTurn: { status: out.status, turnId: out.turnId, error: out.error },
      });
      if (leftover.length) {
        enqueue(() =>
          notice(context, 'info', `The turn ended before ${leftover.length} message(s) could be added to it; they will run next.`),
        );
      }
    }),
    requeueForRetry: assign({
      queue: ({ context }) => (context.current ? [context.current, ...context.steerQueue, ...context.queue] : context.queue),
      steerQueue: [],
      current: undefined,
      activeTurnId: undefined,
      threadLoaded: false,
      startRetries: ({ context }) => context.startRetries + 1,
    }),
    turnCrashed: enqueueActions(({ context, event, enqueue }) => {
      const err = errorMessage((event as { error?: unknown }).error);
      sessionRuntimes.get(context.runtimeId).log.error({ err, key: context.key }, 'turn actor crashed');
      enqueue.assign({
        current: undefined,
        activeTurnId: undefined,
        queue: [...context.queue, ...context.steerQueue],
        steerQueue: [],
      });
      enqueue(() => notice(context, 'error', `The turn failed unexpectedly: ${err}`));
    }),
    stopTurn: sendTo('turn', { type: 'STOP', reason: 'stopped by /stop' }),
    popSteer: assign({
      steering: ({ context }) => context.steerQueue[0],
      steerQueue: ({ context }) => context.steerQueue.slice(1),
    }),
    steered: assign({
      steering: undefined,
      activeTurnId: ({ context, event }) =>
        context.current !== undefined ? ((event as { output?: { turnId?: string } }).output?.turnId ?? context.activeTurnId) : context.activeTurnId,
    }),
    steerFailed: enqueueActions(({ context, event, enqueue }) => {
      const msg = context.steering;
      const err = errorMessage((event as { error?: unknown }).error);
      sessionRuntimes.get(context.runtimeId).log.info({ err, key: context.key }, 'turn/steer failed; message queued');
      enqueue.assign({ steering: undefined, queue: msg ? [...context.queue, msg] : context.queue });
      if (msg) enqueue(() => notice(context, 'info', 'Your message could not be added to the running turn; it will run as the next turn.'));
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
    storeCatalog: assign({ catalog: ({ event }) => (event as unknown as { output: Catalog }).output }),
    useFallback: assign({
      catalog: ({ context, event }) => {
        const why = 'error' in event ? `model/list failed: ${errorMessage((event as { error?: unknown }).error)}` : `model/list did not answer within ${context.settings.modelDiscoveryMs} ms`;
        sessionRuntimes.get(context.runtimeId).log.warn({ why }, 'model discovery: using the fallback catalog');
        return catalogOf(context.settings.fallbackModels, 'fallback', why);
      },
    }),
    answerCatalog: enqueueActions(({ context, enqueue }) => {
      const catalog = context.catalog ?? catalogOf(context.settings.fallbackModels, 'fallback');
      let model = context.model;
      let changed = false;
      const texts: Array<[SessionNotice['level'], string]> = [];
      for (const r of context.catalogRequests) {
        if (r.kind === 'models') {
          texts.push(['info', describeCatalog(catalog, model)]);
        } else if (r.name === '') {
          texts.push(['info', `Model: ${model ?? 'the Codex default'}. Use /model NAME to switch, /models to list.`]);
        } else {
          const found = findModel(catalog, r.name);
          if (!found) {
            const names = catalog.models.filter((m) => !m.hidden).map((m) => m.model);
            texts.push(['warning', `Unknown model "${r.name}". Available: ${names.join(', ')}.`]);
          } else {
            model = found.model;
            changed = true;
            const when = context.current !== undefined ? 'from the next turn' : 'from the next message';
            texts.push(['info', `Model set to ${found.model}; it applies ${when}, in the same Codex thread.`]);
          }
        }
      }
      enqueue.assign({ catalogRequests: [], model, persist: changed && context.threadId ? 'save' : context.persist });
      enqueue(() => {
        for (const [level, text] of texts) notice(context, level, text);
      });
    }),
    startPersist: assign({ writing: ({ context }) => context.persist, persist: undefined }),
    persistFailed: ({ context, event }) => {
      const err = errorMessage((event as { error?: unknown }).error);
      sessionRuntimes.get(context.runtimeId).log.error({ err, key: context.key }, 'saving the thread binding failed');
      notice(context, 'warning', `Could not save the thread binding (${err}); a host restart may not resume this thread.`);
    },
    noticeNothingToStop: ({ context }) => notice(context, 'info', 'Nothing to stop: no turn is running.'),
    noticeStopping: ({ context }) =>
      notice(
        context,
        'info',
        `Stopping the current turn…${context.queue.length ? ` ${context.queue.length} queued message(s) will run after it.` : ''}`,
      ),
    noticeBusy: ({ context }) =>
      notice(context, 'warning', 'A turn is running or messages are waiting; /stop it (or wait) before /new or /reset.'),
    prepareNew: assign({ fresh: true }),
    reset: assign(({ context }) => ({
      threadId: undefined,
      threadLoaded: false,
      createdAt: undefined,
      model: context.settings.model,
      fresh: true,
      persist: 'delete' as const,
    })),
    noticeReset: ({ context }) =>
      notice(context, 'info', 'Cleared the thread binding of this conversation; the next message starts a new Codex thread.'),
    noticeNewThread: ({ context }) => notice(context, 'info', `Started a new Codex thread ${context.threadId}.`),
    noticeStatus: ({ context, self }) => {
      const snap = self.getSnapshot();
      const turn = context.current ? `running (turn ${context.activeTurnId ?? 'starting'})` : 'idle';
      notice(
        context,
        'info',
        [
          `Thread: ${context.threadId ?? 'none yet'}`,
          `Model: ${context.model ?? 'the Codex default'}`,
          `Turn: ${turn}`,
          `Queued: ${context.queue.length}`,
          `Mode: ${context.settings.busyMode}`,
          `State: ${JSON.stringify(snap.value)}`,
        ].join('\n'),
      );
    },
  },
}).createMachine({
  id: 'session',
  type: 'parallel',
  context: ({ input }) => ({
    runtimeId: input.runtimeId,
    key: input.key,
    settings: input.settings,
    threadId: input.restore?.threadId,
    threadLoaded: input.restore?.threadLoaded ?? false,
    createdAt: input.restore?.createdAt,
    model: input.restore ? input.restore.model : input.settings.model,
    fresh: input.restore?.fresh ?? false,
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
    input: ({ context }) => ({ runtimeId: context.runtimeId }),
    onError: {
      actions: ({ context, event }) =>
        sessionRuntimes.get(context.runtimeId).log.error({ err: errorMessage(event.error), key: context.key }, 'connection watch failed'),
    },
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
          always: [
            // A thread of its own (restored, or back from bindWait): `ready` resumes it if needed.
            { guard: 'hasThread', target: 'ready' },
            { guard: 'hasQueue', target: 'binding' },
          ],
        },
        binding: {
          invoke: {
            id: 'bind',
            src: 'bind',
            input: ({ context }) => ({
              runtimeId: context.runtimeId,
              key: context.key,
              fresh: context.fresh,
              knownThreadId: context.fresh ? undefined : context.threadId,
              knownCreatedAt: context.createdAt,
              model: context.model,
              settings: context.settings,
            }),
            onDone: [
              {
                guard: ({ event }) => !event.output.resumed && event.output.notices.length === 0,
                target: 'ready',
                actions: ['recordBinding', 'noticeBinding', 'noticeNewThread'],
              },
              { target: 'ready', actions: ['recordBinding', 'noticeBinding'] },
            ],
            onError: { target: 'bindWait', actions: 'noticeBindError' },
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
          after: { bindRetry: 'unbound' },
        },
        ready: {
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
          entry: 'dequeue',
          invoke: {
            id: 'turn',
            src: 'turn',
            input: ({ context }) => ({
              runtimeId: context.runtimeId,
              session: context.key,
              threadId: context.threadId!,
              input: context.current!.input,
              model: context.model,
              watchdogMs: context.settings.watchdogMs,
              startTimeoutMs: context.settings.startTimeoutMs,
              interruptWaitMs: context.settings.interruptWaitMs,
            }),
            onDone: [
              { guard: 'retryStart', target: 'ready', actions: 'requeueForRetry' },
              { target: 'ready', actions: 'turnEnded' },
            ],
            onError: { target: 'ready', actions: 'turnCrashed' },
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
          invoke: {
            id: 'steer',
            src: 'steer',
            input: ({ context }) => ({
              runtimeId: context.runtimeId,
              threadId: context.threadId!,
              turnId: context.activeTurnId!,
              input: context.steering!.input,
            }),
            onDone: { target: 'idle', actions: 'steered' },
            onError: { target: 'idle', actions: 'steerFailed' },
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
          invoke: {
            id: 'models',
            src: 'listModels',
            input: ({ context }) => ({
              runtimeId: context.runtimeId,
              cacheMs: context.settings.modelCacheMs,
              staticModels: context.settings.models,
            }),
            onDone: { target: 'idle', actions: ['storeCatalog', 'answerCatalog'] },
            onError: { target: 'idle', actions: ['useFallback', 'answerCatalog'] },
          },
          after: { modelDiscovery: { target: 'idle', actions: ['useFallback', 'answerCatalog'] } },
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
          entry: 'startPersist',
          invoke: {
            id: 'persist',
            src: 'persistBinding',
            input: ({ context }) =>
              context.writing === 'delete'
                ? { runtimeId: context.runtimeId, op: 'delete' as const, key: context.key }
                : {
                    runtimeId: context.runtimeId,
                    op: 'save' as const,
                    binding: bindingOf(context.key, context.threadId!, context.model, context.settings.cwd, context.createdAt),
                  },
            onDone: { target: 'idle', actions: assign({ writing: undefined }) },
            onError: { target: 'idle', actions: [assign({ writing: undefined }), 'persistFailed'] },
          },
        },
      },
    },
  },
});

export type SessionMachine = typeof sessionMachine;

function catalogFresh(context: SessionContext): boolean {
  const c = context.catalog;
  if (!c) return false;
  const age = Date.now() - c.fetchedAt;
  if (c.source === 'static') return true;
  if (c.source === 'fallback') return age < FALLBACK_CACHE_MS;
  return age < context.settings.modelCacheMs;
}

function notice(context: Pick<SessionContext, 'runtimeId' | 'key'>, level: SessionNotice['level'], text: string): void {
  sessionRuntimes.get(context.runtimeId).sink({ type: 'notice', session: context.key, at: Date.now(), level, text });
}
