// Live side of a supervisor, looked up by id from its machine's actors (context stays data).
import type { AnyActorRef } from 'xstate';
import { liveRegistry } from '../util/live-registry.js';

export interface SupervisorRuntime {
  startHarnesses(getChild: (connectionId: string) => AnyActorRef | undefined, signal: AbortSignal): Promise<void>;
  stopHarnesses(): Promise<void>;
  onChildDone(childId: string): void;
}

export const supervisorRuntimes = liveRegistry<SupervisorRuntime>('supervisor runtime');
