// Live side of a supervisor, looked up by id from its machine's actors (context stays data).
import type { AnyActorRef } from 'xstate';

export interface SupervisorRuntime {
  startHarnesses(getChild: (connectionId: string) => AnyActorRef | undefined, signal: AbortSignal): Promise<void>;
  stopHarnesses(): Promise<void>;
  onChildDone(childId: string): void;
}

const runtimes = new Map<string, SupervisorRuntime>();

export const supervisorRuntimes = {
  register(id: string, rt: SupervisorRuntime): void {
    if (runtimes.has(id)) throw new Error(`supervisor "${id}" is already registered`);
    runtimes.set(id, rt);
  },
  get(id: string): SupervisorRuntime {
    const rt = runtimes.get(id);
    if (!rt) throw new Error(`no supervisor runtime "${id}"`);
    return rt;
  },
  tryGet(id: string): SupervisorRuntime | undefined {
    return runtimes.get(id);
  },
  unregister(id: string): void {
    runtimes.delete(id);
  },
};
