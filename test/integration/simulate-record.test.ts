// Record mode against the REAL `codex app-server` (driven by the scripted model): a text turn
// is recorded into a scenario, which then replays through runScenario without the binary.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { recordScenario } from '../../src/simulate/record.js';
import { formatDivergence, runScenario } from '../../src/simulate/runner.js';
import { parseScenario } from '../../src/simulate/scenario.js';
import { simulateCommand } from '../../src/simulate/cli.js';
import { codexBin, makeCodexHome } from '../support/codex-home.js';
import { say, startMockModel } from '../support/mock-model.js';
import { processesWithEnv, waitFor } from '../support/procs.js';

const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('record mode', () => {
  it('records a real text turn and replays it without the binary', async () => {
    const mock = await startMockModel([say('Hello from the scripted model.', 3)]);
    const home = makeCodexHome({ modelUrl: mock.url });
    const cwd = mkdtempSync(path.join(tmpdir(), 'sb-rec-ws-'));
    const fakeHome = mkdtempSync(path.join(tmpdir(), 'sb-rec-home-')); // `bash -lc` must not read the real ~/.bashrc
    cleanups.push(
      () => mock.close(),
      () => home.cleanup(),
      () => rmSync(cwd, { recursive: true, force: true }),
      () => rmSync(fakeHome, { recursive: true, force: true }),
    );

    const recording = await recordScenario({
      plan: {
        name: 'a recorded text turn',
        config: { session: { cwd, approvalPolicy: 'never' } },
        steps: [{ post: 'Say hello' }, { until: { type: 'turn.completed' } }],
      },
      appServer: { command: codexBin(), env: { ...process.env, HOME: fakeHome, CODEX_HOME: home.dir } },
      stepTimeoutMs: 20_000,
    });
    expect(await waitFor(() => processesWithEnv(`CODEX_HOME=${home.dir}`).length === 0, 5_000)).toBe(true);
    expect(mock.requests).toHaveLength(1);

    // What the real run looked like, and what the recorded scenario says.
    const types = recording.events.map((e) => e.type);
    expect(types).toContain('turn.started');
    expect(types.at(-1)).toBe('turn.completed');
    expect(recording.events.find((e) => e.type === 'message.completed')).toMatchObject({ text: 'Hello from the scripted model.' });
    const s = parseScenario(recording.scenario);
    expect(s.server.userAgent).toMatch(/\/0\.169\.0/);
    const verbs = s.steps.map((step) => Object.keys(step).find((k) => k !== 'note'));
    // Codex may notify first (configWarning); the post comes before any request it causes.
    expect(verbs.indexOf('post')).toBeGreaterThanOrEqual(0);
    expect(verbs.indexOf('post')).toBeLessThan(verbs.indexOf('expect'));
    expect(verbs.at(-1)).toBe('until');
    const methods = (v: string) => s.steps.flatMap((step) => (v in step ? [(step as Record<string, unknown>)[v]] : []));
    expect(methods('expect')).toEqual(['thread/start', 'turn/start']);
    expect(methods('notify')).toEqual(expect.arrayContaining(['turn/started', 'item/agentMessage/delta', 'turn/completed']));
    expect(s.expect.events).toHaveLength(recording.events.length);

    // The replay: no binary, virtual time, the same room events.
    const replay = await runScenario(recording.scenario);
    if (!replay.ok) expect.fail(formatDivergence(replay.divergence!, replay.name));
    expect(replay.events.map((e) => e.type)).toEqual(types);
    expect(replay.finalStates.requests).toEqual(['initialize', 'thread/start', 'turn/start']);
  });

  it('switchboard simulate --record writes NAME.recorded.json and replays it', async () => {
    const mock = await startMockModel([say('Recorded through the CLI.')]);
    const home = makeCodexHome({ modelUrl: mock.url });
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-rec-cli-'));
    const fakeHome = mkdtempSync(path.join(tmpdir(), 'sb-rec-home-'));
    cleanups.push(
      () => mock.close(),
      () => home.cleanup(),
      () => rmSync(dir, { recursive: true, force: true }),
      () => rmSync(fakeHome, { recursive: true, force: true }),
    );
    const plan = path.join(dir, 'plan.json');
    writeFileSync(plan, JSON.stringify({ name: 'cli plan', config: { session: { cwd: dir, approvalPolicy: 'never' } }, steps: [{ post: 'Hi' }, { until: { type: 'turn.completed' } }] }));
    const saved = { cmd: process.env.SWITCHBOARD_CODEX_COMMAND, home: process.env.HOME, codexHome: process.env.CODEX_HOME };
    process.env.SWITCHBOARD_CODEX_COMMAND = codexBin();
    process.env.HOME = fakeHome;
    process.env.CODEX_HOME = home.dir;
    const lines: string[] = [];
    const errors: string[] = [];
    let code: number;
    try {
      code = await simulateCommand(plan, { record: true }, { line: (t) => lines.push(t), error: (t) => errors.push(t) });
    } finally {
      for (const [k, v] of [['SWITCHBOARD_CODEX_COMMAND', saved.cmd], ['HOME', saved.home], ['CODEX_HOME', saved.codexHome]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    expect(errors).toEqual([]);
    expect(code).toBe(0);
    const out = path.join(dir, 'plan.recorded.json');
    expect(existsSync(out)).toBe(true);
    expect(lines[0]).toMatch(new RegExp(`^recorded \\d+ frames and \\d+ room events → ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    expect(lines[1]).toMatch(/^✓ cli plan \(recorded\): /);
    expect(JSON.parse(readFileSync(out, 'utf8')).tags).toContain('recorded');
  });
});
