// The session machine's vocabulary: its types, placeholder actors, guards and actions.
// The chart that uses them is machines/session.machine.ts.
import { assign, emit, enqueueActions, fromCallback, fromPromise, sendTo, setup, stateIn, type AnyEventObject, type ParameterizedObject } from 'xstate';
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
import type { Binding } from '../src/session/bindings.js';
import { answerCatalogRequests, catalogOf, type Catalog } from '../src/session/models.js';
import { texts } from '../src/session/texts.js';
import { corruptBindingFacts, isCorruptBinding, isTransient } from '../src/session/policy.js';
import type { PendingMessage, SessionContext, SessionLog, SessionNotice, SessionRestore, SessionSettings, SlashCommand } from '../src/session/types.js';

export interface SessionMachineInput {
  /** Conversation key; the `session` of every room event. */
  key: string;
  settings: SessionSettings;
  /** Start from a hibernated session instead of a new conversation. */
  restore?: SessionRestore;
  /** The app-server is unavailable as this session starts (the manager follows the connection). */
  outage?: { reason: string; retryAt: number | undefined };
}

export type SessionEvent =
  | { type: 'MESSAGE'; message: PendingMessage }
  | { type: 'COMMAND'; command: SlashCommand }
  | TurnParentEvent
  | LifecycleEvent;

/** What a session emits: room events without `session`/`at` (the manager stamps them), and log lines. */
export type SessionEmitted =
  | ({ type: 'notice' } & SessionNotice)
  /** A message refused without a turn (the app-server is unavailable). */
  | { type: 'turn.failed'; turnId: undefined; threadId: string | undefined; error: string; action?: 'review' | 'compact' }
  | SessionLog;

const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const notice = (level: SessionNotice['level'], text: string): SessionEmitted => ({ type: 'notice', level, text });
const logLine = (level: SessionLog['level'], msg: string, data: Record<string, unknown>): SessionLog => ({ type: 'log', level, msg, data });
type Err = { error: unknown };

/** `enqueueActions` typed without the machine's guards (their params defeat its inference). */
type Collect<P extends Params> = Parameters<typeof enqueueActions<SessionContext, SessionEvent, P, SessionEvent, never, never, never, never, SessionEmitted>>[0];
type Params = ParameterizedObject['params'] | undefined;
const collect = <P extends Params = undefined>(f: Collect<P>) =>
  enqueueActions<SessionContext, SessionEvent, P, SessionEvent, never, never, never, never, SessionEmitted>(f);
/** The params of an action or guard about a failed actor. */
export const withError = ({ event }: { event: { error: unknown } }): Err => ({ error: event.error });

// Placeholders: `provideSessionMachine` supplies the real actors.
const unprovided = (name: string) => () => {
  throw new Error(`session machine: actor "${name}" was not provided`);
};

