// Every scenario of test/scenarios runs and passes; divergences are reported clearly;
// invalid scenarios are refused with their paths; time is virtual and runs are repeatable.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatDivergence, runScenario, type RunResult } from '../../../src/simulate/runner.js';
import { parseScenario, parseScenarioText, ScenarioError, type Scenario } from '../../../src/simulate/scenario.js';
import { simulateCommand } from '../../../src/simulate/cli.js';

const DIR = path.join(import.meta.dirname, '../../scenarios');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
const load = (f: string): Scenario => parseScenarioText(readFileSync(path.join(DIR, f), 'utf8'), f);
const tmp = mkdtempSync(path.join(tmpdir(), 'sb-sim-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The divergence text as the failure message, so a failing scenario explains itself. */
function expectPass(r: RunResult): void {
  if (!r.ok) expect.fail(formatDivergence(r.divergence!, r.name));
}

describe('the scenario library', () => {
  it('has at least 20 scenarios, each with a unique name and a description', () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
    const names = files.map((f) => load(f).name);
    expect(new Set(names).size).toBe(names.length);
    for (const f of files) expect(load(f).description, f).toBeTruthy();
  });

  it('covers every topic the issue lists', () => {
    const tags = new Set(files.flatMap((f) => load(f).tags));
    for (const t of ['turn', 'steer', 'queue', 'interrupt', 'approval', 'timeout', 'watchdog', 'withdrawn', 'crash', 'malformed', 'overload', 'version']) {
      expect(tags, t).toContain(t);
    }
    const kinds = new Set(files.flatMap((f) => load(f).steps.flatMap((s) => ('request' in s ? [s.request] : []))));
    for (const m of [
      'item/commandExecution/requestApproval',
      'item/fileChange/requestApproval',
      'item/permissions/requestApproval',
      'mcpServer/elicitation/request',
      'item/tool/requestUserInput',
      'item/tool/call',
    ]) {
      expect(kinds, m).toContain(m);
    }
  });

  // Virtual time: a scenario whose timeouts took real time would run into the test's own timeout.
  it.each(files)('%s', async (f) => {
    const r = await runScenario(load(f));
    expectPass(r);
    expect(r.stepsRun).toBe(load(f).steps.length);
    expect(r.inspected).toBe(false); // tracing off: no inspect callback anywhere
  });
});

describe('divergences', () => {
  const base = (): Scenario => load('text-turn.json');

  it('a wrong event expectation reports the index, expected vs actual, and the last events', async () => {
    const s = base();
    s.expect.events = [
      { type: 'turn.started', turnId: 'turn_1' },
      { type: 'message.delta', delta: 'Hello' },
      { type: 'message.completed', text: 'Goodbye.' }, // deliberately wrong
      { type: 'turn.completed' },
    ];
    const r = await runScenario(s, { lastEvents: 4 });
    expect(r.ok).toBe(false);
    const d = r.divergence!;
    expect(d).toMatchObject({ kind: 'event', index: 2, expected: { type: 'message.completed', text: 'Goodbye.' } });
    expect(d.actual).toMatchObject({ index: 4, event: { type: 'message.completed', text: 'Hello, world.' } });
    expect(d.mismatch).toMatchObject({ path: 'text' });
    expect(d.lastEvents.map((e) => e.index)).toEqual([3, 4, 5, 6]);
    const text = formatDivergence(d, r.name);
    expect(text).toContain('diverged (event): expected room event #2 was not seen (searched from room event [3])');
    expect(text).toContain('expected: {"type":"message.completed","text":"Goodbye."}');
    expect(text).toContain('actual:   [4] message.completed {"turnId":"turn_1","itemId":"msg_1","text":"Hello, world."}');
    expect(text).toContain('differs at text: expected "Goodbye.", got "Hello, world."');
    expect(text).toContain('last 4 room event(s):');
    expect(text).toContain('[6] turn.completed');
    console.log(text);
  });

  it('a request the client never sends stops the run at that step, showing what it did send', async () => {
    const s = base();
    s.steps[3] = { ...s.steps[3], params: { threadId: 'thr_9' } } as Scenario['steps'][number];
    const r = await runScenario(s);
    expect(r).toMatchObject({ ok: false, stepsRun: 3, divergence: { kind: 'step', step: 3 } });
    const text = formatDivergence(r.divergence!, r.name);
    expect(text).toContain('step 3 (expect) failed: expected the client to send turn/start with {"threadId":"thr_9"}, but it did not');
    expect(text).toContain('a turn/start was sent but differs at threadId: expected "thr_9", got "thr_1"');
  });

  it('an absent event that appears, a wrong final state, an unexpected request', async () => {
    const a = base();
    a.expect.absent = [{ type: 'usage' }];
    expect((await runScenario(a)).divergence).toMatchObject({ kind: 'absent', message: 'room event [5] matches absent #0, which must not appear' });

    const b = base();
    b.expect.final = { connection: 'failed' };
    const rb = await runScenario(b);
    expect(rb.divergence).toMatchObject({ kind: 'final', message: 'final state "connection" differs at (value): expected "failed", got "running.ready"' });
    expect(rb.finalStates.connection).toBe('running.ready');

    const c = base();
    c.steps = c.steps.slice(0, 1); // the client's thread/start is never expected
    c.expect = { events: [], absent: [] };
    const rc = await runScenario(c);
    expect(rc.divergence).toMatchObject({ kind: 'unexpected', message: 'the client sent 1 request(s) the script never expected: thread/start' });
  });

  it('a wrong answer to a server request names the path that differs', async () => {
    const s = load('approval-command.json');
    const i = s.steps.findIndex((x) => 'answer' in x);
    s.steps[i] = { answer: 'cmd', result: { decision: 'decline' } };
    const r = await runScenario(s);
    expect(r.divergence).toMatchObject({ kind: 'step', step: i, mismatch: { path: 'result.decision' } });
    expect(formatDivergence(r.divergence!)).toContain('the answer to cmd differs at result.decision: expected "decline", got "accept"');
  });
});

describe('the scenario format', () => {
  it('refuses invalid scenarios with every problem and its path', () => {
    const bad = {
      name: '',
      steps: [
        { post: 'hi', extra: 1 },
        { expect: 'turn/start', notify: 'x' },
        { wibble: true },
        { delay: -5 },
        { crash: { code: 'one' } },
      ],
      expect: { events: 'nope' },
    };
    let err: unknown;
    try {
      parseScenario(bad, 'bad.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScenarioError);
    const issues = (err as ScenarioError).issues;
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^name: /),
        'steps[0]: Unrecognized key: "extra"',
        'steps[1]: a step has exactly one verb, found expect and notify',
        expect.stringMatching(/^steps\[2\]: unknown step \["wibble"\]: use one of post, command, decide, expect/),
        expect.stringMatching(/^steps\[3\]\.delay: /),
        expect.stringMatching(/^steps\[4\]\.crash\.code: /),
        expect.stringMatching(/^expect\.events: /),
      ]),
    );
    expect((err as Error).message).toMatch(/^invalid scenario bad\.json:\n {2}- name: /);
  });

  it('rejects JSON that does not parse', () => {
    expect(() => parseScenarioText('{"name": ', 'x.json')).toThrow(/invalid scenario x\.json:\n {2}- not valid JSON/);
  });
});

