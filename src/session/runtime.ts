// Live handles of a session host, looked up by id from machine actors (context stays data).
import type { BindingStore } from './bindings.js';
import type { ModelCache } from './models.js';
import { turnRuntimes, type TurnRuntime } from '../turn/runtime.js';
import { liveRegistry } from '../util/live-registry.js';

export interface SessionRuntime extends TurnRuntime {
  store: BindingStore;
  modelCache: ModelCache;
  /** Host-registered dynamic tools, declared to Codex on thread/start. */
  tools?: () => Array<{ type: 'function'; name: string; description: string; inputSchema: Record<string, unknown> }>;
}

const sessions = liveRegistry<SessionRuntime>('session runtime');

/** Registers the runtime for sessions and for their turns (same id). */
export const sessionRuntimes = {
  register(id: string, rt: SessionRuntime): void {
    sessions.register(id, rt);
    turnRuntimes.register(id, rt);
  },
  get: (id: string): SessionRuntime => sessions.get(id),
  unregister(id: string): void {
    sessions.unregister(id);
    turnRuntimes.unregister(id);
  },
};
