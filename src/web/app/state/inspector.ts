// The inspector's model: the actor tree and each actor's recent events, from `inspect`
// (snapshot) and `inspect.update` (batched changes) frames.
import type { InspectActor, InspectEvent } from '../frames.js';
import { MAX_ACTOR_EVENTS, type InspectState } from './types.js';

export const initialInspect = (): InspectState => ({ open: false, error: undefined, actors: {}, events: {}, selected: undefined, dropped: 0 });

/** The server's actor cap (contract): anything beyond is dropped rather than grown. */
const MAX_ACTORS = 2000;

function addEvents(events: Record<string, InspectEvent[]>, add: InspectEvent[]): Record<string, InspectEvent[]> {
  if (!add.length) return events;
  const out = { ...events };
  for (const e of add) {
    const list = out[e.actor] === events[e.actor] ? [...(out[e.actor] ?? [])] : out[e.actor]!;
    list.push(e);
    if (list.length > MAX_ACTOR_EVENTS) list.splice(0, list.length - MAX_ACTOR_EVENTS);
    out[e.actor] = list;
  }
  return out;
}

export function inspectSnapshot(s: InspectState, actors: InspectActor[], events: InspectEvent[]): InspectState {
  const byId: Record<string, InspectActor> = {};
  for (const a of actors.slice(0, MAX_ACTORS)) byId[a.id] = a;
  return { ...s, error: undefined, actors: byId, events: addEvents({}, events), dropped: 0 };
}

export function inspectUpdate(s: InspectState, actors: InspectActor[], removed: string[], events: InspectEvent[], dropped: number | undefined): InspectState {
  const byId = { ...s.actors };
  for (const a of actors) if (byId[a.id] || Object.keys(byId).length < MAX_ACTORS) byId[a.id] = a;
  let ev = addEvents(s.events, events);
  if (removed.length) {
    ev = { ...ev };
    for (const id of removed) {
      delete byId[id];
      delete ev[id];
    }
  }
  const selected = s.selected !== undefined && byId[s.selected] ? s.selected : undefined;
  return { ...s, actors: byId, events: ev, selected, dropped: s.dropped + (dropped ?? 0) };
}

/**
 * The state node ids a state value makes active, as the diagrams title them:
 * machine "turn", value {"running":"active"} → ["turn.running", "turn.running.active"].
 */
export function activeStateIds(machine: string, value: unknown): string[] {
  const out: string[] = [];
  const walk = (prefix: string, v: unknown, depth: number): void => {
    if (depth > 20) return;
    if (typeof v === 'string') {
      out.push(`${prefix}.${v}`);
    } else if (v && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, sub] of Object.entries(v)) {
        out.push(`${prefix}.${k}`);
        walk(`${prefix}.${k}`, sub, depth + 1);
      }
    }
  };
  walk(machine, value, 0);
  return out;
}

export interface ActorNode {
  actor: InspectActor;
  children: ActorNode[];
}

/** The actors as a forest: parents first, children in id order; orphans at the top level. */
export function actorTree(actors: Record<string, InspectActor>): ActorNode[] {
  const nodes = new Map<string, ActorNode>();
  for (const a of Object.values(actors)) nodes.set(a.id, { actor: a, children: [] });
  const roots: ActorNode[] = [];
  for (const n of nodes.values()) {
    const parent = n.actor.parent !== undefined ? nodes.get(n.actor.parent) : undefined;
    if (parent && parent !== n) parent.children.push(n);
    else roots.push(n);
  }
  const sort = (list: ActorNode[]) => {
    list.sort((a, b) => a.actor.id.localeCompare(b.actor.id));
    for (const n of list) sort(n.children);
  };
  sort(roots);
  return roots;
}
