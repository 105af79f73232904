import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fromPromise, setup } from 'xstate';
import { connectionMachine } from '../../../machines/connection.machine.js';
import {
  describeMachine,
  leadingComment,
  renderSvg,
  stateIdsOf,
  toDot,
  toMermaid,
  transitionKey,
  writeVisualizations,
} from '../../../src/visualize/index.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

// Every construct the diagrams must show, in one small machine.
const demo = setup({
  actors: { fetcher: fromPromise(async () => 1) },
  guards: { isReady: () => true, hasRetries: () => true },
  delays: { pollInterval: 100 },
  actions: { announce: () => {} },
}).createMachine({
  id: 'demo',
  initial: 'idle',
  states: {
    idle: { on: { GO: [{ guard: 'isReady', target: 'work' }, { target: 'failed' }] } },
    work: {
      initial: 'loading',
      on: { PING: { actions: 'announce' } },
      states: {
        loading: {
          entry: 'announce',
          invoke: { id: 'load', src: 'fetcher', onDone: 'checking', onError: { target: '#demo.failed' } },
        },
        checking: { always: [{ guard: 'hasRetries', target: 'waiting' }, { target: '#demo.done' }] },
        waiting: { after: { pollInterval: 'loading', 5000: '#demo.failed' } },
      },
    },
    done: { type: 'final' },
    failed: { type: 'final' },
  },
});

describe('toMermaid', () => {
  const mmd = toMermaid(demo);

  it('shows initial, final and nested states', () => {
    expect(mmd.startsWith('stateDiagram-v2\n')).toBe(true);
    expect(mmd).toContain('  [*] --> idle\n');
    expect(mmd).toContain('  done --> [*]\n');
    expect(mmd).toContain('  failed --> [*]\n');
    expect(mmd).toContain('  state work {\n');
    expect(mmd).toContain('    [*] --> work_loading\n');
    expect(mmd).toContain('state "loading" as work_loading');
  });

  it('labels guards (each candidate), named and numeric delays, always and invoked actors', () => {
    expect(mmd).toContain('idle --> work : GO [isReady]');
    expect(mmd).toContain('idle --> failed : GO [else]');
    expect(mmd).toContain('work_waiting --> work_loading : after pollInterval');
    expect(mmd).toContain('work_waiting --> failed : after 5000ms');
    expect(mmd).toContain('work_checking --> work_waiting : always [hasRetries]');
    expect(mmd).toContain('work_checking --> done : always [else]');
    expect(mmd).toContain('work_loading : invoke load (fetcher)');
    expect(mmd).toContain('work_loading --> work_checking : done load');
    expect(mmd).toContain('work_loading : entry / announce');
  });

  it('resolves targets given by id (#demo.failed) to the right node', () => {
    expect(mmd).toContain('work_loading --> failed : error load');
  });

  it('writes parallel regions separated by --', () => {
    const par = setup({}).createMachine({
      id: 'par',
      type: 'parallel',
      states: {
        a: { initial: 'x', states: { x: { on: { T: 'y' } }, y: {} } },
        b: { initial: 'x', states: { x: {} } },
      },
    });
    const text = toMermaid(par);
    expect(text).toContain('state par {');
    expect(text).toMatch(/state a \{[\s\S]*\n {4}--\n {4}state b \{/);
    expect(text).toContain('a_x --> a_y : T'); // `x` repeats across regions: ids stay unique
    expect(text).toContain('state "x" as b_x');
  });

  it('highlights visited states and transitions', () => {
    const go = describeMachine(demo).states.get('demo.idle')!.transitions[0]!;
    expect(go.key).toBe('demo.idle|GO|demo.work');
    const highlight = { states: new Set(stateIdsOf(demo, { work: 'loading' })), transitions: new Set([go.key]) };
    const text = toMermaid(demo, { highlight });
    expect(text).toContain('class work,work_loading visited');
    expect(text).toContain('idle --> work : ✓ GO [isReady]');
    expect(toDot(demo, { highlight })).toMatch(/"demo.idle" -> "demo.work" \[label=<✓ GO \[isReady\]>.*penwidth=2/);
  });

  it('keys transitions the same way from their toJSON form', () => {
    const json = { source: '#demo.idle', eventType: 'GO', target: ['#demo.work'] };
    expect(transitionKey(json)).toBe('demo.idle|GO|demo.work');
  });

  it('is deterministic', () => {
    expect(toMermaid(demo)).toBe(mmd);
    expect(toDot(demo)).toBe(toDot(demo));
  });
});

describe('toDot and renderSvg', () => {
  it('renders clusters, internal transitions and a valid SVG offline', async () => {
    const dot = toDot(demo);
    expect(dot).toContain('subgraph "cluster_demo.work"');
    expect(dot).toContain('PING / announce'); // a targetless transition, inside its state
    expect(dot).toContain('lhead="cluster_demo.work"');
    const svg = await renderSvg(dot);
    expect(svg).toMatch(/^<\?xml[\s\S]*<svg[\s\S]*<\/svg>\s*$/);
    expect(svg).toContain('after pollInterval');
    await expect(renderSvg('digraph { a -> }')).rejects.toThrow(/graphviz failed/);
  });
});

describe('machines/connection.machine.ts', () => {
  it('renders every state and named delay', () => {
    const mmd = toMermaid(connectionMachine);
    for (const state of ['starting', 'initializing', 'ready', 'stopping', 'backoff', 'degraded', 'failed', 'stopped']) {
      expect(mmd).toMatch(new RegExp(`(^|\\s|")${state}("|\\s|$)`, 'm'));
    }
    for (const delay of ['handshakeTimeout', 'restartDelay', 'degradedRetry', 'stopTimeout']) expect(mmd).toContain(`after ${delay}`);
    expect(mmd).toContain('running_starting --> backoff : after handshakeTimeout [else]'); // '#connection.backoff'
    expect(mmd).toContain('running_initializing --> running_ready : done handshake [versionAccepted]');
    expect(mmd).toContain('running_initializing --> degraded : error handshake [outOfFastRetries]');
    expect(mmd).toContain('degraded --> running : after degradedRetry');
    expect(mmd).toContain('running --> running_stopping : STOP');
    expect(mmd).toContain('state "running · invoke transport" as running {');
  });
});

describe('leadingComment', () => {
  it('takes the first sentence of the first comment paragraph', () => {
    expect(leadingComment('// The x actor: does y.\n// More.\n//\n// diagram\nimport x')).toBe('The x actor: does y.');
    expect(leadingComment('/** A thing\n * that spans. Rest */\nconst a = 1;')).toBe('A thing that spans.');
    expect(leadingComment('import x from "y";')).toBeUndefined();
  });
});

describe('visualizations/', () => {
  it('is fresh (byte-equal to what npm run visualize generates)', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'switchboard-viz-'));
    try {
      const fresh = await writeVisualizations(root, tmp);
      const committedDir = join(root, 'visualizations');
      const committed = (await readdir(committedDir).catch(() => [] as string[])).filter((f) => /\.(mmd|svg)$|^README\.md$/.test(f));
      const stale: string[] = [];
      for (const f of fresh) {
        const want = await readFile(join(tmp, f));
        const have = await readFile(join(committedDir, f)).catch(() => undefined);
        if (!have) stale.push(`${f} is missing`);
        else if (!have.equals(want)) stale.push(`${f} differs`);
      }
      for (const f of committed) if (!fresh.includes(f)) stale.push(`${f} is no longer generated`);
      expect(stale, `visualizations/ is stale: run npm run visualize (${stale.join('; ')})`).toEqual([]);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
