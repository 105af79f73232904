// Traces: XState inspection events as JSON Lines. One record per line:
//
//   {"seq":1,"t":…,"type":"@xstate.actor","action":"created","actor":"sim-connection","machine":"connection"}
//   {"seq":2,"t":…,"type":"@xstate.event","source":null,"target":"sim-connection","event":{"type":"START"}}
//   {"seq":3,"t":…,"type":"@xstate.microstep","actor":"sim-connection","event":"START","value":{"running":"starting"},
//      "transitions":[{"source":"connection.idle","eventType":"START","target":["connection.running"]}]}
//   {"seq":4,"t":…,"type":"@xstate.snapshot","actor":"sim-connection","event":"START","status":"active","value":{"running":"starting"}}
//   {"seq":9,"t":…,"type":"@xstate.actor","action":"stopped","actor":"sim-connection/handshake","status":"done"}
//
// Actor ids are stable: the id an actor was given (`session:room/general/main`), children as
// `parent/child-id` (`session:room/general/main/turn`), a repeated path gets `#2`, `#3`…
// Snapshots carry the state value only (never context). Every record is made JSON-safe
// (toSafeJson) and passed through `redactValue`, so no secret reaches a trace file.
//
// Tracing off costs nothing: without a tracer no inspect callback is installed at all.
import { closeSync, openSync, writeSync } from 'node:fs';
import type { AnyStateMachine, InspectionEvent } from 'xstate';
import { redactValue } from '../log/redact.js';
import { toSafeJson, type SafeJsonOptions } from './serialize.js';

export interface TraceTransition {
  /** State node id of the transition's source, e.g. `connection.running`. */
  source: string;
  /** The transition's own event type (`''` for `always`, `xstate.after.…` for delays). */
  eventType: string;
  /** State node ids of its targets (empty: targetless). */
  target: string[];
}

interface Base {
  seq: number;
  /** When the record was made (`RecorderOptions.now`; virtual time inside a simulation). */
  t: number;
}

export type TraceRecord =
  | (Base & {
      type: '@xstate.actor';
      action: 'created';
      actor: string;
      parent: string | null;
      /** Machine id for state machines (`connection`, `turn`, …). */
      machine?: string;
      systemId?: string;
      /** The `src` the actor was invoked/spawned from, when it is a name. */
      src?: string;
    })
  | (Base & { type: '@xstate.actor'; action: 'stopped'; actor: string; status: string; error?: unknown })
  | (Base & { type: '@xstate.event'; source: string | null; target: string; event: Record<string, unknown> })
  | (Base & {
      type: '@xstate.microstep';
      actor: string;
      event: string;
      value: unknown;
      transitions: TraceTransition[];
    })
  | (Base & { type: '@xstate.snapshot'; actor: string; event: string; status: string; value?: unknown });

type RecordBody = TraceRecord extends infer R ? (R extends TraceRecord ? Omit<R, 'seq' | 't'> : never) : never;

export interface RecorderOptions {
  /** Also record `@xstate.microstep` (the transitions taken; default true). */
  microsteps?: boolean;
  serialize?: SafeJsonOptions;
  /** The time of a record (default `Date.now`; a simulation passes its clock). */
  now?: () => number;
  /**
   * Hand events, state values and errors over as they are, unserialized: for a sink that
   * keeps few of them and makes what it shows safe itself (`safeTraceValue`), so that an
   * inspection event nobody looks at costs no serialization.
   */
  lazy?: boolean;
}

/** What a record's value becomes in a trace file: JSON-safe, cut, redacted. */
export const safeTraceValue = (v: unknown, options?: SafeJsonOptions): unknown => redactValue(toSafeJson(v, options));

type ActorLike = {
  id?: string;
  sessionId?: string;
  systemId?: string;
  src?: unknown;
  logic?: unknown;
  _parent?: ActorLike;
};

/**
 * Turns inspection events into trace records (stable ids, safe, redacted) and hands them
 * to `sink`. The returned function is an XState `inspect` callback.
 */
