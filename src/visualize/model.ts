// A renderer-neutral model of a machine, read from `machine.root` directly: xstate's
// `toDirectedGraph` drops `always` transitions and has no initial/final markers.
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { actionName, guardName } from './names.js';

export type VizStateType = 'atomic' | 'compound' | 'parallel' | 'final' | 'history';

export interface VizTransition {
  /** See `transitionKey`; matches the transitions of a trace. */
  key: string;
  /** State node id of the source, e.g. `connection.running.starting`. */
  source: string;
  /** State node ids of the targets; empty for a targetless (actions-only) transition. */
  targets: string[];
  /** The raw xstate event type (`''` for `always`). */
  eventType: string;
  /** Human label: `START`, `after handshakeTimeout`, `always`, `done handshake`, `error handshake`. */
  event: string;
  /** Guard as written, `else` for the unguarded fallback after guarded candidates. */
  guard: string | undefined;
  /** `event [guard]`. */
  label: string;
  /** Names of the transition's actions. */
  actions: string[];
}

export interface VizState {
  id: string;
  key: string;
  /** Keys from the root (empty for the root). */
  path: string[];
  parent: string | undefined;
  type: VizStateType;
  history: 'shallow' | 'deep' | undefined;
  /** Id of the initial child (compound states). */
  initial: string | undefined;
  children: VizState[];
  /** `invoke transport`, `invoke persist (persistBinding)`. */
  invokes: string[];
  entry: string[];
  exit: string[];
  transitions: VizTransition[];
}

export interface VizMachine {
  id: string;
  description: string | undefined;
  root: VizState;
  /** Every state by id, document order. */
  states: Map<string, VizState>;
}

const stripHash = (id: string): string => (id.startsWith('#') ? id.slice(1) : id);

type NodeRef = string | { id: string };
const refId = (n: NodeRef): string => stripHash(typeof n === 'string' ? n : n.id);

/**
 * The key of a transition, `source|eventType|target1,target2` (state node ids, no `#`;
 * targets empty when targetless). Accepts a live TransitionDefinition or its `toJSON()` form,
 * which is what inspection (`@xstate.microstep` `_transitions`) hands a tracer.
 */
export function transitionKey(t: { source: NodeRef; eventType: string; target?: ReadonlyArray<NodeRef> | undefined }): string {
  return `${refId(t.source)}|${t.eventType}|${(t.target ?? []).map(refId).join(',')}`;
}

/** Ids of the state nodes active in `value` (e.g. a snapshot's `value`), ancestors included. */
export function stateIdsOf(machine: AnyStateMachine, value: unknown): string[] {
  const ids: string[] = [];
  const walk = (node: AnyStateNode, v: unknown): void => {
    ids.push(node.id);
    if (typeof v === 'string') {
      const child = node.states[v];
      if (child) walk(child, undefined);
    } else if (v && typeof v === 'object') {
      for (const [k, sub] of Object.entries(v)) {
        const child = node.states[k];
        if (child) walk(child, sub);
      }
    }
  };
  walk(machine.root, value);
  return ids;
}

/** Label of an event type, given what the source node defines. */
function eventLabel(node: AnyStateNode, eventType: string, invokeNames: Map<string, string>): string {
  if (eventType === '') return 'always';
  const delayed = node.after.find((t) => t.eventType === eventType);
  if (delayed) {
    const d = delayed.delay;
    return `after ${typeof d === 'number' ? `${d}ms` : typeof d === 'string' ? d : 'delay'}`;
  }
  if (eventType === `xstate.done.state.${node.id}`) return 'done';
  for (const [prefix, word] of [
    ['xstate.done.actor.', 'done'],
    ['xstate.error.actor.', 'error'],
    ['xstate.snapshot.', 'snapshot'],
  ] as const) {
    if (eventType.startsWith(prefix)) {
      const name = invokeNames.get(eventType.slice(prefix.length));
      if (name) return `${word} ${name}`;
    }
  }
  return eventType;
}

function transitionsOf(node: AnyStateNode, invokeNames: Map<string, string>): VizTransition[] {
  const groups: Array<[string, ReadonlyArray<{ target?: ReadonlyArray<AnyStateNode> | undefined; guard?: unknown; actions: readonly unknown[] }>]> = [
    ...node.transitions.entries(),
  ];
  if (node.always?.length) groups.push(['', node.always]);
  const out: VizTransition[] = [];
  for (const [eventType, candidates] of groups) {
    let guarded = false;
    for (const t of candidates) {
      const targets = (t.target ?? []).map((n) => n.id);
      const event = eventLabel(node, eventType, invokeNames);
      const guard = t.guard !== undefined ? guardName(t.guard) : guarded ? 'else' : undefined;
      guarded ||= t.guard !== undefined;
      out.push({
        key: transitionKey({ source: node, eventType, target: t.target }),
        source: node.id,
        targets,
        eventType,
        event,
        guard,
        label: guard ? `${event} [${guard}]` : event,
        actions: actionsOf(t.actions),
      });
    }
  }
  return out;
}

// Delayed transitions push their own raise/cancel into entry/exit; those are plumbing.
const isAfterPlumbing = (a: unknown): boolean => {
  const o = a as { type?: unknown; id?: unknown; sendId?: unknown };
  const ref = o.type === 'xstate.raise' ? o.id : o.type === 'xstate.cancel' ? o.sendId : undefined;
  return typeof ref === 'string' && ref.startsWith('xstate.after.');
};

const actionsOf = (list: readonly unknown[]): string[] => list.filter((a) => !isAfterPlumbing(a)).map(actionName);

function stateOf(node: AnyStateNode, states: Map<string, VizState>): VizState {
  const invokeNames = new Map<string, string>();
  const invokes = node.invoke.map((inv, i) => {
    // Inline logic gets a generated src (`xstate.invoke.…`), an unnamed invoke a generated id.
    const src = typeof inv.src === 'string' && !inv.src.startsWith('xstate.invoke.') ? inv.src : undefined;
    const id = inv.id === `${i}.${node.id}` ? undefined : inv.id;
    const name = id ?? src ?? 'inline';
    invokeNames.set(inv.id, name);
    return src && id && src !== id ? `invoke ${id} (${src})` : `invoke ${name}`;
  });
  const state: VizState = {
    id: node.id,
    key: node.key,
    path: [...node.path],
    parent: node.parent?.id,
    type: node.type,
    history: node.type === 'history' ? (node.history || 'shallow') : undefined,
    initial: node.type === 'compound' ? node.initial.target[0]?.id : undefined,
    children: [],
    invokes,
    entry: actionsOf(node.entry),
    exit: actionsOf(node.exit),
    transitions: transitionsOf(node, invokeNames),
  };
  states.set(state.id, state);
  state.children = Object.values(node.states).map((child) => stateOf(child as AnyStateNode, states));
  return state;
}

/** True when `id` is `ancestor` or one of its descendants. */
export function isWithin(vm: VizMachine, id: string, ancestor: string): boolean {
  for (let cur: string | undefined = id; cur !== undefined; cur = vm.states.get(cur)?.parent) {
    if (cur === ancestor) return true;
  }
  return false;
}

/** Reads a machine into the model every renderer uses. */
export function describeMachine(machine: AnyStateMachine): VizMachine {
  const states = new Map<string, VizState>();
  const root = stateOf(machine.root, states);
  const meta = machine.root.meta as { description?: unknown } | undefined;
  const description = machine.root.description ?? (typeof meta?.description === 'string' ? meta.description : undefined);
  return { id: machine.id, description, root, states };
}
