// Traces: JSON Lines of inspection events with stable ids, safe serialization, no secrets;
// what a trace visited; tracing through actors created by code that passes no `inspect`.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assign, createActor, fromPromise, setup } from 'xstate';
import { createTracer, instrumentMachine, readTrace, toSafeJson, visitedFromTrace, type TraceRecord } from '../../../src/trace/index.js';
import { runScenario } from '../../../src/simulate/runner.js';
import { parseScenarioText } from '../../../src/simulate/scenario.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'sb-trace-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const scenario = (f: string) => parseScenarioText(readFileSync(path.join(import.meta.dirname, '../../scenarios', f), 'utf8'), f);

describe('safe serialization', () => {
  it('cycles, functions, errors, BigInt, collections, long strings, depth', () => {
    const o: Record<string, unknown> = { n: 1n, f: function named() {}, arrow: () => 1, nan: NaN, when: new Date(0), sym: Symbol('s') };
    o.self = o;
    o.err = Object.assign(new Error('boom', { cause: new Error('root') }), { code: 'E_BOOM' });
    o.map = new Map([['a', 1]]);
    o.set = new Set([1, 2]);
    o.long = 'x'.repeat(50);
    o.deep = { a: { b: { c: { d: 1 } } } };
    const out = toSafeJson(o, { maxString: 10, maxDepth: 3 }) as Record<string, any>;
    expect(out).toMatchObject({
      n: '1n',
      f: '[Function named]',
      arrow: '[Function arrow]',
      nan: 'NaN',
      when: '1970-01-01T00:00:00.000Z',
      sym: 'Symbol(s)',
      self: '[Circular]',
      err: { name: 'Error', message: 'boom', code: 'E_BOOM', cause: { name: 'Error', message: 'root' } },
      map: { a: 1 },
      set: [1, 2],
      long: 'xxxxxxxxxx…(+40 chars)',
      deep: { a: { b: '[…]' } },
    });
    expect(() => JSON.stringify(out)).not.toThrow();
    // Shared (non-cyclic) references are not mistaken for cycles.
    const shared = { x: 1 };
    expect(toSafeJson({ a: shared, b: shared })).toEqual({ a: { x: 1 }, b: { x: 1 } });
  });
});

// A parent that invokes a child twice (so the child's path repeats) and carries secrets.
const child = fromPromise(async ({ input }: { input: { n: number } }) => ({ n: input.n, apiKey: 'sk-supersecretvalue123' }));
const parent = setup({ actors: { child } }).createMachine({
  id: 'parent',
  context: { runs: 0, password: 'hunter2' },
  initial: 'idle',
  states: {
    idle: { on: { GO: 'working' } },
    working: {
      invoke: {
        id: 'child',
        src: 'child',
        input: ({ context }) => ({ n: context.runs }),
        onDone: [{ guard: ({ context }) => context.runs === 0, target: 'working', reenter: true, actions: assign({ runs: 1 }) }, { target: 'done' }],
      },
    },
    done: { type: 'final' },
  },
});

async function traceParent(file: string, via: 'option' | 'instrument'): Promise<TraceRecord[]> {
  const tracer = createTracer(file);
  const actor = via === 'option' ? createActor(parent, { id: 'p', inspect: tracer }) : createActor(instrumentMachine(parent, tracer), { id: 'p' });
  actor.start();
  actor.send({ type: 'GO', token: 'tok_abcdef', note: 'Authorization: Bearer abc.def.ghi', n: 10n } as never);
  await new Promise((r) => setTimeout(r, 10));
  tracer.close();
  return readTrace(file);
}

