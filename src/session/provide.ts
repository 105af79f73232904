// The session chart bound to a session host's live handles: its actors (bind, steer, model
// catalog, binding writes, connection watch) and its turn close over `SessionDeps`.
import { sessionMachine, type SessionMachine } from '../../machines/session.machine.js';
import { provideTurnMachine } from '../turn/provide.js';
import { createSessionActors, type SessionDeps } from './actors.js';
import { catalogFresh } from './models.js';
import type { SessionContext } from './types.js';

/**
 * `sessionMachine` (or `base`, a variant of it) with live implementations. Implementations
 * `base` already replaced (a test's fake actor) are kept.
 */
export function provideSessionMachine(deps: SessionDeps, base: SessionMachine = sessionMachine): SessionMachine {
  const live = {
    actors: { ...createSessionActors(deps), turn: provideTurnMachine(deps, { inSession: true }) },
    guards: {
      // The clock lives here, not in the chart.
      // A shared catalog caches for every session: ask it each time, so all commands agree.
      catalogFresh: ({ context }: { context: SessionContext }) => !deps.models && catalogFresh(context.catalog, context.settings.modelCacheMs, deps.now()),
    },
  };
  return base.provide({
    actors: keepReplaced(live.actors, base.implementations.actors, sessionMachine.implementations.actors),
    guards: keepReplaced(live.guards, base.implementations.guards, sessionMachine.implementations.guards),
  });
}

function keepReplaced<T extends Record<string, unknown>>(live: T, given: Record<string, unknown>, original: Record<string, unknown>): T {
  return Object.fromEntries(Object.entries(live).map(([k, v]) => [k, given[k] !== original[k] ? given[k] : v])) as T;
}
