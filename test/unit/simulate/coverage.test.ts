// Path coverage of the connection, turn and approval machines: every state and every
// transition of the xstate/graph traversal is covered, by the scenario runs (observed on the
// real actors through inspection) or by replaying the graph's own paths on live actors.
// Transitions no scenario can reach are listed here with the reason, and in docs/scenarios.md.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { coverageModels, exploreMachine, formatCoverage, machineCoverage, replayGraphPaths, type MachineCoverage, type MachineGraph } from '../../../src/simulate/coverage.js';
import { runScenario } from '../../../src/simulate/runner.js';
import { parseScenarioText } from '../../../src/simulate/scenario.js';
import { createTraceRecorder, VisitedCollector } from '../../../src/trace/index.js';

/** Transitions only the graph paths reach, and why no scenario can. Keep docs/scenarios.md in step. */
const GRAPH_ONLY: Record<string, Record<string, string>> = {
  connection: {
    'idle -> stopped : STOP': 'Connection.stop() on a connection that was never started returns without sending STOP',
    'backoff -> running.starting : START': 'START is sent once, by Connection.start() at startup, never during a backoff',
    'running.stopping -> running.stopping : STOP': 'needs a second stop racing the first; a host stops once',
    'running.stopping -> backoff : RESTART': 'needs a restart racing a stop; a host stops only after its turns ended',
    'running.starting -> backoff : RECYCLE': 'RECYCLE is sent only by a ConnectionPool to a ready member; scenarios drive one connection, no pool',
    'running.initializing -> backoff : RECYCLE': 'as above',
    'running.ready -> backoff : RECYCLE': 'as above (test/integration/pool.test.ts drives it on real app-servers)',
    'running.stopping -> backoff : RECYCLE': 'as above',
  },
  turn: {
    'subscribing -> failed : xstate.error.actor.stream': 'the stream actor has no failure path (its handles are closures; nothing in it throws)',
    'subscribing -> subscribing : STOP': 'the stream actor reports STREAM.READY as it starts, in the macrostep that entered subscribing',
    'subscribing -> failed : CONNECTION.LOST': 'as above: nothing can arrive while the turn is subscribing',
    'starting -> failed : xstate.error.actor.stream': 'the stream actor has no failure path',
    'running.active -> failed : xstate.error.actor.stream': 'the stream actor has no failure path',
    'running.active -> running.active : WAITING': 'the translator signals WAITING only on a change, so waiting:false only follows waiting:true (in running.waiting)',
    'interrupting.requesting -> failed : xstate.error.actor.stream': 'the stream actor has no failure path',
    'interrupting.retryWait -> failed : xstate.error.actor.stream': 'the stream actor has no failure path',
    'running.waiting -> failed : xstate.error.actor.stream': 'the stream actor has no failure path',
    'escalating -> failed : xstate.error.actor.stream': 'the stream actor has no failure path',
    'escalating -> interrupted : STREAM.CLOSED':
      'the restart that escalating requests reports "lost" synchronously, so CONNECTION.LOST ends the turn before the stream can answer STREAM.CLOSED',
    'escalating -> failed : STREAM.CLOSED': 'as above',
  },
  approval: {
    'pending.runningTool -> done : xstate.error.actor.tool': 'ToolRegistry.call never throws: every tool failure is a success:false result',
  },
};

const DIR = path.join(import.meta.dirname, '../../scenarios');
const runs = new VisitedCollector();
const graphs = new Map<string, MachineGraph>();
const report: MachineCoverage[] = [];
const replayFailures: string[] = [];

beforeAll(async () => {
  const inspect = createTraceRecorder((r) => runs.add(r));
  for (const f of readdirSync(DIR).filter((x) => x.endsWith('.json'))) {
    const r = await runScenario(parseScenarioText(readFileSync(path.join(DIR, f), 'utf8'), f), { inspect });
    if (!r.ok) throw new Error(`scenario ${f} failed while measuring coverage: ${r.divergence?.message}`);
  }
  for (const model of coverageModels) {
    const graph = exploreMachine(model);
    graphs.set(model.id, graph);
    const replay = replayGraphPaths(model, graph);
    replayFailures.push(...replay.failures.map((x) => `${model.id}: ${x}`));
    report.push(machineCoverage(graph, runs.machines.get(model.id), replay.visited));
  }
  console.log(formatCoverage(report));
}, 180_000); // every scenario runs here once; bounded generously for a loaded CI machine

describe('path coverage', () => {
  it('the graph traversal finds every state and transition of the machines', () => {
    const ids = Object.fromEntries([...graphs].map(([id, g]) => [id, { states: g.states.length, transitions: g.edges.size, definitions: g.definitions.length }]));
    expect(ids).toEqual({
      connection: { states: 10, transitions: 37, definitions: 22 },
      turn: { states: 12, transitions: 50, definitions: 34 },
      approval: { states: 7, transitions: 13, definitions: 12 },
    });
    for (const g of graphs.values()) {
      expect(g.shortestPaths).toBeGreaterThan(0);
      expect(g.simplePaths).toBeGreaterThanOrEqual(g.shortestPaths / 3);
    }
  });

  it('every graph path replays on a live actor to the state the graph predicts', () => {
    expect(replayFailures).toEqual([]);
  });

  it('every state and transition is covered (scenarios plus graph paths)', () => {
    for (const c of report) {
      expect(c.states.uncovered, `${c.id} states`).toEqual([]);
      expect(c.transitions.uncovered, `${c.id} transitions`).toEqual([]);
      expect(c.definitions.uncovered, `${c.id} transition definitions`).toEqual([]);
    }
  });

  it('the scenarios cover every state, and every transition but the documented unreachable ones', () => {
    for (const c of report) {
      expect(c.states.notByScenarios, `${c.id} states`).toEqual([]);
      expect(c.transitions.notByScenarios.sort(), `${c.id}: transitions only the graph reaches`).toEqual(Object.keys(GRAPH_ONLY[c.id] ?? {}).sort());
      expect(c.transitions.outsideGraph, `${c.id}: transitions the graph does not know`).toEqual([]);
    }
  });

  it('the reasons are in the docs', () => {
    const docs = readFileSync(path.join(import.meta.dirname, '../../..', 'docs', 'scenarios.md'), 'utf8');
    for (const list of Object.values(GRAPH_ONLY)) for (const edge of Object.keys(list)) expect(docs, edge).toContain(`\`${edge}\``);
  });
});