describe('createTracer', () => {
  it('writes created/stopped, events with source and target, snapshots with the value only', async () => {
    const file = path.join(tmp, 'parent.jsonl');
    const recs = await traceParent(file, 'option');
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n').filter(Boolean).every((l) => JSON.parse(l))).toBe(true);
    expect(recs.map((r) => r.seq)).toEqual(recs.map((_, i) => i + 1));

    const created = recs.filter((r) => r.type === '@xstate.actor' && r.action === 'created');
    expect(created.map((r) => (r as { actor: string }).actor)).toEqual(['p', 'p/child', 'p/child#2']);
    expect(created[0]).toMatchObject({ machine: 'parent', parent: null });
    expect(created[1]).toMatchObject({ parent: 'p', src: 'child' });
    const stopped = recs.filter((r) => r.type === '@xstate.actor' && r.action === 'stopped').map((r) => [(r as { actor: string }).actor, (r as { status: string }).status]);
    expect(stopped.sort()).toEqual([
      ['p', 'done'],
      ['p/child#2', 'done'],
      ['p/child', 'done'],
    ]);

    const go = recs.find((r) => r.type === '@xstate.event' && r.event.type === 'GO');
    expect(go).toMatchObject({ source: null, target: 'p' });
    const done = recs.find((r) => r.type === '@xstate.event' && r.event.type === 'xstate.done.actor.child');
    expect(done).toMatchObject({ source: 'p/child', target: 'p' });

    const snaps = recs.filter((r) => r.type === '@xstate.snapshot' && r.actor === 'p');
    expect(snaps.map((s) => (s as { value: unknown }).value)).toEqual(['idle', 'working', 'working', 'done']);
    expect(text).not.toContain('"context"');
    const micro = recs.find((r) => r.type === '@xstate.microstep' && r.event === 'GO');
    expect(micro).toMatchObject({ transitions: [{ source: 'parent.idle', eventType: 'GO', target: ['parent.working'] }] });
  });

  it('never writes a secret', async () => {
    const file = path.join(tmp, 'secrets.jsonl');
    await traceParent(file, 'option');
    const text = readFileSync(file, 'utf8');
    for (const secret of ['tok_abcdef', 'abc.def.ghi', 'sk-supersecretvalue123', 'hunter2']) expect(text).not.toContain(secret);
    expect(text).toContain('[REDACTED]');
    expect(text).toContain('"n":"10n"'); // BigInt in an event, serialized
  });

  it('instrumentMachine traces actors created without an inspect option, root included', async () => {
    const recs = await traceParent(path.join(tmp, 'instrumented.jsonl'), 'instrument');
    const created = recs.filter((r) => r.type === '@xstate.actor' && r.action === 'created').map((r) => (r as { actor: string }).actor);
    expect(created).toEqual(['p', 'p/child', 'p/child#2']);
    expect(recs.some((r) => r.type === '@xstate.snapshot' && r.actor === 'p' && r.event === 'GO')).toBe(true);
  });
});

describe('traces of simulations', () => {
  it('are identical from run to run (stable ids, virtual time, seeded ids)', async () => {
    const a = path.join(tmp, 'a.jsonl');
    const b = path.join(tmp, 'b.jsonl');
    const ra = await runScenario(scenario('approval-command.json'), { trace: a });
    await runScenario(scenario('approval-command.json'), { trace: b });
    expect(ra).toMatchObject({ ok: true, inspected: true, trace: a });
    expect(readFileSync(a, 'utf8')).toBe(readFileSync(b, 'utf8'));
    const actors = new Set(readTrace(a).filter((r) => r.type === '@xstate.actor').map((r) => (r as { actor: string }).actor));
    expect([...actors]).toEqual(
      expect.arrayContaining([
        'connection',
        'connection/transport',
        'connection/handshake',
        'session:room/general/main',
        'session:room/general/main/turn',
        'session:room/general/main/turn/stream',
        expect.stringMatching(/^approval:apr_[0-9a-f]{16}$/),
        expect.stringMatching(/^approval:apr_[0-9a-f]{16}\/reviewer$/),
      ]),
    );
  });

  it('visitedFromTrace: states, transitions (from -> to : event), node ids and definitions per machine', async () => {
    const file = path.join(tmp, 'approval.jsonl');
    await runScenario(scenario('approval-command.json'), { trace: file });
    const v = visitedFromTrace(file);
    expect(Object.keys(v)).toEqual(expect.arrayContaining(['connection', 'session', 'turn', 'approval']));
    expect([...v.connection!.states]).toEqual(expect.arrayContaining(['idle', 'running', 'running.starting', 'running.initializing', 'running.ready', 'running.stopping', 'stopped']));
    expect(v.connection!.transitions).toContain('running.initializing -> running.ready : xstate.done.actor.handshake');
    expect(v.connection!.transitions).toContain('running.stopping -> stopped : TRANSPORT.CLOSED');
    expect(v.connection!.stateIds).toContain('connection.running.ready');
    expect(v.connection!.definitions).toContain('connection.running.starting|TRANSPORT.OPENED|connection.running.initializing');
    expect(v.turn!.transitions).toContain('running.active -> running.waiting : WAITING');
    expect(v.turn!.transitions).toContain('running.waiting -> running.active : WAITING');
    expect(v.turn!.transitions).toContain('running.active -> completed : TURN.COMPLETED');
    expect(v.approval!.states).toContain('classifying');
    expect(v.approval!.definitions).toContain('approval.classifying||approval.pending.reviewing');
    expect(v.approval!.transitions).toContain('pending.reviewing -> done : xstate.done.actor.reviewer');
    // No transition is invented for events that changed nothing.
    expect([...v.connection!.transitions].every((t) => !/ : xstate\.init$/.test(t))).toBe(true);
  });
});
