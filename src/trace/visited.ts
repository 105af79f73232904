// What a run visited, per machine: from trace records (a trace file, or live through a
// recorder). Used by path coverage and by the visualizer's `--trace` highlighting.
import { readFileSync } from 'node:fs';
import type { TraceRecord } from './tracer.js';

export interface Visited {
  /** State paths (`running.ready`, and its ancestor `running`); no machine prefix. */
  states: Set<string>;
  /**
   * Macrosteps that changed something: `${fromStatePath} -> ${toStatePath} : ${eventType}`,
   * state paths of the leaf states (parallel regions joined by `,`), event type as received
   * (`xstate.after.watchdog.turn.running.active`, `xstate.done.actor.handshake`, …).
   */
  transitions: Set<string>;
  /** State node ids (`connection.running.ready`, root `connection` included), for diagrams. */
  stateIds: Set<string>;
  /**
   * Transition definitions taken, keyed like the visualizer's `transitionKey`:
   * `source|eventType|target1,target2` (state node ids; `''` event for `always`).
   */
  definitions: Set<string>;
}

export type VisitedByMachine = Record<string, Visited>;

export const emptyVisited = (): Visited => ({ states: new Set(), transitions: new Set(), stateIds: new Set(), definitions: new Set() });

/** Leaf state paths of a state value: `{running: 'ready'}` → `['running.ready']`. */
export function leafPaths(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (!value || typeof value !== 'object') return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const sub = leafPaths(v);
    if (sub.length === 0) out.push(k);
    else for (const s of sub) out.push(`${k}.${s}`);
  }
  return out;
}

/** One string per state value: its leaf paths joined by `,`. */
export const stateKey = (value: unknown): string => leafPaths(value).join(',');

/** The key of a macrostep edge. */
export const edgeKey = (from: string, to: string, eventType: string): string => `${from} -> ${to} : ${eventType}`;

/** Every path and its ancestors: `running.ready` → `running`, `running.ready`. */
export function withAncestors(paths: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const p of paths) {
    const parts = p.split('.');
    for (let i = 1; i <= parts.length; i++) out.add(parts.slice(0, i).join('.'));
  }
  return [...out];
}

/** Collects `Visited` per machine from trace records, in order. */
export class VisitedCollector {
  readonly machines = new Map<string, Visited>();
  private readonly actorMachine = new Map<string, string>();
  private readonly last = new Map<string, { value: unknown; moved: boolean }>();

  /** Visited of `machineId` (created empty). */
  of(machineId: string): Visited {
    let v = this.machines.get(machineId);
    if (!v) this.machines.set(machineId, (v = emptyVisited()));
    return v;
  }

  private addValue(machine: string, value: unknown): void {
    const v = this.of(machine);
    v.stateIds.add(machine);
    for (const p of withAncestors(leafPaths(value))) {
      v.states.add(p);
      v.stateIds.add(`${machine}.${p}`);
    }
  }

  private addNode(machine: string, nodeId: string): void {
    const v = this.of(machine);
    v.stateIds.add(nodeId);
    if (nodeId.startsWith(`${machine}.`)) {
      for (const p of withAncestors([nodeId.slice(machine.length + 1)])) {
        v.states.add(p);
        v.stateIds.add(`${machine}.${p}`);
      }
    }
  }

  add(r: TraceRecord): void {
    switch (r.type) {
      case '@xstate.actor':
        if (r.action === 'created' && r.machine) this.actorMachine.set(r.actor, r.machine);
        return;
      case '@xstate.microstep': {
        const machine = this.actorMachine.get(r.actor);
        if (!machine) return;
        this.addValue(machine, r.value);
        const v = this.of(machine);
        for (const t of r.transitions) {
          this.addNode(machine, t.source);
          for (const target of t.target) this.addNode(machine, target);
          v.definitions.add(`${t.source}|${t.eventType}|${t.target.join(',')}`);
        }
        if (r.transitions.length > 0) {
          const last = this.last.get(r.actor);
          if (last) last.moved = true;
          else this.last.set(r.actor, { value: undefined, moved: true });
        }
        return;
      }
      case '@xstate.snapshot': {
        const machine = this.actorMachine.get(r.actor);
        if (!machine || r.value === undefined) return;
        this.addValue(machine, r.value);
        const last = this.last.get(r.actor);
        if (r.event !== 'xstate.init' && last && last.value !== undefined && last.moved) {
          this.of(machine).transitions.add(edgeKey(stateKey(last.value), stateKey(r.value), r.event));
        }
        this.last.set(r.actor, { value: r.value, moved: false });
        return;
      }
      default:
        return;
    }
  }

  result(): VisitedByMachine {
    return Object.fromEntries(this.machines);
  }
}

/** Parse a JSON Lines trace (blank and unparsable lines are skipped). */
export function readTrace(file: string): TraceRecord[] {
  const out: TraceRecord[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as TraceRecord);
    } catch {
      /* a torn last line of a trace cut short */
    }
  }
  return out;
}

/** States and transitions each machine visited in a trace file. */
export function visitedFromTrace(file: string): VisitedByMachine {
  const c = new VisitedCollector();
  for (const r of readTrace(file)) c.add(r);
  return c.result();
}
