// IO of the session machine, as XState actors closing over the session host's live handles
// (`SessionDeps`). `provideSessionMachine` (./provide.ts) plugs them into the chart; tests
// swap any of them with `.provide({ actors: ... })` or run them over a fake connection.
import { fromCallback, fromPromise, type AnyEventObject } from 'xstate';
import type { Logger } from 'pino';
import { RpcError } from '../connection/errors.js';
import type { UserInput } from '../protocol/common.js';
import type { RoomEventSink } from '../events/room-events.js';
import type { ApprovalHooks, ModelInput, SessionConnection, SessionLifecycleEvent, TurnDeps } from '../turn/runtime.js';
import { BINDING_SCHEMA_VERSION, type Binding, type BindingStore } from './bindings.js';
import { catalogOf, discoverModels, type Catalog, type ModelCache } from './models.js';
import type { ModelSource } from '../supervisor/model-catalog.js';
import type { SessionSettings } from './types.js';

/** The live handles of a session host. */
export interface SessionDeps {
  conn: SessionConnection;
  /** Room event sink; never throws (the manager wraps it). */
  sink: RoomEventSink;
  approvals: ApprovalHooks | undefined;
  log: Logger;
  store: BindingStore;
  modelCache: ModelCache;
  /** The agent's one catalog (shared with `/codex models` and the room); without it, the cache above and `model/list`. */
  models?: ModelSource | undefined;
  /** Host-registered dynamic tools, declared to Codex on thread/start. */
  tools?: (() => Array<{ type: 'function'; name: string; description: string; inputSchema: Record<string, unknown> }>) | undefined;
  now: () => number;
  /** Told each input Codex took (the `llm_input` hook). */
  onModelInput?: ((e: ModelInput) => void) | undefined;
  /** Per-conversation options of each `turn/start` (`/effort`). */
  turnOptions?: TurnDeps['turnOptions'];
}

/** The thread a bind tries to resume. */
export interface ResumeCandidate {
  threadId: string;
  model: string | undefined;
  /** Undefined: the thread was bound before this process knew when; `now` is used. */
  createdAt: string | undefined;
  /** Found in the binding store (the room is told the thread continues). */
  fromStore: boolean;
}

export interface ResumeInput {
  candidate: ResumeCandidate;
  settings: SessionSettings;
}
export interface StartThreadInput {
  model: string | undefined;
  settings: SessionSettings;
}
/** A bound thread. */
export interface BoundThread {
  threadId: string;
  createdAt: string;
  /** The model Codex runs the thread on (its answer's `model`). */
  model?: string | undefined;
}

export interface SteerInput {
  session: string;
  threadId: string;
  turnId: string;
  input: UserInput[];
  /** Sent as `clientUserMessageId`. */
  clientMessageId: string;
  /** The model of the running turn, reported with the input. */
  model: string | undefined;
}

export interface ListModelsInput {
  cacheMs: number;
  staticModels: string[] | undefined;
}

export interface FallbackInput {
  models: string[];
  why: string;
}

export type PersistInput =
  | { op: 'save'; key: string; threadId: string; model: string | undefined; cwd: string; createdAt: string | undefined }
  | { op: 'delete'; key: string };

/** `threads`: the only threads concerned (a pool member went away); absent: all of them. */
export type LifecycleEvent =
  | { type: 'CONNECTION.LOST'; reason: string; threads?: ReadonlySet<string> }
  | { type: 'CONNECTION.READY'; threads?: ReadonlySet<string> }
  /** The fast restarts are spent: the app-server is retried at `retryAt`; messages fail at once meanwhile. */
  | { type: 'CONNECTION.DEGRADED'; reason: string; retryAt: number }
  /** Failed for good (a fault a restart cannot fix). */
  | { type: 'CONNECTION.FAILED'; reason: string };

const threadParams = (settings: SessionSettings) => ({
  cwd: settings.cwd,
  approvalPolicy: settings.approvalPolicy,
  sandbox: settings.sandbox,
  ...(settings.approvalsReviewer ? { approvalsReviewer: settings.approvalsReviewer } : {}),
  ...(settings.developerInstructions ? { developerInstructions: settings.developerInstructions } : {}),
});

