// The supervisor machine's actor, given its live work: spawning each app-server's connection
// machine (its own logic: its transport, its engine), starting and stopping the harnesses.
import { createActor, enqueueActions, fromPromise, type Actor, type AnyActorLogic, type AnyActorRef, type InspectionEvent } from 'xstate';
import type { Logger } from 'pino';
import { supervisorMachine } from '../../machines/supervisor.machine.js';
import type { CodexHarness } from './codex-harness.js';
import type { StackClock } from '../stack/codex-stack.js';
import { timerClock } from '../util/clock.js';

export interface SupervisorActorOptions {
  id: string;
  codex: CodexHarness;
  connections: Array<{ connectionId: string; input: unknown }>;
  startAll: (getChild: (id: string) => AnyActorRef | undefined, signal: AbortSignal) => Promise<void>;
  stopAll: () => Promise<void>;
  /** True once a stop was asked for: a connection ending then is no news. */
  stopping: () => boolean;
  clock: StackClock;
  log: Logger;
  inspect?: (ev: InspectionEvent) => void;
}

export function createSupervisorActor(o: SupervisorActorOptions): Actor<typeof supervisorMachine> {
  const machine = supervisorMachine.provide({
    actions: {
      // XState's types reserve explicit ids for named sources; the id is what the harness
      // adopts and what the supervisor's done/error handling matches, so it is given here.
      spawnConnections: enqueueActions(({ context, enqueue }) => {
        const spawn = enqueue.spawnChild as unknown as (logic: AnyActorLogic, x: { id: string; systemId: string; input: unknown }) => void;
        for (const c of context.connections) spawn(o.codex.connectionLogic(c.connectionId), { id: c.connectionId, systemId: c.connectionId, input: c.input });
      }),
    },
    actors: {
      connection: o.codex.connectionLogic(o.codex.connection.id),
      startHarnesses: fromPromise(({ system, signal }) => o.startAll((id) => system.get(id), signal)),
      stopHarnesses: fromPromise(() => o.stopAll()),
    },
  });
  const actor = createActor(machine, {
    id: o.id,
    input: { supervisorId: o.id, connections: o.connections as never },
    clock: timerClock(o.clock),
    ...(o.inspect ? { inspect: o.inspect } : {}),
  });
  // Ending is news only when nobody asked for it: a clean shutdown logs no warning.
  actor.on('supervisor.connectionEnded', (e) =>
    e.error || !o.stopping() ? o.log.warn({ child: e.id, ...(e.error ? { err: e.error } : {}) }, 'connection actor ended') : o.log.info({ child: e.id }, 'connection stopped'),
  );
  actor.on('supervisor.failed', (e) => o.log.error({ error: e.error }, 'Switchboard failed'));
  actor.subscribe({ error: (err) => o.log.error({ err }, 'supervisor actor error') });
  return actor;
}