describe('deterministic virtual time', () => {
  it('the same scenario gives the same events, timestamps included, and real timers are restored', async () => {
    const realDate = Date;
    const realSetTimeout = globalThis.setTimeout;
    const strip = (r: RunResult) => r.events.map(({ ...e }) => ({ ...e, approvalId: undefined }));
    const a = await runScenario(load('approval-timeout.json'));
    const b = await runScenario(load('approval-timeout.json'));
    expect(strip(a)).toEqual(strip(b));
    expect(a.virtualMs).toBe(60_000);
    expect(a.events.find((e) => e.type === 'approval.resolved')?.at).toBe(Date.UTC(2025, 0, 1) + 60_000);
    expect(Date).toBe(realDate);
    expect(globalThis.setTimeout).toBe(realSetTimeout);
  });

  it('runs are serialized: concurrent calls do not share the clock', async () => {
    const [a, b] = await Promise.all([runScenario(load('watchdog.json')), runScenario(load('approval-timeout.json'))]);
    expect([a.ok, b.ok]).toEqual([true, true]);
    expect([a.virtualMs, b.virtualMs]).toEqual([50_000, 60_000]);
  });
});

describe('simulateCommand', () => {
  const capture = () => {
    const lines: string[] = [];
    const errors: string[] = [];
    return { out: { line: (t: string) => lines.push(t), error: (t: string) => errors.push(t) }, lines, errors };
  };

  it('0 on pass, with a trace when asked', async () => {
    const c = capture();
    const trace = path.join(tmp, 'cli.jsonl');
    expect(await simulateCommand(path.join(DIR, 'steer.json'), { trace }, c.out)).toBe(0);
    expect(c.lines[0]).toMatch(/^✓ steering a running turn: 8 steps, \d+ room events, 0 ms virtual$/);
    expect(c.lines[1]).toBe(`trace → ${trace}`);
    expect(readFileSync(trace, 'utf8').split('\n').filter(Boolean).length).toBeGreaterThan(50);
  });

  it('1 on divergence (the divergence on stderr), JSON when asked', async () => {
    const s = JSON.parse(readFileSync(path.join(DIR, 'text-turn.json'), 'utf8'));
    s.expect.events = [{ type: 'turn.completed', turnId: 'turn_2' }];
    const file = path.join(tmp, 'wrong.json');
    writeFileSync(file, JSON.stringify(s));
    const c = capture();
    expect(await simulateCommand(file, {}, c.out)).toBe(1);
    expect(c.errors[0]).toMatch(/diverged \(event\): expected room event #0 was not seen/);
    const j = capture();
    expect(await simulateCommand(file, { json: true }, j.out)).toBe(1);
    const parsed = JSON.parse(j.lines[0]!);
    expect(parsed).toMatchObject({ ok: false, divergence: { kind: 'event', index: 0 } });
    expect(parsed.divergence.text).toContain('differs at turnId');
  });

  it('2 on an invalid or unreadable scenario, with the zod message', async () => {
    const file = path.join(tmp, 'invalid.json');
    writeFileSync(file, JSON.stringify({ name: 'x', steps: [{ delay: 'soon' }] }));
    const c = capture();
    expect(await simulateCommand(file, {}, c.out)).toBe(2);
    expect(c.errors[0]).toMatch(/^invalid scenario .*invalid\.json:\n {2}- steps\[0\]\.delay: /);
    expect(await simulateCommand(path.join(tmp, 'missing.json'), {}, c.out)).toBe(2);
    expect(c.errors[1]).toMatch(/^cannot read scenario /);
  });
});