export function createTraceRecorder(sink: (record: TraceRecord) => void, options: RecorderOptions = {}): (ev: InspectionEvent) => void {
  const ids = new WeakMap<object, string>();
  const used = new Map<string, number>();
  const finished = new WeakSet<object>();
  const withMicrosteps = options.microsteps !== false;
  let seq = 0;
  const now = options.now ?? (() => Date.now());

  const stableId = (ref: ActorLike | undefined): string | null => {
    if (!ref) return null;
    const known = ids.get(ref);
    if (known) return known;
    const own = ref.systemId ?? ref.id ?? ref.sessionId ?? 'actor';
    const parent = ref._parent ? stableId(ref._parent) : null;
    const base = parent ? `${parent}/${own}` : own;
    const n = (used.get(base) ?? 0) + 1;
    used.set(base, n);
    const id = n === 1 ? base : `${base}#${n}`;
    ids.set(ref, id);
    return id;
  };

  const safe = options.lazy ? (v: unknown): unknown => v : (v: unknown): unknown => safeTraceValue(v, options.serialize);
  const emit = (r: RecordBody): void => {
    sink({ seq: ++seq, t: now(), ...r } as TraceRecord);
  };

  return (ev: InspectionEvent): void => {
    try {
      const ref = ev.actorRef as ActorLike;
      switch (ev.type) {
        case '@xstate.actor': {
          const logic = ref.logic as { id?: unknown; root?: unknown } | undefined;
          const machine = logic && typeof logic === 'object' && logic.root && typeof logic.id === 'string' ? logic.id : undefined;
          const parent = ref._parent ? stableId(ref._parent) : null;
          const rec: Record<string, unknown> = { type: '@xstate.actor', action: 'created', actor: stableId(ref), parent };
          if (machine) rec.machine = machine;
          if (ref.systemId) rec.systemId = ref.systemId;
          if (typeof ref.src === 'string') rec.src = ref.src;
          emit(rec as RecordBody);
          return;
        }
        case '@xstate.event':
          emit({
            type: '@xstate.event',
            source: stableId(ev.sourceRef as ActorLike | undefined),
            target: stableId(ref)!,
            event: safe(ev.event) as Record<string, unknown>,
          });
          return;
        case '@xstate.microstep':
          if (!withMicrosteps) return;
          emit({
            type: '@xstate.microstep',
            actor: stableId(ref)!,
            event: String(ev.event?.type),
            value: safe((ev.snapshot as { value?: unknown }).value),
            transitions: ev._transitions.map((t) => ({
              source: t.source.id,
              eventType: t.eventType,
              target: (t.target ?? []).map((n) => n.id),
            })),
          });
          return;
        case '@xstate.snapshot': {
          const snap = ev.snapshot as { status?: string; value?: unknown; error?: unknown };
          const rec: Record<string, unknown> = {
            type: '@xstate.snapshot',
            actor: stableId(ref),
            event: String(ev.event?.type),
            status: snap.status ?? 'active',
          };
          if (snap.value !== undefined) rec.value = safe(snap.value);
          emit(rec as RecordBody);
          if (snap.status && snap.status !== 'active' && !finished.has(ref)) {
            finished.add(ref);
            const stop: Record<string, unknown> = { type: '@xstate.actor', action: 'stopped', actor: stableId(ref), status: snap.status };
            if (snap.status === 'error') stop.error = safe(snap.error);
            emit(stop as RecordBody);
          }
          return;
        }
        default:
          return;
      }
    } catch {
      // A tracer must never break the actors it watches.
    }
  };
}

export interface Tracer {
  /** The XState `inspect` callback: `createActor(machine, { inspect: tracer })`. */
  (ev: InspectionEvent): void;
  readonly file: string;
  /** Records written so far. */
  readonly count: number;
  /** Write what is buffered. */
  flush(): void;
  /** Flush and close the file; later events are dropped. */
  close(): void;
}

/**
 * A tracer writing JSON Lines to `file` (truncated first). Pass it as `inspect` to
 * `createActor`, or to `instrumentMachine` for actors created by code you do not control.
 */
export function createTracer(file: string, options: RecorderOptions & { also?: (record: TraceRecord) => void } = {}): Tracer {
  const fd = openSync(file, 'w');
  let buffer: string[] = [];
  let size = 0;
  let count = 0;
  let closed = false;
  const flush = (): void => {
    if (closed || buffer.length === 0) return;
    writeSync(fd, buffer.join(''));
    buffer = [];
    size = 0;
  };
  const record = createTraceRecorder((r) => {
    if (closed) return;
    const line = `${JSON.stringify(r)}\n`;
    buffer.push(line);
    size += line.length;
    count++;
    options.also?.(r);
    if (size > 64 * 1024) flush();
  }, options);
  const tracer = ((ev: InspectionEvent) => record(ev)) as Tracer;
  Object.defineProperties(tracer, {
    file: { value: file },
    count: { get: () => count },
    flush: { value: flush },
    close: {
      value: () => {
        if (closed) return;
        flush();
        closed = true;
        closeSync(fd);
      },
    },
  });
  return tracer;
}

/**
 * A machine whose actors report to `inspect` although whoever creates them passes no
 * `inspect` option (the session manager, the approval router): the observer is attached
 * to the actor's system when its initial snapshot is computed, and the `@xstate.actor`
 * event the system sent before that is replayed. Children of those actors share the system
 * and are observed too. Prefer the `inspect` option of `createActor` where you have it.
 */
export function instrumentMachine<T extends AnyStateMachine>(machine: T, inspect: (ev: InspectionEvent) => void, attached = new WeakSet<object>()): T {
  const wrapped = Object.create(machine) as T;
  // Owners provide their dependencies to the machine they are given: stay instrumented.
  Object.defineProperty(wrapped, 'provide', {
    value: (implementations: Parameters<T['provide']>[0]) => instrumentMachine(machine.provide(implementations as never) as T, inspect, attached),
  });
  const original = machine.getInitialSnapshot;
  Object.defineProperty(wrapped, 'getInitialSnapshot', {
    value: function (this: T, scope: Parameters<T['getInitialSnapshot']>[0], input: unknown) {
      const system = scope.system as { inspect?: (o: (ev: InspectionEvent) => void) => unknown };
      if (!attached.has(system) && typeof system.inspect === 'function') {
        attached.add(system);
        system.inspect(inspect);
        inspect({ type: '@xstate.actor', actorRef: scope.self, rootId: scope.self.sessionId } as InspectionEvent);
      }
      return (original as (...a: unknown[]) => unknown).call(this, scope, input);
    },
  });
  return wrapped;
}
