// The web inspector's source: XState inspection events (through the trace recorder: stable
// ids) kept as a bounded actor tree, and per-room views of it sent to subscribers in batches.
//
// A room sees the shared actors (supervisor, connection: state values and event types only),
// its own session actors (`session:<room>/…`) with their children, and approval actors
// (`approval:<id>`) once an `approval.requested` event has placed that approval in the room.
//
// Cost when nobody watches: O(1) per inspection event. Values and events are kept as the
// references XState handed over; they are made JSON-safe and redacted only when a frame
// that carries them is built (a subscription's first frame, or a batch).
import type { Observable, Subscription } from 'rxjs';
import type { InspectionEvent } from 'xstate';
import type { RoomEvent } from '../events/room-events.js';
import type { InspectActor, InspectEvent, InspectFrame, RoomInspector } from '../room/protocol.js';
import { createTraceRecorder, safeTraceValue, type TraceRecord } from '../trace/tracer.js';

export interface FeedLimits {
  maxActors: number;
  eventsPerActor: number;
  /** How long a finished actor stays in the tree (ms). */
  retentionMs: number;
  /** Events in one batch (and in a subscription's first frame); the rest is counted as `dropped`. */
  batchEvents: number;
  /** Batches per subscriber at most this often (ms). */
  intervalMs: number;
  /** Approval ids remembered with their room. */
  maxApprovals: number;
}

export const DEFAULT_FEED_LIMITS: FeedLimits = { maxActors: 500, eventsPerActor: 50, retentionMs: 60_000, batchEvents: 500, intervalMs: 100, maxApprovals: 1_000 };

/** Timers the feed uses (a test drives them by hand). Handles are unref'd when they can be. */
export interface FeedTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const systemTimers: FeedTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface InspectorFeedOptions {
  now?: () => number;
  timers?: FeedTimers;
  limits?: Partial<FeedLimits>;
}

/** Machines with a diagram in the page; other actors (promises, callbacks) show no machine. */
const MACHINES = new Set(['supervisor', 'connection', 'session', 'turn', 'approval']);
const SHARED_MACHINES = new Set(['supervisor', 'connection']);
const SUMMARY_CHARS = 300;
/** The room of a shared actor: every room's. */
const SHARED = Symbol('shared');

type Scope = { kind: 'shared' } | { kind: 'room'; room: string } | { kind: 'approval'; approvalId: string } | { kind: 'hidden' };

interface Node {
  id: string;
  parent: string | null;
  machine?: string;
  src?: string;
  status: InspectActor['status'];
  /** The XState state value as handed over (serialized lazily). */
  value: unknown;
  at: number;
  scope: Scope;
  events: EventEntry[];
  /** Serialized form, dropped on every change. */
  shown?: InspectActor;
}

interface EventEntry {
  seq: number;
  actor: string;
  type: string;
  at: number;
  /** The event as handed over; undefined for shared actors (they show the type only). */
  raw: unknown;
  shown?: InspectEvent;
}

interface Subscriber {
  room: string;
  send: (frame: InspectFrame) => unknown;
  changed: Set<string>;
  removed: Set<string>;
  events: EventEntry[];
  dropped: number;
}

const statusOf = (s: string): InspectActor['status'] => (s === 'done' || s === 'stopped' || s === 'error' ? s : 'active');

export class InspectorFeed implements RoomInspector {
  /** The XState `inspect` callback. Never throws. */
  readonly inspect: (ev: InspectionEvent) => void;
  private readonly limits: FeedLimits;
  private readonly now: () => number;
  private readonly timers: FeedTimers;
  private readonly nodes = new Map<string, Node>();
  /** Root actors of supervisor and connection machines: their subtrees are shared. */
  private readonly sharedRoots = new Set<string>();
  private readonly approvalRooms = new Map<string, string>();
  /** Finished actors in the order they finished (head index: O(1) dequeue). */
  private finished: Array<{ id: string; at: number }> = [];
  private finishedHead = 0;
  private readonly subscribers = new Set<Subscriber>();
  private readonly byRoom = new Map<string, Set<Subscriber>>();
  private flushTimer: unknown;
  private sweepTimer: unknown;
  private sweepAt = 0;
  private eventSeq = 0;
  private closed = false;

  constructor(o: InspectorFeedOptions = {}) {
    this.limits = { ...DEFAULT_FEED_LIMITS, ...o.limits };
    this.now = o.now ?? Date.now;
    this.timers = o.timers ?? systemTimers;
    this.inspect = createTraceRecorder((r) => this.record(r), { lazy: true, microsteps: false, now: this.now });
  }

  /** Places approval actors in their room as the room's `approval.requested` events go by. */
  watch(events$: Observable<RoomEvent>): Subscription {
    return events$.subscribe((e) => {
      if (e.type === 'approval.requested') this.placeApproval(e.approvalId, e.session.split('/', 1)[0]!);
    });
  }

