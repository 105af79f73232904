// IO of the session machine, as XState actors. Tests replace them with
// `sessionMachine.provide({ actors: ... })` or run them over a fake connection.
import { fromCallback, fromPromise, type AnyEventObject } from 'xstate';
import { ConnectionLostError, RpcError, RpcTimeoutError } from '../connection/errors.js';
import { ErrorCodes } from '../protocol/wire.js';
import type { UserInput } from '../protocol/common.js';
import { BindingCorruptError, BINDING_SCHEMA_VERSION, type Binding } from './bindings.js';
import { catalogOf, discoverModels, type Catalog } from './models.js';
import { sessionRuntimes } from './runtime.js';
import type { SessionSettings } from './types.js';

export interface SessionNotice {
  level: 'info' | 'warning' | 'error';
  text: string;
}

const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The connection, not Codex, is the problem: retry later rather than give up a thread. */
export function isTransient(err: unknown): boolean {
  if (err instanceof ConnectionLostError || err instanceof RpcTimeoutError) return true;
  if (err instanceof RpcError) return err.code === ErrorCodes.overloaded || /active writer/i.test(err.message);
  const msg = errorMessage(err);
  // "already has an active writer": the previous app-server still holds the thread; it is
  // going away, so resume again shortly instead of forking the conversation.
  return /not ready|aborted|connection (is )?(stopped|failed|lost)|active writer/i.test(msg);
}

// ---------------------------------------------------------------------------------------
// bind: thread/resume (binding known) or thread/start

export interface BindInput {
  runtimeId: string;
  key: string;
  /** Start a new thread whatever the store says (`/new`, `/reset`). */
  fresh: boolean;
  /** The thread this session already uses (after a connection loss): resume it. */
  knownThreadId: string | undefined;
  knownCreatedAt: string | undefined;
  model: string | undefined;
  settings: SessionSettings;
}

export interface BindOutput {
  threadId: string;
  resumed: boolean;
  /** The model the session uses from now on (binding's, else the configured one). */
  model: string | undefined;
  createdAt: string;
  notices: SessionNotice[];
}

export const bindThreadActor = fromPromise<BindOutput, BindInput>(async ({ input, signal }) => {
  const rt = sessionRuntimes.get(input.runtimeId);
  const { settings } = input;
  const notices: SessionNotice[] = [];
  let candidate: { threadId: string; model: string | undefined; createdAt: string; fromStore: boolean } | undefined;
  if (!input.fresh && input.knownThreadId) {
    candidate = { threadId: input.knownThreadId, model: input.model, createdAt: input.knownCreatedAt ?? new Date().toISOString(), fromStore: false };
  } else if (!input.fresh) {
    try {
      const b = await rt.store.load(input.key);
      if (b) candidate = { threadId: b.threadId, model: b.model ?? input.model, createdAt: b.createdAt, fromStore: true };
    } catch (err) {
      if (!(err instanceof BindingCorruptError)) throw err;
      rt.log.error({ err: err.message, key: input.key, movedTo: err.movedTo }, 'corrupt binding; starting a new thread');
      notices.push({
        level: 'warning',
        text: `The saved thread binding of this conversation is corrupt (${err.detail}); started a new Codex thread.${
          err.movedTo ? ` The old file was kept as ${err.movedTo}.` : ''
        }`,
      });
    }
  }
  const common = {
    cwd: settings.cwd,
    approvalPolicy: settings.approvalPolicy,
    sandbox: settings.sandbox,
    ...(settings.approvalsReviewer ? { approvalsReviewer: settings.approvalsReviewer } : {}),
    ...(settings.developerInstructions ? { developerInstructions: settings.developerInstructions } : {}),
  };
  if (candidate) {
    try {
      const res = await rt.conn.request(
        'thread/resume',
        { threadId: candidate.threadId, ...common, ...(candidate.model ? { model: candidate.model } : {}), excludeTurns: true },
        { signal },
      );
      if (candidate.fromStore) notices.push({ level: 'info', text: `Continuing Codex thread ${res.thread.id}.` });
      return { threadId: res.thread.id, resumed: true, model: candidate.model, createdAt: candidate.createdAt, notices };
    } catch (err) {
      if (isTransient(err) || signal.aborted) throw err;
      rt.log.warn({ err: errorMessage(err), threadId: candidate.threadId }, 'thread/resume failed; starting a new thread');
      notices.push({
        level: 'warning',
        text: `Started a new Codex thread because resuming thread ${candidate.threadId} failed: ${errorMessage(err)}`,
      });
    }
  }
  const model = input.model ?? settings.model;
  const dynamicTools = rt.tools?.() ?? [];
  const res = await rt.conn.request(
    'thread/start',
    { ...common, ...(model ? { model } : {}), ...(dynamicTools.length ? { dynamicTools } : {}) },
    { signal },
  );
  return { threadId: res.thread.id, resumed: false, model, createdAt: new Date().toISOString(), notices };
});

