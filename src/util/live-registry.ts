// Live handles (connections, sinks, reviewers) kept out of XState context, which stays plain
// data: machines carry an id, their actors look the handles up here.

export interface LiveRegistry<T> {
  register(id: string, value: T): void;
  get(id: string): T;
  tryGet(id: string): T | undefined;
  has(id: string): boolean;
  unregister(id: string): void;
}

export function liveRegistry<T>(kind: string): LiveRegistry<T> {
  const entries = new Map<string, T>();
  return {
    register(id, value) {
      if (entries.has(id)) throw new Error(`${kind} "${id}" is already registered`);
      entries.set(id, value);
    },
    get(id) {
      const v = entries.get(id);
      if (v === undefined) throw new Error(`no ${kind} registered as "${id}"`);
      return v;
    },
    tryGet: (id) => entries.get(id),
    has: (id) => entries.has(id),
    unregister: (id) => void entries.delete(id),
  };
}
