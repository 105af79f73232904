// The supervisor actor: spawns one connection actor per configured harness instance,
// starts the harnesses (failing early when a forced runtime cannot serve), runs, and stops
// everything gracefully. Sessions are not its children: they are independent actors owned by
// the harnesses, so spawning the ten-thousandth costs what the first did.
import { assign, enqueueActions, fromPromise, setup } from 'xstate';
import { connectionMachine } from './connection.machine.js';
import { supervisorRuntimes } from '../src/supervisor/runtime.js';

export interface SupervisorInput {
  supervisorId: string;
  /** Connection machines to spawn: one per harness instance that talks to an app-server. */
  connections: Array<{ connectionId: string; input: { connectionId: string; config?: Record<string, unknown> } }>;
  stopTimeoutMs?: number;
}

export interface SupervisorContext {
  supervisorId: string;
  connections: SupervisorInput['connections'];
  stopTimeoutMs: number;
  error: string | undefined;
  /** Children that reached a final state (connection failed or stopped), with when. */
  finishedChildren: Array<{ id: string; at: number }>;
}

export type SupervisorEvent = { type: 'START' } | { type: 'STOP' };

const startHarnesses = fromPromise<void, { supervisorId: string }>(async ({ input, system, signal }) => {
  const rt = supervisorRuntimes.get(input.supervisorId);
  await rt.startHarnesses((connectionId) => system.get(connectionId), signal);
});

const stopHarnesses = fromPromise<void, { supervisorId: string }>(async ({ input }) => {
  await supervisorRuntimes.get(input.supervisorId).stopHarnesses();
});

export const supervisorMachine = setup({
  types: {
    context: {} as SupervisorContext,
    events: {} as SupervisorEvent,
    input: {} as SupervisorInput,
  },
  actors: { connection: connectionMachine, startHarnesses, stopHarnesses },
  delays: { stopTimeout: ({ context }) => context.stopTimeoutMs },
  actions: {
    spawnConnections: enqueueActions(({ context, enqueue }) => {
      for (const c of context.connections) {
        enqueue.spawnChild('connection', { id: c.connectionId, systemId: c.connectionId, input: c.input });
      }
    }),
    recordError: assign({ error: ({ event }) => String((event as unknown as { error?: Error }).error?.message ?? 'unknown error') }),
    recordChildDone: assign({
      finishedChildren: ({ context, event }) => [...context.finishedChildren, { id: event.type.slice('xstate.done.actor.'.length), at: Date.now() }],
    }),
    reportChildDone: ({ context, event }) => {
      supervisorRuntimes.tryGet(context.supervisorId)?.onChildDone(event.type.slice('xstate.done.actor.'.length));
    },
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
  // A child's end (a connection that failed for good) is recorded and reported, never fatal.
  on: {
    '*': {
      guard: ({ event }) => (event as { type: string }).type.startsWith('xstate.done.actor.conn'),
      actions: ['recordChildDone', 'reportChildDone'],
    },
  },
  states: {
    idle: { on: { START: 'starting', STOP: 'stopped' } },
    starting: {
      entry: 'spawnConnections',
      invoke: {
        id: 'startHarnesses',
        src: 'startHarnesses',
        input: ({ context }) => ({ supervisorId: context.supervisorId }),
        onDone: 'running',
        onError: { target: 'stopping', actions: 'recordError' },
      },
      on: { STOP: 'stopping' },
    },
    running: { on: { STOP: 'stopping' } },
    stopping: {
      invoke: {
        id: 'stopHarnesses',
        src: 'stopHarnesses',
        input: ({ context }) => ({ supervisorId: context.supervisorId }),
        onDone: [{ guard: ({ context }) => context.error !== undefined, target: 'failed' }, { target: 'stopped' }],
        onError: [{ guard: ({ context }) => context.error !== undefined, target: 'failed' }, { target: 'stopped', actions: 'recordError' }],
      },
      after: { stopTimeout: [{ guard: ({ context }) => context.error !== undefined, target: 'failed' }, { target: 'stopped' }] },
    },
    stopped: { type: 'final' },
    failed: { type: 'final' },
  },
});