  subscribe(room: string, send: (frame: InspectFrame) => unknown): () => void {
    if (this.closed) return () => undefined;
    const visible = [...this.nodes.values()].filter((n) => this.roomOf(n) === room || this.roomOf(n) === SHARED);
    const events = visible
      .flatMap((n) => n.events)
      .sort((a, b) => a.seq - b.seq)
      .slice(-this.limits.batchEvents);
    send({ type: 'inspect', actors: visible.map((n) => this.shownActor(n)), events: events.map((e) => this.shownEvent(e)) });
    const sub: Subscriber = { room, send, changed: new Set(), removed: new Set(), events: [], dropped: 0 };
    this.subscribers.add(sub);
    let set = this.byRoom.get(room);
    if (!set) this.byRoom.set(room, (set = new Set()));
    set.add(sub);
    return () => {
      this.subscribers.delete(sub);
      set.delete(sub);
      if (set.size === 0 && this.byRoom.get(room) === set) this.byRoom.delete(room);
    };
  }

  /** Actors in the tree (tests, status). */
  get size(): number {
    return this.nodes.size;
  }

  close(): void {
    this.closed = true;
    this.timers.clearTimeout(this.flushTimer);
    this.timers.clearTimeout(this.sweepTimer);
    this.flushTimer = this.sweepTimer = undefined;
    this.subscribers.clear();
    this.byRoom.clear();
  }

  private record(r: TraceRecord): void {
    if (this.closed) return;
    switch (r.type) {
      case '@xstate.actor':
        if (r.action === 'created') return this.created(r.actor, r.parent, r.machine, r.src, r.t);
        return this.stopped(r.actor, r.status, r.t);
      case '@xstate.snapshot': {
        const n = this.nodes.get(r.actor);
        if (!n) return;
        n.value = r.value;
        n.status = statusOf(r.status);
        n.at = r.t;
        return this.changed(n);
      }
      case '@xstate.event': {
        const n = this.nodes.get(r.target);
        if (!n) return;
        const type = typeof r.event?.type === 'string' ? r.event.type : 'unknown';
        const entry: EventEntry = { seq: ++this.eventSeq, actor: n.id, type, at: r.t, raw: n.scope.kind === 'shared' ? undefined : r.event };
        n.events.push(entry);
        if (n.events.length > this.limits.eventsPerActor) n.events.shift();
        return this.routeEvent(n, entry);
      }
      default:
        return;
    }
  }

  private created(id: string, parent: string | null, machine: string | undefined, src: string | undefined, at: number): void {
    if (parent === null && machine && SHARED_MACHINES.has(machine)) this.sharedRoots.add(id);
    const n: Node = { id, parent, status: 'active', value: undefined, at, scope: this.scopeOf(id), events: [] };
    if (machine && MACHINES.has(machine)) n.machine = machine;
    if (src) n.src = src;
    this.nodes.set(id, n);
    while (this.nodes.size > this.limits.maxActors) this.evictOne();
    this.changed(n);
  }

  private stopped(id: string, status: string, at: number): void {
    const n = this.nodes.get(id);
    if (!n) return;
    n.status = statusOf(status);
    n.at = at;
    this.finished.push({ id, at });
    this.scheduleSweep();
    this.changed(n);
  }