export const sessionSetup = setup({
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
    /** A connection event about this session's thread (a pool scopes them to one member's threads). */
    concernsMyThread: ({ context, event }) =>
      !('threads' in event) || event.threads === undefined || (context.threadId !== undefined && event.threads.has(context.threadId)),
    needsBind: ({ context }) => context.queue.length > 0 && (!context.threadLoaded || context.threadId === undefined),
    canStartTurn: ({ context }) => context.queue.length > 0 && context.steering === undefined,
    inTurn: stateIn({ conversation: 'turn' }),
    steerMode: ({ context }) => context.settings.busyMode === 'steer',
    canSteer: ({ context }) => context.steerQueue.length > 0 && context.activeTurnId !== undefined && !context.stopping,
    turnStopping: ({ context }) => context.stopping,
    /** The message is a review or compaction, or one of those is the running turn. */
    actionInvolved: ({ context, event }) => (event.type === 'MESSAGE' && event.message.action !== undefined) || context.current?.action !== undefined,
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
    /** The app-server is unavailable (degraded or failed for good). */
    hasOutage: ({ context }) => context.outage !== undefined,
    /** The room was told of the outage: it is told when it ends, too. */
    outageTold: ({ context }) => context.outage?.told === true,
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
    /** The store moved an unusable binding file aside: a new thread, and the room is told why. */
    noteCorruptBinding: collect<Err>(({ context, enqueue }, p) => {
      const err = corruptBindingFacts(p.error);
      enqueue.emit(logLine('error', 'corrupt binding; starting a new thread', { err: err.message, key: context.key, movedTo: err.movedTo }));
      enqueue.assign({ bindNotices: [...context.bindNotices, { level: 'warning', text: texts.corruptBinding(err) }] });
    }),
    noteResumeFailed: collect<Err>(({ context, enqueue }, p) => {
      const threadId = context.candidate?.threadId ?? '';
      enqueue.emit(logLine('warn', 'thread/resume failed; starting a new thread', { err: errorMessage(p.error), threadId }));
      enqueue.assign({ bindNotices: [...context.bindNotices, { level: 'warning', text: texts.resumeFailed(threadId, errorMessage(p.error)) }] });
    }),
    /** Bound: record the thread and what the bind will tell the room. */
    recordBinding: assign(({ context }, p: { thread: BoundThread; resumed: boolean }) => ({
      threadId: p.thread.threadId,
      threadLoaded: true,
      createdAt: p.thread.createdAt,
      threadModel: p.thread.model,
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
    bindFailed: collect<Err>(({ context, enqueue }, p) => {
      const err = errorMessage(p.error);
      enqueue.emit(logLine('warn', 'binding the Codex thread failed', { err, key: context.key }));
      enqueue.emit(notice('error', texts.bindFailed(err, context.queue.length, context.settings.bindRetryMs)));
    }),
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
      // The binding changes only on bind, /model and /reset (saved then); a turn's end saves it
      // only to retry a failed write, not to refresh updatedAt (a durable write per turn).
      persist: context.threadId && context.unsaved ? ('save' as const) : context.persist,
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
    turnCrashed: collect<Err>(({ context, enqueue }, p) => {
      const err = errorMessage(p.error);
      enqueue.emit(logLine('error', 'turn actor crashed', { err, key: context.key }));
      enqueue.assign({ current: undefined, activeTurnId: undefined, queue: [...context.queue, ...context.steerQueue], steerQueue: [] });
      enqueue.emit(notice('error', texts.turnCrashed(err)));
    }),
    stopTurn: sendTo('turn', { type: 'STOP', reason: 'stopped by /stop' }),
    popSteer: assign({
      steering: ({ context }) => context.steerQueue[0],
      steerQueue: ({ context }) => context.steerQueue.slice(1),
    }),
    steered: assign({
      steering: undefined,
      activeTurnId: ({ context }, p: { turnId: string }) => (context.current !== undefined ? p.turnId : context.activeTurnId),
    }),
    steerFailed: collect<Err>(({ context, enqueue }, p) => {
      const msg = context.steering;
      enqueue.emit(logLine('info', 'turn/steer failed; message queued', { err: errorMessage(p.error), key: context.key }));
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
      const a = answerCatalogRequests(catalog, context.model, context.catalogRequests, context.current !== undefined, context.settings.modelAliases);
      enqueue.assign({ catalogRequests: [], model: a.model, persist: a.changed && context.threadId ? 'save' : context.persist });
      for (const t of a.texts) enqueue.emit(notice(t.level, t.text));
    }),
    startPersist: assign({ writing: ({ context }) => context.persist, persist: undefined }),
    endPersist: assign({ writing: undefined, unsaved: false }),
    persistFailed: collect<Err>(({ context, enqueue }, p) => {
      const err = errorMessage(p.error);
      enqueue.assign({ unsaved: true });
      enqueue.emit(logLine('error', 'saving the thread binding failed', { err, key: context.key }));
      enqueue.emit(notice('warning', texts.persistFailed(err)));
    }),
    logWatchError: emit(({ context }, p: Err) => logLine('error', 'connection watch failed', { err: errorMessage(p.error), key: context.key })),
    recordOutage: assign({
      outage: ({ context, event }) =>
        event.type === 'CONNECTION.DEGRADED' || event.type === 'CONNECTION.FAILED'
          ? { reason: event.reason, retryAt: event.type === 'CONNECTION.DEGRADED' ? event.retryAt : undefined, told: context.outage?.told ?? false }
          : context.outage,
    }),
    clearOutage: assign({ outage: undefined }),
    /** Every waiting message fails at once (no turn, no retry loop); the room hears why once per outage. */
    refuseQueued: collect(({ context, enqueue }) => {
      const o = context.outage;
      if (!o) return;
      enqueue.emit(logLine('warn', 'app-server unavailable: messages not run', { key: context.key, messages: context.queue.length, reason: o.reason }));
      if (!o.told) enqueue.emit(notice('error', texts.unavailable(o.reason, o.retryAt)));
      for (const m of context.queue) {
        enqueue.emit({ type: 'turn.failed', turnId: undefined, threadId: context.threadId, error: texts.notRun, ...(m.action ? { action: m.action.type } : {}) });
      }
      enqueue.assign({ queue: [], outage: { ...o, told: true } });
    }),
    noticeUnavailable: emit(({ context }) => notice('error', texts.unavailable(context.outage?.reason ?? 'unknown', context.outage?.retryAt))),
    noticeBack: emit(notice('info', texts.back)),
    noticeNothingToStop: emit(notice('info', texts.nothingToStop)),
    noticeStopping: emit(({ context }) => notice('info', texts.stopping(context.queue.length))),
    noticeBusy: emit(notice('warning', texts.busy)),
    prepareNew: assign({ fresh: true }),
    reset: assign(({ context }) => ({ threadId: undefined, threadLoaded: false, createdAt: undefined, model: context.settings.model, fresh: true, persist: 'delete' as const })),
    noticeReset: emit(notice('info', texts.reset)),
    noticeStatus: emit(({ context, self }) => notice('info', texts.status(context, self.getSnapshot().value))),
  },
});
