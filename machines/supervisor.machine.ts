// The supervisor actor: spawns one connection actor per configured harness instance,
// starts the harnesses (failing early when a forced runtime cannot serve), runs, and stops
// everything gracefully. Sessions are not its children: they are independent actors owned by
// the harnesses, so spawning the ten-thousandth costs what the first did.
//
// Live work comes through `supervisorMachine.provide(...)`: the Supervisor provides
// `startHarnesses` / `stopHarnesses` (closures over its harnesses) and the `connection`
// logic its harness built. The defaults here only fail, so a machine nobody provided says so.
import { assign, emit, enqueueActions, fromPromise, setup, stopChild } from 'xstate';
import { connectionMachine } from './connection.machine.js';

export interface ConnectionChild {
  connectionId: string;
  input: { connectionId: string; config?: Record<string, unknown> };
}

export interface SupervisorInput {
  supervisorId: string;
  /** Connection machines to spawn: one per harness instance that talks to an app-server. */
  connections: ConnectionChild[];
  stopTimeoutMs?: number;
}

export interface SupervisorContext {
  supervisorId: string;
  connections: ConnectionChild[];
  stopTimeoutMs: number;
  error: string | undefined;
  /** Connection children that ended (failed for good, or stopped), reported by status(). */
  finishedChildren: Array<{ id: string; error?: string }>;
}

export type SupervisorEvent = { type: 'START' } | { type: 'STOP' };

/** What the supervisor announces (consumed with `actor.on`). */
export type SupervisorEmitted =
  | { type: 'supervisor.running' }
  | { type: 'supervisor.failed'; error: string }
  | { type: 'supervisor.stopped' }
  | { type: 'supervisor.connectionEnded'; id: string; error?: string };

const DONE = 'xstate.done.actor.';
const ERROR = 'xstate.error.actor.';

/** The connection child a done/error event is about, if it is one. */
function endedConnection(context: SupervisorContext, type: string): string | undefined {
  const id = type.startsWith(DONE) ? type.slice(DONE.length) : type.startsWith(ERROR) ? type.slice(ERROR.length) : undefined;
  return id !== undefined && context.connections.some((c) => c.connectionId === id) ? id : undefined;
}

const notProvided = (what: string) =>
  fromPromise<void, { supervisorId: string }>(async () => {
    throw new Error(`${what} was not provided (build the machine with supervisorMachine.provide)`);
  });

export const supervisorMachine = setup({
  types: {
    context: {} as SupervisorContext,
    events: {} as SupervisorEvent,
    input: {} as SupervisorInput,
    emitted: {} as SupervisorEmitted,
  },
  actors: { connection: connectionMachine, startHarnesses: notProvided('startHarnesses'), stopHarnesses: notProvided('stopHarnesses') },
  delays: { stopTimeout: ({ context }) => context.stopTimeoutMs },
  guards: {
    hasError: ({ context }) => context.error !== undefined,
    isConnectionEnd: ({ context, event }) => endedConnection(context, (event as { type: string }).type) !== undefined,
  },
  actions: {
    spawnConnections: enqueueActions(({ context, enqueue }) => {
      for (const c of context.connections) {
        enqueue.spawnChild('connection', { id: c.connectionId, systemId: c.connectionId, input: c.input });
      }
    }),
    recordError: assign({ error: (_, params: { error: unknown }) => String((params.error as Error | undefined)?.message ?? params.error ?? 'unknown error') }),
    // A child's end (a connection that failed for good) is recorded, announced and the child
    // stopped; never fatal to the supervisor.
    connectionEnded: enqueueActions(({ context, event, enqueue }) => {
      const e = event as { type: string; error?: unknown };
      const id = endedConnection(context, e.type)!;
      const error = e.type.startsWith(ERROR) ? String((e.error as Error | undefined)?.message ?? e.error) : undefined;
      enqueue.assign({ finishedChildren: [...context.finishedChildren, { id, ...(error !== undefined ? { error } : {}) }] });
      enqueue.emit({ type: 'supervisor.connectionEnded', id, ...(error !== undefined ? { error } : {}) });
      enqueue(stopChild(id));
    }),
    announceRunning: emit({ type: 'supervisor.running' }),
    announceFailed: emit(({ context }) => ({ type: 'supervisor.failed' as const, error: context.error ?? 'failed' })),
    announceStopped: emit({ type: 'supervisor.stopped' }),
  },
}).createMachine({
  id: 'supervisor',
  context: ({ input }) => ({
    supervisorId: input.supervisorId,
    connections: input.connections,
    stopTimeoutMs: input.stopTimeoutMs ?? 30_000,
    error: undefined,
    finishedChildren: [],
  }),
  initial: 'idle',
  on: { '*': { guard: 'isConnectionEnd', actions: 'connectionEnded' } },
  states: {
    idle: { on: { START: 'starting', STOP: 'stopped' } },
    starting: {
      entry: 'spawnConnections',
      invoke: {
        id: 'startHarnesses',
        src: 'startHarnesses',
        input: ({ context }) => ({ supervisorId: context.supervisorId }),
        onDone: 'running',
        onError: { target: 'stopping', actions: { type: 'recordError', params: ({ event }) => ({ error: event.error }) } },
      },
      on: { STOP: 'stopping' },
    },
    running: { tags: ['serving'], entry: 'announceRunning', on: { STOP: 'stopping' } },
    stopping: {
      invoke: {
        id: 'stopHarnesses',
        src: 'stopHarnesses',
        input: ({ context }) => ({ supervisorId: context.supervisorId }),
        onDone: [{ guard: 'hasError', target: 'failed' }, { target: 'stopped' }],
        onError: [
          { guard: 'hasError', target: 'failed' },
          { target: 'stopped', actions: { type: 'recordError', params: ({ event }) => ({ error: event.error }) } },
        ],
      },
      after: { stopTimeout: [{ guard: 'hasError', target: 'failed' }, { target: 'stopped' }] },
    },
    stopped: { type: 'final', entry: 'announceStopped' },
    failed: { type: 'final', entry: 'announceFailed' },
  },
});
