// Path coverage of the connection, turn and approval machines.
//
// The universe comes from `xstate/graph`: the machines are traversed with concrete events
// (including the `xstate.done.actor.*`, `xstate.error.actor.*` and `xstate.after.*` events
// the runtime would deliver, which the traversal cannot invent), states serialized by value
// only. Guards that read context are reached by traversing from several inputs and starting
// states ("variants"). Every edge is `from -> to : eventType` (see trace/visited.ts).
//
// What is covered comes from two kinds of tests:
//   - scenario runs, observed through XState inspection of the real actors;
//   - graph paths: for every edge, the shortest path to its source plus the edge, replayed
//     on a live actor (actors stubbed), which must land where the graph said.
import { createActor, createEmptyActor, type AnyActorLogic, type AnyEventObject, type AnyStateMachine, type AnyStateNode, type InspectionEvent } from 'xstate';
import { getAdjacencyMap, getShortestPaths, getSimplePaths } from 'xstate/graph';
import { connectionModel } from './coverage-models/connection.js';
import { turnModel } from './coverage-models/turn.js';
import { approvalModel } from './coverage-models/approval.js';
import type { MachineModel, Variant } from './coverage-models/types.js';
import { createTraceRecorder } from '../trace/tracer.js';
import { edgeKey, emptyVisited, stateKey, VisitedCollector, type Visited, type VisitedByMachine } from '../trace/visited.js';

type Snap = ReturnType<AnyStateMachine['getInitialSnapshot']> & { value: unknown };

export type { Variant, MachineModel } from './coverage-models/types.js';

export interface GraphEdge {
  key: string;
  from: string;
  to: string;
  event: AnyEventObject;
  variant: Variant;
  /** Events from the variant's start to the edge's source. */
  path: AnyEventObject[];
}

export interface MachineGraph {
  id: string;
  /** State paths, root excluded. */
  states: string[];
  edges: Map<string, GraphEdge>;
  /** Transition definitions (`source|eventType|targets`), as the visualizer keys them. */
  definitions: string[];
  shortestPaths: number;
  simplePaths: number;
}

export { connectionModel, turnModel, approvalModel };
export const coverageModels: MachineModel[] = [connectionModel, turnModel, approvalModel];

// ---------------------------------------------------------------------------------------
// exploring

function statePaths(node: AnyStateNode): string[] {
  const out: string[] = [];
  for (const child of Object.values(node.states) as AnyStateNode[]) {
    out.push(child.path.join('.'));
    out.push(...statePaths(child));
  }
  return out;
}

/** Every transition definition of the machine, keyed `source|eventType|targets`. */
export function transitionDefinitions(machine: AnyStateMachine): string[] {
  const out: string[] = [];
  const walk = (node: AnyStateNode): void => {
    const groups: Array<[string, ReadonlyArray<{ target?: ReadonlyArray<AnyStateNode> | undefined }>]> = [...node.transitions.entries()];
    if (node.always?.length) groups.push(['', node.always]);
    for (const [eventType, candidates] of groups) {
      for (const t of candidates) out.push(`${node.id}|${eventType}|${(t.target ?? []).map((n) => n.id).join(',')}`);
    }
    for (const child of Object.values(node.states) as AnyStateNode[]) walk(child);
  };
  walk(machine.root);
  return out;
}

/** Event types the active states of `snap` handle (own and ancestors'). */
function eventTypesOf(snap: Snap): string[] {
  const nodes = (snap as unknown as { _nodes: AnyStateNode[] })._nodes;
  const types = new Set<string>();
  for (const n of nodes) for (const t of n.ownEvents) types.add(t);
  return [...types];
}

const serializeState = (s: unknown): string => JSON.stringify((s as Snap).value);

/** What xstate/graph uses internally: an actor scope whose actions execute nothing. */
function inertScope(): never {
  const self = createEmptyActor();
  return {
    self,
    logger: () => {},
    id: '',
    sessionId: 'graph',
    defer: () => {},
    system: self.system,
    stopChild: () => {},
    emit: () => {},
    actionExecutor: () => {},
  } as never;
}

function startState(model: MachineModel, v: Variant): Snap {
  const m = model.machine;
  const scope = inertScope();
  let snap = m.getInitialSnapshot(scope, v.input) as Snap;
  for (const e of v.prefix ?? []) snap = m.transition(snap as never, e as never, scope) as Snap;
  return snap;
}

/** The graph of one machine: states, edges (with a path to each), definitions, path counts. */
export function exploreMachine(model: MachineModel): MachineGraph {
  const undo = model.setup?.();
  try {
    const m = model.machine as AnyStateMachine & { getTransitionData(s: unknown, e: AnyEventObject): unknown[] };
    const edges = new Map<string, GraphEdge>();
    let shortest = 0;
    let simple = 0;
    for (const v of model.variants) {
      const fromState = startState(model, v);
      const opts = { fromState, input: v.input, serializeState, events: (s: unknown) => model.events(eventTypesOf(s as Snap)) };
      const adjacency = getAdjacencyMap(m as never, opts as never) as Record<string, { state: Snap; transitions: Record<string, { event: AnyEventObject; state: Snap }> }>;
      const paths = getShortestPaths(m as never, opts as never) as Array<{ state: Snap; steps: Array<{ event: AnyEventObject }> }>;
      shortest += paths.length;
      simple += (getSimplePaths(m as never, opts as never) as unknown[]).length;
      const pathTo = new Map<string, AnyEventObject[]>();
      for (const p of paths) pathTo.set(serializeState(p.state), p.steps.slice(1).map((s) => s.event));
      for (const [serial, { state, transitions }] of Object.entries(adjacency)) {
        if (state.status !== 'active') continue;
        for (const { event, state: next } of Object.values(transitions)) {
          if (m.getTransitionData(state, event).length === 0) continue; // nothing enabled: not a transition
          const key = edgeKey(stateKey(state.value), stateKey(next.value), event.type);
          if (edges.has(key)) continue;
          edges.set(key, { key, from: stateKey(state.value), to: stateKey(next.value), event, variant: v, path: pathTo.get(serial) ?? [] });
        }
      }
    }
    return {
      id: model.id,
      states: statePaths(model.machine.root),
      edges,
      definitions: [...new Set(transitionDefinitions(model.machine))],
      shortestPaths: shortest,
      simplePaths: simple,
    };
  } finally {
    undo?.();
  }
}