const MISMATCH = /expected active turn id `?([^`\s]+)`? but found `?([^`\s]+)`?/i;

export function createSessionActors(deps: SessionDeps) {
  const iso = () => new Date(deps.now()).toISOString();
  return {
    /** The stored binding of the conversation (BindingCorruptError: moved aside, unusable). */
    loadBinding: fromPromise<Binding | undefined, { key: string }>(({ input }) => deps.store.load(input.key)),

    resumeThread: fromPromise<BoundThread, ResumeInput>(async ({ input, signal }) => {
      const { candidate } = input;
      const res = await deps.conn.request(
        'thread/resume',
        { threadId: candidate.threadId, ...threadParams(input.settings), ...(candidate.model ? { model: candidate.model } : {}), excludeTurns: true },
        { signal },
      );
      return { threadId: res.thread.id, createdAt: candidate.createdAt ?? iso(), model: res.model };
    }),

    startThread: fromPromise<BoundThread, StartThreadInput>(async ({ input, signal }) => {
      const dynamicTools = deps.tools?.() ?? [];
      const res = await deps.conn.request(
        'thread/start',
        { ...threadParams(input.settings), ...(input.model ? { model: input.model } : {}), ...(dynamicTools.length ? { dynamicTools } : {}) },
        { signal },
      );
      return { threadId: res.thread.id, createdAt: iso(), model: res.model };
    }),

    /** turn/steer with expectedTurnId, following "expected … but found …". */
    steer: fromPromise<{ turnId: string }, SteerInput>(async ({ input, signal }) => {
      let expected = input.turnId;
      for (let attempt = 0; ; attempt++) {
        try {
          const res = await deps.conn.request(
            'turn/steer',
            { threadId: input.threadId, input: input.input, expectedTurnId: expected, clientUserMessageId: input.clientMessageId },
            { signal },
          );
          const turnId = res.turnId ?? expected;
          deps.onModelInput?.({ session: input.session, threadId: input.threadId, turnId, model: input.model, input: input.input, steered: true });
          return { turnId };
        } catch (err) {
          const found = err instanceof RpcError ? MISMATCH.exec(err.message)?.[2] : undefined;
          if (!found || found === expected || attempt >= 2) throw err;
          deps.log.info({ expected, found }, 'turn/steer: active turn differs; retrying against it');
          expected = found;
        }
      }
    }),

    /** The catalog: static, the host-wide cache, or `model/list` (the machine bounds the wait). */
    listModels: fromPromise<Catalog, ListModelsInput>(async ({ input, signal }) => {
      if (deps.models) return deps.models.catalog();
      if (input.staticModels) return catalogOf(input.staticModels, 'static', undefined, deps.now());
      const cached = deps.modelCache.value;
      if (cached && cached.source === 'model/list' && deps.now() - cached.fetchedAt < input.cacheMs) return cached;
      const catalog = await discoverModels(deps.conn, signal, deps.now);
      deps.modelCache.value = catalog;
      return catalog;
    }),

    /** The fallback catalog, stamped now (it is reused for a short while). */
    fallbackCatalog: fromPromise<Catalog, FallbackInput>(async ({ input }) => {
      deps.log.warn({ why: input.why }, 'model discovery: using the fallback catalog');
      return catalogOf(input.models, 'fallback', input.why, deps.now());
    }),

    /** Binding writes (serialized by the machine's persist region). */
    persistBinding: fromPromise<void, PersistInput>(async ({ input }) => {
      if (input.op === 'save') await deps.store.save(bindingOf(input.key, input.threadId, input.model, input.cwd, input.createdAt, deps.now()));
      else await deps.store.remove(input.key);
    }),

    /** Connection lifecycle → session events. */
    connectionWatch: fromCallback<AnyEventObject, void, LifecycleEvent>(({ sendBack }) =>
      deps.conn.onLifecycle((e) => {
        // One pool member going away (whatever the reason) only unloads its threads.
        if (e.threads && e.type !== 'ready' && e.type !== 'recovered') sendBack({ type: 'CONNECTION.LOST', reason: lostReason(e), threads: e.threads });
        else if (e.type === 'lost') sendBack({ type: 'CONNECTION.LOST', reason: e.exit.reason });
        else if (e.type === 'ready') sendBack({ type: 'CONNECTION.READY', ...(e.threads ? { threads: e.threads } : {}) });
        else if (e.type === 'degraded') sendBack({ type: 'CONNECTION.DEGRADED', reason: e.reason, retryAt: e.retryAt });
        else if (e.type === 'failed') sendBack({ type: 'CONNECTION.FAILED', reason: e.error });
      }),
    ),
  };
}

export function bindingOf(
  key: string,
  threadId: string,
  model: string | undefined,
  cwd: string,
  createdAt: string | undefined,
  nowMs: number = Date.now(),
): Binding {
  const now = new Date(nowMs).toISOString();
  return {
    schemaVersion: BINDING_SCHEMA_VERSION,
    key,
    threadId,
    harness: 'codex',
    model: model ?? null,
    cwd,
    createdAt: createdAt ?? now,
    updatedAt: now,
  };
}

/** Why a connection (or a pool member) stopped carrying its threads, in words. */
function lostReason(e: SessionLifecycleEvent): string {
  switch (e.type) {
    case 'lost':
      return e.exit.reason;
    case 'degraded':
      return e.reason;
    case 'failed':
      return e.error;
    default:
      return `app-server ${e.type}`;
  }
}
