// Live handles of a session host, looked up by id from machine actors (context stays data).
import type { BindingStore } from './bindings.js';
import type { ModelCache } from './models.js';
import { turnRuntimes, type TurnRuntime } from '../turn/runtime.js';

export interface SessionRuntime extends TurnRuntime {
  store: BindingStore;
  modelCache: ModelCache;
  /** Host-registered dynamic tools, declared to Codex on thread/start. */
  tools?: () => Array<{ type: 'function'; name: string; description: string; inputSchema: Record<string, unknown> }>;
}

const runtimes = new Map<string, SessionRuntime>();

/** Registers the runtime for sessions and for their turns (same id). */
export const sessionRuntimes = {
  register(id: string, rt: SessionRuntime): void {
    if (runtimes.has(id)) throw new Error(`session runtime "${id}" is already registered`);
    runtimes.set(id, rt);
    turnRuntimes.register(id, rt);
  },
  get(id: string): SessionRuntime {
    const rt = runtimes.get(id);
    if (!rt) throw new Error(`no session runtime registered as "${id}"`);
    return rt;
  },
  unregister(id: string): void {
    runtimes.delete(id);
    turnRuntimes.unregister(id);
  },
};
