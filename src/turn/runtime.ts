// What sessions and turns need of the world. The owner (SessionManager, a test, a bench)
// passes these to `provideTurnMachine` (src/turn/provide.ts), whose actors and actions
// close over them: machine context stays plain data, no registry in between.
import type { Logger } from 'pino';
import type { ConnectionLifecycleEvent, RequestOptions } from '../connection/connection.js';
import type { ClientMethod, ParamsOf, ResultOf } from '../protocol/client-requests.js';
import type { InboundNotification } from '../protocol/notifications.js';
import type { RoomEventSink } from '../events/room-events.js';
import type { UserInput } from '../protocol/common.js';

/**
 * A connection lifecycle event as sessions see it. A pool of app-servers scopes it: `threads`
 * are the only threads it concerns (those of the member that went away); without it the
 * event concerns every thread of the connection.
 */
export type SessionLifecycleEvent = ConnectionLifecycleEvent & { threads?: ReadonlySet<string> };

/** The event concerns `threadId` (an unscoped event concerns every thread). */
export const concernsThread = (e: SessionLifecycleEvent, threadId: string | undefined): boolean =>
  e.threads === undefined || (threadId !== undefined && e.threads.has(threadId));

/** What sessions and turns need of a connection; `Connection` and `ConnectionPool` satisfy it, tests fake it. */
export interface SessionConnection {
  request<M extends ClientMethod>(method: M, params: ParamsOf<M>, opts?: RequestOptions): Promise<ResultOf<M>>;
  subscribe(threadId: string, listener: (n: InboundNotification) => void): () => void;
  onLifecycle(listener: (e: SessionLifecycleEvent) => void): () => void;
  /** Restart the app-server (of `threadId`, in a pool). */
  restart(reason: string, threadId?: string): void;
  withdrawServerRequests(threadId: string, reason: string): number;
}

/**
 * Hooks for the approval router (built elsewhere): told when a turn ends so it can
 * withdraw that turn's open prompts from the room.
 */
export interface ApprovalHooks {
  withdrawTurn(threadId: string, turnId: string, reason: string): void;
}

/**
 * What the model is given, once Codex has taken it: a turn's input (`turn/start` answered, so
 * the turn id is known) or input steered into a running turn (`turn/steer` answered).
 */
export interface ModelInput {
  session: string;
  threadId: string;
  turnId: string;
  /** The turn's `/model` choice, else the model Codex said the thread runs on; undefined only if neither is known. */
  model: string | undefined;
  input: UserInput[];
  steered: boolean;
}

/** A conversation's options for its next `turn/start` (`/effort`). */
export interface TurnOptions {
  effort?: string | undefined;
}

/** The live handles of a turn. */
export interface TurnDeps {
  /** The conversation's options for `turn/start`, read as each turn starts. */
  turnOptions?: ((session: string) => TurnOptions) | undefined;
  /** Told each input Codex took (the `llm_input` hook); must not throw. */
  onModelInput?: ((e: ModelInput) => void) | undefined;
  conn: SessionConnection;
  /** Room event sink; never throws (the host wraps it). */
  sink: RoomEventSink;
  approvals: ApprovalHooks | undefined;
  log: Logger;
  /** The clock of room event timestamps (default `Date.now`). */
  now?: () => number;
}

/** An observer that never throws into the caller (a broken hook must not break a turn). */
export function safeObserver<T>(observe: (e: T) => void, log: Logger): (e: T) => void {
  return (e) => {
    try {
      observe(e);
    } catch (err) {
      log.error({ err }, 'model input observer threw');
    }
  };
}

/** A sink that never throws into the caller (a broken host must not break a turn). */
export function safeSink(sink: RoomEventSink, log: Logger): RoomEventSink {
  return (e) => {
    try {
      sink(e);
    } catch (err) {
      log.error({ err, type: e.type }, 'room event sink threw');
    }
  };
}