// ---------------------------------------------------------------------------------------
// steer: turn/steer with expectedTurnId, following "expected … but found …"

export interface SteerInput {
  runtimeId: string;
  threadId: string;
  turnId: string;
  input: UserInput[];
}

const MISMATCH = /expected active turn id `?([^`\s]+)`? but found `?([^`\s]+)`?/i;

export const steerActor = fromPromise<{ turnId: string }, SteerInput>(async ({ input, signal }) => {
  const rt = sessionRuntimes.get(input.runtimeId);
  let expected = input.turnId;
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await rt.conn.request('turn/steer', { threadId: input.threadId, input: input.input, expectedTurnId: expected }, { signal });
      return { turnId: res.turnId ?? expected };
    } catch (err) {
      const found = err instanceof RpcError ? MISMATCH.exec(err.message)?.[2] : undefined;
      if (!found || found === expected || attempt >= 2) throw err;
      rt.log.info({ expected, found }, 'turn/steer: active turn differs; retrying against it');
      expected = found;
    }
  }
});

// ---------------------------------------------------------------------------------------
// model catalog

export interface ListModelsInput {
  runtimeId: string;
  cacheMs: number;
  staticModels: string[] | undefined;
}

/** The catalog: static, the host-wide cache, or `model/list` (the machine bounds the wait). */
export const listModelsActor = fromPromise<Catalog, ListModelsInput>(async ({ input, signal }) => {
  if (input.staticModels) return catalogOf(input.staticModels, 'static');
  const rt = sessionRuntimes.get(input.runtimeId);
  const cached = rt.modelCache.value;
  if (cached && cached.source === 'model/list' && Date.now() - cached.fetchedAt < input.cacheMs) return cached;
  const catalog = await discoverModels(rt.conn, signal);
  rt.modelCache.value = catalog;
  return catalog;
});

// ---------------------------------------------------------------------------------------
// binding persistence (serialized by the machine's persist region)

export type PersistInput =
  | { runtimeId: string; op: 'save'; binding: Binding }
  | { runtimeId: string; op: 'delete'; key: string };

export const persistBindingActor = fromPromise<void, PersistInput>(async ({ input }) => {
  const rt = sessionRuntimes.get(input.runtimeId);
  if (input.op === 'save') await rt.store.save(input.binding);
  else await rt.store.remove(input.key);
});

export function bindingOf(key: string, threadId: string, model: string | undefined, cwd: string, createdAt: string | undefined): Binding {
  const now = new Date().toISOString();
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

// ---------------------------------------------------------------------------------------
// connection lifecycle → session events

export type LifecycleEvent = { type: 'CONNECTION.LOST'; reason: string } | { type: 'CONNECTION.READY' };

export const connectionWatchActor = fromCallback<AnyEventObject, { runtimeId: string }, LifecycleEvent>(({ input, sendBack }) => {
  const rt = sessionRuntimes.get(input.runtimeId);
  return rt.conn.onLifecycle((e) => {
    if (e.type === 'lost') sendBack({ type: 'CONNECTION.LOST', reason: e.exit.reason });
    else if (e.type === 'ready') sendBack({ type: 'CONNECTION.READY' });
  });
});
