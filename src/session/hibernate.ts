// Hibernation: an idle session is kept as plain data, not as a live actor tree. The manager
// stops the idle session's actor and keeps this record; the next message (or command) of the
// conversation starts a new actor from it (`SessionMachineInput.restore`), on the same thread,
// with the same model and counters. No `thread/resume` is sent unless the connection lost or
// replaced its app-server since the thread was bound — then the restored session resumes the
// thread first, exactly as a live session does after CONNECTION.READY.
import type { SnapshotFrom } from 'xstate';
import type { SessionContext, SessionMachine, SessionRestore } from '../../machines/session.machine.js';
import type { Catalog } from './models.js';
import type { SessionStatus } from './manager.js';
import type { SessionSettings } from './types.js';

type SessionSnapshot = SnapshotFrom<SessionMachine>;

/** An idle session as data: what its actor held that outlives a turn. */
export interface HibernatedSession {
  readonly hibernated: true;
  /** The manager's settings object (a reference, not a copy). */
  readonly settings: SessionSettings;
  readonly threadId: string | undefined;
  readonly model: string | undefined;
  readonly createdAt: string | undefined;
  /** The next bind starts a new thread (`/new` failed to bind, or `/reset`). */
  readonly fresh: boolean;
  /** The thread was loaded in the app-server when the session was hibernated… */
  readonly threadLoaded: boolean;
  /** …by the connection as it was then (the manager's epoch, bumped on `lost` and `ready`). */
  readonly epoch: number;
  /** Where the conversation region was: `ready` (bound) or `unbound`. */
  readonly conversation: 'ready' | 'unbound';
  readonly turns: number;
  readonly lastTurn: SessionContext['lastTurn'];
  /** The catalog the session last used (usually the host-wide one: a shared reference). */
  readonly catalog: Catalog | undefined;
  readonly threadModel: string | undefined;
}

/**
 * Nothing to do: no turn, nothing queued or being steered, no bind, model lookup or binding
 * write in progress, and no timer running (bindWait, discovery) — safe to stop.
 */
export function isIdle(s: SessionSnapshot): boolean {
  const c = s.context;
  return (
    // The chart's tags: the conversation rests (`idle`), no region has work in flight (`busy`).
    s.hasTag('idle') &&
    !s.hasTag('busy') &&
    c.current === undefined &&
    c.queue.length === 0 &&
    c.steerQueue.length === 0 &&
    c.steering === undefined &&
    c.catalogRequests.length === 0 &&
    c.persist === undefined
  );
}

/** The record of an idle session (call only when `isIdle(snapshot)`). */
export function hibernate(snapshot: SessionSnapshot, epoch: number): HibernatedSession {
  const c = snapshot.context;
  return {
    hibernated: true,
    settings: c.settings,
    threadId: c.threadId,
    model: c.model,
    createdAt: c.createdAt,
    fresh: c.fresh,
    threadLoaded: c.threadLoaded,
    epoch,
    conversation: c.threadId !== undefined && !c.fresh ? 'ready' : 'unbound',
    turns: c.turns,
    lastTurn: c.lastTurn,
    threadModel: c.threadModel,
    catalog: c.catalog,
  };
}

/** The record needs `thread/resume` before its next turn: the connection restarted since. */
function needsResume(record: HibernatedSession, epoch: number): boolean {
  return record.threadId !== undefined && (!record.threadLoaded || record.epoch !== epoch);
}

/** The machine input that continues the session where it left off. */
export function restoreOf(record: HibernatedSession, epoch: number): SessionRestore {
  return {
    threadId: record.threadId,
    threadLoaded: record.threadId !== undefined && !needsResume(record, epoch),
    createdAt: record.createdAt,
    model: record.model,
    fresh: record.fresh,
    turns: record.turns,
    lastTurn: record.lastTurn,
    catalog: record.catalog,
    threadModel: record.threadModel,
  };
}

/** The snapshot value a hibernated session reports (what its actor showed when it stopped). */
export function stateOf(record: HibernatedSession): Record<string, string> {
  // A session in `link.down` is busy, never hibernated: a record's link is up.
  return { conversation: record.conversation, steer: 'idle', catalog: 'idle', persist: 'idle', link: 'up' };
}

export const isHibernated = (slot: object): slot is HibernatedSession => (slot as { hibernated?: unknown }).hibernated === true;

/** The same record, its thread no longer loaded (its pool member went away): it resumes first. */
export const unloaded = (record: HibernatedSession): HibernatedSession => ({ ...record, threadLoaded: false });

/** The status of a hibernated session: idle, nothing queued. */
export function recordStatus(key: string, record: HibernatedSession): SessionStatus {
  return {
    session: key,
    state: stateOf(record),
    threadId: record.threadId,
    turnRunning: false,
    activeTurnId: undefined,
    queued: 0,
    steering: 0,
    model: record.model,
    busyMode: record.settings.busyMode,
    turns: record.turns,
    lastTurn: record.lastTurn,
    hibernated: true,
  };
}
