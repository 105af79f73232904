// Model refs against the REAL app-server with the scripted model: `openai/*`, legacy `codex/*`,
// bare names and configured aliases through `/model`; `/models`, `/codex models` and
// `switchboard models` reading the one catalog (Codex's model/list, the configured list, or the
// fallback list when discovery is off); the chosen model is what Codex asks the model provider for.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { firstValueFrom, filter } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createSupervisor, type Supervisor } from '../../src/supervisor/supervisor.js';
import type { RoomEvent } from '../../src/events/room-events.js';
import { processRegistry } from '../../src/process/registry.js';
import { say } from '../support/mock-model.js';
import { makeSandbox, type Sandbox } from '../support/sandbox.js';
import { memoryLogger } from '../support/log.js';
import { runCli } from '../support/cli-proc.js';

const open: Array<{ sb?: Supervisor; box: Sandbox }> = [];
afterEach(async () => {
  for (const { sb, box } of open.splice(0)) {
    await sb?.stop();
    await box.assertNoProcesses();
    await box.close();
  }
  expect(processRegistry.list()).toEqual([]);
});

const ANN = { id: 'ann', name: 'Ann' };
const ALIASED = { 'openai/gpt-5.5': { alias: 'gpt' }, 'codex/gpt-5.2': { alias: 'old' } };

async function world(defaults: Record<string, unknown> = {}) {
  const box = await makeSandbox(() => say('ok'));
  const sb = createSupervisor(
    {
      appServer: { env: box.env },
      agents: { defaults: { cwd: box.workspace, ...defaults } },
      sessions: { bindingsDir: path.join(box.root, 'bindings'), idleWatchdogSeconds: 60 },
      storage: { kind: 'dataset', path: path.join(box.root, 'threads.db') },
    },
    { log: memoryLogger('warn').log, baseDir: box.root },
  );
  open.push({ sb, box });
  await sb.start();
  /** Post a command (or message) and return the next notice. */
  const ask = async (text: string) => {
    const reply = firstValueFrom(sb.events$.pipe(filter((e): e is Extract<RoomEvent, { type: 'notice' }> => e.type === 'notice')));
    await sb.post({ room: 'lab', from: ANN, text });
    return reply;
  };
  const turn = async (text: string) => {
    const done = firstValueFrom(sb.events$.pipe(filter((e) => e.type === 'turn.completed' || e.type === 'turn.failed')));
    await sb.post({ room: 'lab', from: ANN, text });
    return done;
  };
  return { sb, box, ask, turn };
}

/** The names a `/models`-style listing shows. */
const namesOf = (text: string) => [...text.matchAll(/^- (\S+)/gm)].map((m) => m[1]!);

describe('model refs (real codex, its model/list)', () => {
  it('/model accepts openai/*, codex/* and bare names; whatever /codex models lists, /model accepts', async () => {
    const { box, ask, turn } = await world();
    const listed = await ask('/codex models');
    const names = namesOf(listed.text);
    expect(names).toContain('gpt-5.5');
    expect(listed.text).toBe((await ask('/models')).text);
    for (const name of names) expect((await ask(`/model ${name}`)).text, name).toMatch(/^Model set to /);

    expect((await ask('/model codex/gpt-5.5')).text).toMatch(/^Model set to gpt-5\.5;/);
    expect((await ask('/model openai/gpt-5.5')).text).toMatch(/^Model set to gpt-5\.5;/);
    expect((await ask('/model openai/gpt-0')).level).toBe('warning');
    expect((await turn('hello')).type).toBe('turn.completed');
    // The thread's first turn runs with the chosen model: Codex asks the provider for it.
    expect(box.model.requests.at(-1)?.model).toBe('gpt-5.5');
  });

  it('a configured record: its aliases work in /model and show in every listing; the list is what /model accepts', async () => {
    const { sb, box, ask, turn } = await world({ model: 'openai/gpt-5.5', models: ALIASED });
    const models = await ask('/models');
    expect(models.text).toBe('Models:\n- gpt-5.5 (alias gpt) [current, default]\n- gpt-5.2 (alias old)');
    expect(namesOf((await ask('/codex models')).text)).toEqual(['gpt-5.5', 'gpt-5.2']);
    expect(await sb.models()).toMatchObject({ source: 'static', models: [{ model: 'gpt-5.5', alias: 'gpt', isDefault: true }, { model: 'gpt-5.2', alias: 'old' }] });

    expect((await ask('/model gpt-6-sol')).text).toBe('Unknown model "gpt-6-sol". Available: gpt-5.5 (alias gpt), gpt-5.2 (alias old).');
    expect((await ask('/model OLD')).text).toMatch(/^Model set to gpt-5\.2;/);
    expect((await turn('hello')).type).toBe('turn.completed');
    expect(box.model.requests.at(-1)?.model).toBe('gpt-5.2');
    expect((await ask('/model gpt')).text).toMatch(/^Model set to gpt-5\.5;/);
    expect((await turn('again')).type).toBe('turn.completed');
    expect(box.model.requests.at(-1)?.model).toBe('gpt-5.5');
  });
});

describe('switchboard models (real codex)', () => {
  async function cli(config: Record<string, unknown>, extra: string[] = []) {
    const box = await makeSandbox(() => say('ok'));
    open.push({ box });
    const file = path.join(box.root, 'switchboard.config.json');
    writeFileSync(file, JSON.stringify({ appServer: { env: box.env, ...((config.appServer as object) ?? {}) }, agents: config.agents ?? {} }));
    const run = runCli(['models', '--config', file, ...extra], { cwd: box.root });
    const code = await run.exited;
    return { code, out: run.stdout(), err: run.stderr() };
  }

  it("lists Codex's model/list as /models does, with the default", async () => {
    const { code, out, err } = await cli({});
    expect(code, err).toBe(0);
    expect(out).toMatch(/^gpt-5\.5 +GPT-5\.5$/m);
    expect(out).toMatch(/\[default\]$/m);
    expect(out).toMatch(/\(\d+ models from Codex's model\/list\)\n$/);
  }, 150_000);

  it('discovery off: the fallback list, without starting Codex, saying why', async () => {
    const off = await cli({ appServer: { discovery: { enabled: false } }, agents: { defaults: { model: 'openai/gpt-5.2' } } });
    expect(off.code, off.err).toBe(0);
    expect(off.out).toBe(
      ['gpt-5.5', 'gpt-5.4-mini', 'gpt-5.2                 [default]', '(3 models from the fallback list (model discovery is disabled))', ''].join('\n'),
    );
  }, 150_000);

  it('a configured record: the list with its aliases (--json)', async () => {
    const aliased = await cli({ agents: { defaults: { models: ALIASED } } }, ['--json']);
    expect(aliased.code, aliased.err).toBe(0);
    expect(JSON.parse(aliased.out)).toEqual({
      models: [
        { model: 'gpt-5.5', alias: 'gpt', isDefault: true },
        { model: 'gpt-5.2', alias: 'old', isDefault: false },
      ],
      source: 'static',
    });
  }, 150_000);
});