/**
 * Replay every edge on a live actor: the variant's prefix, the shortest path to the edge's
 * source, then the edge's event. Returns what the actors visited and the edges whose live
 * replay did not land where the graph said.
 */
export function replayGraphPaths(model: MachineModel, graph: MachineGraph): { visited: Visited; failures: string[] } {
  const undo = model.setup?.();
  const collector = new VisitedCollector();
  const failures: string[] = [];
  try {
    // Each variant's start on its own: initial (eventless) transitions happen there.
    for (const v of model.variants) {
      const actor = createActor(model.machine as AnyActorLogic, { input: v.input, inspect: createTraceRecorder((r) => collector.add(r)) });
      try {
        actor.start();
        for (const e of v.prefix ?? []) actor.send(e);
      } finally {
        actor.stop();
      }
    }
    for (const edge of graph.edges.values()) {
      const record = createTraceRecorder((r) => collector.add(r));
      const actor = createActor(model.machine as AnyActorLogic, { input: edge.variant.input, inspect: record as (ev: InspectionEvent) => void });
      try {
        actor.start();
        for (const e of [...(edge.variant.prefix ?? []), ...edge.path]) actor.send(e);
        const before = stateKey((actor.getSnapshot() as Snap).value);
        if (before !== edge.from) {
          failures.push(`${edge.key}: the path led to ${before}, not ${edge.from}`);
          continue;
        }
        actor.send(edge.event);
        const after = stateKey((actor.getSnapshot() as Snap).value);
        if (after !== edge.to) failures.push(`${edge.key}: the live actor went to ${after}`);
      } catch (err) {
        failures.push(`${edge.key}: ${(err as Error).message}`);
      } finally {
        actor.stop();
      }
    }
  } finally {
    undo?.();
  }
  return { visited: collector.machines.get(model.id) ?? emptyVisited(), failures };
}

// ---------------------------------------------------------------------------------------
// reporting

export interface MachineCoverage {
  id: string;
  states: { total: number; covered: number; byScenarios: number; uncovered: string[]; notByScenarios: string[] };
  transitions: { total: number; covered: number; byScenarios: number; uncovered: string[]; notByScenarios: string[]; outsideGraph: string[] };
  definitions: { total: number; covered: number; byScenarios: number; uncovered: string[]; notByScenarios: string[] };
  paths: { shortest: number; simple: number };
}

function tally(universe: readonly string[], scenarios: Set<string>, graph: Set<string>) {
  const notByScenarios = universe.filter((x) => !scenarios.has(x));
  const uncovered = notByScenarios.filter((x) => !graph.has(x));
  return { total: universe.length, covered: universe.length - uncovered.length, byScenarios: universe.length - notByScenarios.length, uncovered, notByScenarios };
}

export function machineCoverage(graph: MachineGraph, scenarios: Visited | undefined, paths: Visited | undefined): MachineCoverage {
  const s = scenarios ?? emptyVisited();
  const p = paths ?? emptyVisited();
  const edges = [...graph.edges.keys()];
  return {
    id: graph.id,
    states: tally(graph.states, s.states, p.states),
    transitions: { ...tally(edges, s.transitions, p.transitions), outsideGraph: [...s.transitions].filter((k) => !graph.edges.has(k)) },
    definitions: tally(graph.definitions, s.definitions, p.definitions),
    paths: { shortest: graph.shortestPaths, simple: graph.simplePaths },
  };
}

/** `coverage: connection 9/9 states, 31/31 transitions; turn …` plus the scenarios-only figures. */
export function formatCoverage(list: MachineCoverage[]): string {
  const head = list.map((c) => `${c.id} ${c.states.covered}/${c.states.total} states, ${c.transitions.covered}/${c.transitions.total} transitions`).join('; ');
  const lines = [`coverage: ${head}`];
  for (const c of list) {
    lines.push(
      `  ${c.id}: scenarios alone ${c.states.byScenarios}/${c.states.total} states, ${c.transitions.byScenarios}/${c.transitions.total} transitions, ` +
        `${c.definitions.byScenarios}/${c.definitions.total} transition definitions (with graph paths ${c.definitions.covered}/${c.definitions.total}); ` +
        `${c.paths.shortest} shortest / ${c.paths.simple} simple paths`,
    );
    for (const x of c.states.uncovered) lines.push(`    state not covered: ${x}`);
    for (const x of c.transitions.uncovered) lines.push(`    transition not covered: ${x}`);
    for (const x of c.definitions.uncovered) lines.push(`    definition not covered: ${x}`);
    for (const x of c.transitions.notByScenarios) lines.push(`    only by graph paths: ${x}`);
    for (const x of c.transitions.outsideGraph) lines.push(`    seen in scenarios, missing from the graph: ${x}`);
  }
  return lines.join('\n');
}

export type { VisitedByMachine };
