// The inspector feed with real XState actors (one system each, as the supervisor, the session
// manager and the approval router create them) and hand-driven timers: per-room views,
// batching and its bounds, retention, approvals placed by their room event, redaction, and
// that nothing is serialized while nobody watches.
import { afterEach, describe, expect, it } from 'vitest';
import { Subject } from 'rxjs';
import { assign, createActor, createMachine, type AnyActor } from 'xstate';
import { InspectorFeed, type FeedTimers } from '../../../src/web/inspector-feed.js';
import type { InspectFrame } from '../../../src/room/protocol.js';
import type { RoomEvent } from '../../../src/events/room-events.js';

/** setTimeout/clearTimeout on a clock the test advances. */
function manualClock() {
  let now = 1_000;
  let nextId = 1;
  const due = new Map<number, { at: number; fn: () => void }>();
  const timers: FeedTimers = {
    setTimeout: (fn, ms) => {
      const id = nextId++;
      due.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout: (h) => void due.delete(h as number),
  };
  const advance = (ms: number) => {
    const end = now + ms;
    for (;;) {
      const next = [...due.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!next) break;
      due.delete(next[0]);
      now = next[1].at;
      next[1].fn();
    }
    now = end;
  };
  return { timers, now: () => now, advance, pending: () => due.size };
}

const supervisorMachine = createMachine({ id: 'supervisor', initial: 'serving', states: { serving: { on: { PING: {} } } } });
const turnMachine = createMachine({
  id: 'turn',
  initial: 'running',
  states: { running: { initial: 'active', states: { active: { on: { FINISH: '#turn.completed' } } } }, completed: { type: 'final' } },
});
const sessionMachine = createMachine({
  id: 'session',
  types: {} as { context: { n: number } },
  context: { n: 0 },
  initial: 'idle',
  states: {
    idle: { on: { START: 'busy', NOTE: { actions: assign({ n: ({ context }) => context.n + 1 }) } } },
    busy: { invoke: { id: 'turn', src: turnMachine, onDone: 'idle' }, on: { NOTE: {} } },
  },
});
const approvalMachine = createMachine({ id: 'approval', initial: 'pending', states: { pending: { on: { DECIDE: 'done' } }, done: { type: 'final' } } });

const actors: AnyActor[] = [];
const feeds: InspectorFeed[] = [];
afterEach(() => {
  for (const a of actors.splice(0)) a.stop();
  for (const f of feeds.splice(0)) f.close();
});

function setup(limits = {}) {
  const clock = manualClock();
  const feed = new InspectorFeed({ now: clock.now, timers: clock.timers, limits });
  feeds.push(feed);
  const spawn = <M extends typeof sessionMachine | typeof supervisorMachine | typeof approvalMachine>(machine: M, id: string) => {
    const a = createActor(machine as typeof sessionMachine, { id, inspect: feed.inspect });
    a.start();
    actors.push(a);
    return a;
  };
  const watch = (room: string) => {
    const frames: InspectFrame[] = [];
    const off = feed.subscribe(room, (f) => frames.push(JSON.parse(JSON.stringify(f)) as InspectFrame));
    return { frames, off, updates: () => frames.filter((f): f is Extract<InspectFrame, { type: 'inspect.update' }> => f.type === 'inspect.update') };
  };
  return { clock, feed, spawn, watch };
}

const ids = (f: InspectFrame) => f.actors.map((a) => a.id).sort();

describe('per-room views', () => {
  it('a room sees the shared actors and its own sessions with their children, never another room’s', () => {
    const { spawn, watch } = setup();
    spawn(supervisorMachine, 'supervisor-1');
    spawn(sessionMachine, 'session:alpha/chat/main').send({ type: 'START' });
    spawn(sessionMachine, 'session:beta/chat/main').send({ type: 'START' });
    const a = watch('alpha');
    expect(a.frames).toHaveLength(1);
    const first = a.frames[0]!;
    expect(first.type).toBe('inspect');
    expect(ids(first)).toEqual(['session:alpha/chat/main', 'session:alpha/chat/main/turn', 'supervisor-1']);
    expect(first.actors.find((x) => x.id === 'session:alpha/chat/main/turn')).toMatchObject({ parent: 'session:alpha/chat/main', machine: 'turn', status: 'active', value: { running: 'active' } });
    expect(first.actors.find((x) => x.id === 'supervisor-1')).toMatchObject({ parent: null, machine: 'supervisor', value: 'serving' });
    expect(JSON.stringify(a.frames)).not.toContain('beta');
  });

  it('shared actors show event types only; the room’s own events carry a redacted summary of at most 300 chars', () => {
    const { spawn, watch, clock } = setup();
    const sup = spawn(supervisorMachine, 'supervisor-1');
    const s = spawn(sessionMachine, 'session:alpha/chat/main');
    const a = watch('alpha');
    sup.send({ type: 'PING', room: 'beta', text: 'beta’s private words' } as never);
    s.send({ type: 'NOTE', token: 'tok_abcdef', note: 'Authorization: Bearer abc.def.ghi', long: 'x'.repeat(5000) } as never);
    clock.advance(100);
    const [u] = a.updates();
    const ping = u!.events.find((e) => e.type === 'PING')!;
    expect(ping).toEqual({ actor: 'supervisor-1', type: 'PING', at: expect.any(Number) });
    const note = u!.events.find((e) => e.type === 'NOTE')!;
    expect(note.actor).toBe('session:alpha/chat/main');
    expect(note.summary!.length).toBeLessThanOrEqual(300);
    expect(note.summary).toContain('[REDACTED]');
    const text = JSON.stringify(a.frames);
    for (const secret of ['tok_abcdef', 'abc.def.ghi', 'beta’s private words']) expect(text).not.toContain(secret);
  });
});

describe('batching', () => {
  it('changes within 100 ms go out as one update; nothing is sent before', () => {
    const { spawn, watch, clock } = setup();
    const s = spawn(sessionMachine, 'session:alpha/chat/main');
    const a = watch('alpha');
    for (let i = 0; i < 40; i++) s.send({ type: 'NOTE' });
    clock.advance(99);
    expect(a.updates()).toHaveLength(0);
    clock.advance(1);
    expect(a.updates()).toHaveLength(1);
    const u = a.updates()[0]!;
    expect(u.events.filter((e) => e.type === 'NOTE')).toHaveLength(40);
    expect(u.actors.map((x) => x.id)).toEqual(['session:alpha/chat/main']);
    expect(u.dropped).toBeUndefined();
    clock.advance(1000);
    expect(a.updates()).toHaveLength(1);
  });

  it('a batch holds at most 500 events, the newest; the rest is counted as dropped', () => {
    const { spawn, watch, clock } = setup();
    const s = spawn(sessionMachine, 'session:alpha/chat/main');
    const a = watch('alpha');
    for (let i = 0; i < 1200; i++) s.send({ type: 'NOTE', i } as never);
    clock.advance(100);
    const u = a.updates()[0]!;
    expect(u.events).toHaveLength(500);
    expect(u.dropped).toBe(700);
    expect(u.events.at(-1)!.summary).toContain('1199');
  });

  it('keeps at most 50 events per actor: a late subscriber gets the newest 50', () => {
    const { spawn, watch } = setup();
    const s = spawn(sessionMachine, 'session:alpha/chat/main');
    for (let i = 0; i < 120; i++) s.send({ type: 'NOTE', i } as never);
    const first = watch('alpha').frames[0]!;
    const notes = first.events.filter((e) => e.type === 'NOTE');
    expect(notes).toHaveLength(50);
    expect(notes[0]!.summary).toContain('"i":70');
  });
});

describe('approvals', () => {
  it('an approval actor appears in the room of its approval.requested event, with what it went through, and nowhere else', () => {
    const { spawn, watch, clock, feed } = setup();
    const events$ = new Subject<RoomEvent>();
    feed.watch(events$);
    const a = watch('alpha');
    const b = watch('beta');
    const apr = spawn(approvalMachine, 'approval:apr_1');
    clock.advance(100);
    expect(JSON.stringify([...a.frames, ...b.frames])).not.toContain('approval:apr_1');
    events$.next({ type: 'approval.requested', session: 'alpha/chat/main', at: 1, approvalId: 'apr_1', turnId: 't', kind: 'command', title: 'Run', detail: {}, choices: ['accept'], reviewer: 'user', expiresAt: undefined });
    clock.advance(100);
    const shown = a.updates().at(-1)!;
    expect(shown.actors.map((x) => x.id)).toEqual(['approval:apr_1']);
    expect(shown.events.map((e) => [e.actor, e.type])).toContainEqual(['approval:apr_1', 'xstate.init']);
    apr.send({ type: 'DECIDE' });
    clock.advance(100);
    expect(a.updates().at(-1)!.actors).toMatchObject([{ id: 'approval:apr_1', status: 'done' }]);
    expect(JSON.stringify(b.frames)).not.toContain('apr_1');
    expect(ids(watch('beta').frames[0]!)).not.toContain('approval:apr_1');
    expect(ids(watch('alpha').frames[0]!)).toContain('approval:apr_1');
  });
});

describe('bounds and retention', () => {
  it('a finished actor stays 60 s, then is removed (and subscribers are told)', () => {
    const { spawn, watch, clock, feed } = setup();
    const s = spawn(sessionMachine, 'session:alpha/chat/main');
    s.send({ type: 'START' });
    const a = watch('alpha');
    s.getSnapshot().children.turn!.send({ type: 'FINISH' });
    clock.advance(100);
    expect(a.updates().at(-1)!.actors).toContainEqual(expect.objectContaining({ id: 'session:alpha/chat/main/turn', status: 'done', value: 'completed' }));
    clock.advance(59_000);
    expect(feed.size).toBe(2);
    clock.advance(1_100);
    expect(feed.size).toBe(1);
    expect(a.updates().at(-1)!.removed).toEqual(['session:alpha/chat/main/turn']);
    expect(ids(watch('alpha').frames[0]!)).toEqual(['session:alpha/chat/main']);
  });

  it('at most 500 actors: the finished go first, then the oldest', () => {
    const { spawn, feed, watch } = setup();
    for (let i = 0; i < 10; i++) spawn(approvalMachine, `session:alpha/active/${i}`);
    for (let i = 0; i < 10; i++) spawn(approvalMachine, `session:alpha/finished/${i}`).send({ type: 'DECIDE' });
    for (let i = 0; i < 485; i++) spawn(approvalMachine, `session:alpha/more/${i}`);
    expect(feed.size).toBe(500);
    let shown = ids(watch('alpha').frames[0]!);
    // 505 made: the 5 that finished first went, every active one stayed.
    expect(shown.filter((id) => id.includes('/finished/'))).toEqual(['5', '6', '7', '8', '9'].map((n) => `session:alpha/finished/${n}`));
    expect(shown.filter((id) => id.includes('/active/'))).toHaveLength(10);
    for (let i = 0; i < 120; i++) spawn(approvalMachine, `session:alpha/late/${i}`);
    expect(feed.size).toBe(500);
    shown = ids(watch('alpha').frames[0]!);
    // Then the oldest active ones.
    expect(shown.some((id) => id.includes('/finished/') || id.includes('/active/'))).toBe(false);
  });
});

describe('cost while nobody watches', () => {
  it('no timers for batches and no serialization: an event’s payload is not even read', () => {
    const { spawn, clock, watch } = setup();
    const s = spawn(sessionMachine, 'session:alpha/chat/main');
    let reads = 0;
    const payload = {
      get body() {
        reads++;
        return 'payload';
      },
    };
    for (let i = 0; i < 100; i++) s.send({ type: 'NOTE', payload } as never);
    expect(reads).toBe(0);
    expect(clock.pending()).toBe(0);
    // Once someone looks, the events they are shown are serialized (once each).
    const first = watch('alpha').frames[0]!;
    expect(first.events.some((e) => e.summary?.includes('payload'))).toBe(true);
    expect(reads).toBe(50);
  });
});