  /** Where an actor belongs, from its stable id: children's ids start with their root's. */
  private scopeOf(id: string): Scope {
    if (id.startsWith('session:')) return { kind: 'room', room: id.slice('session:'.length).split('/', 1)[0]! };
    if (id.startsWith('approval:')) return { kind: 'approval', approvalId: id.slice('approval:'.length).split('/', 1)[0]!.replace(/#\d+$/, '') };
    return this.sharedRoots.has(id.split('/', 1)[0]!) ? { kind: 'shared' } : { kind: 'hidden' };
  }

  private roomOf(n: Node): string | typeof SHARED | undefined {
    switch (n.scope.kind) {
      case 'shared':
        return SHARED;
      case 'room':
        return n.scope.room;
      case 'approval':
        return this.approvalRooms.get(n.scope.approvalId);
      default:
        return undefined;
    }
  }

  /** The subscribers that see `n` (none at all costs one size check). */
  private watchers(n: Node): Iterable<Subscriber> {
    if (this.subscribers.size === 0) return [];
    const room = this.roomOf(n);
    if (room === SHARED) return this.subscribers;
    return room === undefined ? [] : (this.byRoom.get(room) ?? []);
  }

  private changed(n: Node): void {
    n.shown = undefined;
    for (const s of this.watchers(n)) {
      s.changed.add(n.id);
      this.scheduleFlush();
    }
  }

  private routeEvent(n: Node, e: EventEntry): void {
    for (const s of this.watchers(n)) {
      s.events.push(e);
      // Amortized O(1): the oldest half goes at once, counted as dropped.
      if (s.events.length >= 2 * this.limits.batchEvents) s.dropped += s.events.splice(0, this.limits.batchEvents).length;
      this.scheduleFlush();
    }
  }

  private placeApproval(approvalId: string, room: string): void {
    if (this.closed || this.approvalRooms.has(approvalId)) return;
    this.approvalRooms.set(approvalId, room);
    if (this.approvalRooms.size > this.limits.maxApprovals) this.approvalRooms.delete(this.approvalRooms.keys().next().value!);
    const subs = this.byRoom.get(room);
    if (!subs?.size) return;
    // Its actors appear now, with what they went through so far.
    for (const n of this.nodes.values()) {
      if (n.scope.kind !== 'approval' || n.scope.approvalId !== approvalId) continue;
      for (const s of subs) {
        s.changed.add(n.id);
        s.events.push(...n.events);
      }
    }
    this.scheduleFlush();
  }

  private remove(id: string): void {
    const n = this.nodes.get(id);
    if (!n) return;
    for (const s of this.watchers(n)) {
      s.changed.delete(id);
      s.removed.add(id);
      this.scheduleFlush();
    }
    this.nodes.delete(id);
  }

  /** Over the cap: the longest-finished actor goes first, else the oldest one. */
  private evictOne(): void {
    while (this.finishedHead < this.finished.length) {
      const { id } = this.finished[this.finishedHead++]!;
      if (this.nodes.has(id)) return this.remove(id);
    }
    this.remove(this.nodes.keys().next().value!);
  }

  private scheduleFlush(): void {
    if (this.flushTimer !== undefined || this.closed) return;
    this.flushTimer = this.unref(this.timers.setTimeout(() => this.flush(), this.limits.intervalMs));
  }

  /** Sends each subscriber what changed for it since its last batch. */
  flush(): void {
    this.timers.clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    for (const s of this.subscribers) {
      if (s.changed.size === 0 && s.removed.size === 0 && s.events.length === 0) continue;
      const actors: InspectActor[] = [];
      for (const id of s.changed) {
        const n = this.nodes.get(id);
        const room = n && this.roomOf(n);
        if (n && (room === SHARED || room === s.room)) actors.push(this.shownActor(n));
      }
      let events = s.events;
      let dropped = s.dropped;
      if (events.length > this.limits.batchEvents) {
        dropped += events.length - this.limits.batchEvents;
        events = events.slice(-this.limits.batchEvents);
      }
      const frame: InspectFrame = { type: 'inspect.update', actors, removed: [...s.removed], events: events.map((e) => this.shownEvent(e)), ...(dropped ? { dropped } : {}) };
      s.changed = new Set();
      s.removed = new Set();
      s.events = [];
      s.dropped = 0;
      s.send(frame);
    }
  }

  private scheduleSweep(): void {
    if (this.closed || this.finishedHead >= this.finished.length) return;
    const due = this.finished[this.finishedHead]!.at + this.limits.retentionMs;
    if (this.sweepTimer !== undefined && this.sweepAt <= due) return;
    this.timers.clearTimeout(this.sweepTimer);
    this.sweepAt = due;
    this.sweepTimer = this.unref(this.timers.setTimeout(() => this.sweep(), Math.max(0, due - this.now())));
  }

  /** Finished actors older than the retention go (their subscribers are told in the next batch). */
  sweep(): void {
    this.sweepTimer = undefined;
    const cutoff = this.now() - this.limits.retentionMs;
    while (this.finishedHead < this.finished.length && this.finished[this.finishedHead]!.at <= cutoff) {
      const { id } = this.finished[this.finishedHead++]!;
      if (this.nodes.get(id)?.status !== 'active') this.remove(id);
    }
    if (this.finishedHead > 1024 && this.finishedHead * 2 > this.finished.length) {
      this.finished = this.finished.slice(this.finishedHead);
      this.finishedHead = 0;
    }
    this.scheduleSweep();
  }

  private shownActor(n: Node): InspectActor {
    if (n.shown) return n.shown;
    const a: InspectActor = { id: n.id, parent: n.parent, status: n.status, at: n.at };
    if (n.machine) a.machine = n.machine;
    if (n.src) a.src = n.src;
    if (n.value !== undefined) a.value = safeTraceValue(n.value, { maxString: 200, maxDepth: 8 });
    return (n.shown = a);
  }

  private shownEvent(e: EventEntry): InspectEvent {
    if (e.shown) return e.shown;
    const out: InspectEvent = { actor: e.actor, type: e.type.slice(0, 200), at: e.at };
    if (e.raw !== undefined) out.summary = summarize(e.raw);
    e.raw = undefined;
    return (e.shown = out);
  }

  private unref(handle: unknown): unknown {
    (handle as { unref?: () => void } | undefined)?.unref?.();
    return handle;
  }
}

/** An event's payload (its type aside), JSON-safe, redacted, at most 300 characters. */
function summarize(raw: unknown): string {
  const safe = safeTraceValue(raw, { maxString: SUMMARY_CHARS, maxDepth: 4, maxArray: 10, maxKeys: 20 });
  if (safe && typeof safe === 'object' && !Array.isArray(safe)) delete (safe as Record<string, unknown>).type;
  const text = JSON.stringify(safe) ?? '';
  return text.length > SUMMARY_CHARS ? `${text.slice(0, SUMMARY_CHARS - 1)}…` : text;
}
