// Model refs as people write them (`openai/gpt-5.5`, legacy `codex/gpt-5.5`, bare `gpt-5.5`,
// a configured alias), in the config, in `/model` and `/models`, and in the one catalog
// every command reads.
import { describe, expect, it } from 'vitest';
import { aliasOf, bareModelName, isCodexModelRef, ModelListConfigSchema, modelListOf, resolveModelRef } from '../../../src/session/model-refs.js';
import { answerCatalogRequests, catalogOf } from '../../../src/session/models.js';
import { ModelCatalog } from '../../../src/supervisor/model-catalog.js';
import { loadConfig } from '../../../src/config/load.js';
import { stackSettingsFromConfig } from '../../../src/stack/settings.js';
import { AgentSessions } from '../../../src/supervisor/sessions.js';
import { memoryLogger } from '../../support/log.js';

const { log } = memoryLogger('silent');
const aliases = { gpt: 'gpt-5.5', Mini: 'gpt-5.4-mini' };

describe('model refs', () => {
  it('openai/ and codex/ prefixes name the bare Codex model; other providers are not Codex\'s', () => {
    expect(['openai/gpt-5.5', 'codex/gpt-5.5', 'OpenAI/gpt-5.5', ' gpt-5.5 '].map(bareModelName)).toEqual(['gpt-5.5', 'gpt-5.5', 'gpt-5.5', 'gpt-5.5']);
    expect(bareModelName('anthropic/claude-opus-4-6')).toBe('anthropic/claude-opus-4-6');
    expect(['openai/gpt-5.5', 'codex/gpt-5.5', 'gpt-5.5', 'anthropic/claude-opus-4-6'].map(isCodexModelRef)).toEqual([true, true, true, false]);
  });

  it('aliases resolve case-insensitively before refs; listings find the alias of a name', () => {
    expect(resolveModelRef('GPT', aliases)).toBe('gpt-5.5');
    expect(resolveModelRef('mini', aliases)).toBe('gpt-5.4-mini');
    expect(resolveModelRef('codex/gpt-5.2', aliases)).toBe('gpt-5.2');
    expect(aliasOf('GPT-5.5', aliases)).toBe('gpt');
    expect(aliasOf('gpt-5.2', aliases)).toBeUndefined();
  });

  it('a configured list is refs, or a record of refs with aliases (the gateway seed\'s shape)', () => {
    expect(modelListOf(['openai/gpt-5.5', 'gpt-5.2'])).toEqual({ refs: ['openai/gpt-5.5', 'gpt-5.2'], aliases: {} });
    expect(modelListOf({ 'openai/gpt-5.5': { alias: 'gpt' }, 'anthropic/claude-opus-4-6': { alias: 'opus' }, 'openai/gpt-5.2': {} })).toEqual({
      refs: ['openai/gpt-5.5', 'anthropic/claude-opus-4-6', 'openai/gpt-5.2'],
      aliases: { gpt: 'gpt-5.5', opus: 'anthropic/claude-opus-4-6' },
    });
    expect(modelListOf(undefined)).toBeUndefined();
  });

  it('refuses an alias given twice, one that names another listed model, and one that is not a short name', () => {
    const issues = (v: unknown) => (ModelListConfigSchema.safeParse(v).error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues({ 'openai/gpt-5.5': { alias: 'gpt' }, 'openai/gpt-5.2': { alias: 'GPT' } })).toEqual(['openai/gpt-5.2.alias: alias "GPT" is already given to "openai/gpt-5.5"']);
    expect(issues({ 'openai/gpt-5.5': { alias: 'gpt-5.2' }, 'openai/gpt-5.2': {} })).toEqual(['openai/gpt-5.5.alias: alias "gpt-5.2" is the name of another listed model']);
    expect(ModelListConfigSchema.safeParse({ 'openai/gpt-5.5': { alias: 'my gpt' } }).success).toBe(false);
    expect(ModelListConfigSchema.safeParse({ 'openai/gpt-5.5': { alias: 'gpt', colour: 'red' } }).success).toBe(false);
  });
});

describe('/model and /models', () => {
  const catalog = catalogOf(['gpt-5.5', 'gpt-5.4-mini', 'gpt-5.2'], 'model/list');
  const model = (name: string) => answerCatalogRequests(catalog, undefined, [{ kind: 'model', name }], false, aliases);

  it.each(['openai/gpt-5.5', 'codex/gpt-5.5', 'gpt-5.5', 'GPT-5.5', 'gpt'])('/model %s sets gpt-5.5', (name) => {
    expect(model(name)).toMatchObject({ model: 'gpt-5.5', changed: true });
  });

  it('an unknown name is refused, listing what there is with the aliases', () => {
    expect(model('openai/gpt-9')).toMatchObject({
      changed: false,
      texts: [{ level: 'warning', text: 'Unknown model "openai/gpt-9". Available: gpt-5.5 (alias gpt), gpt-5.4-mini (alias Mini), gpt-5.2.' }],
    });
  });

  it('/models shows the aliases next to the names', () => {
    const r = answerCatalogRequests(catalog, 'gpt-5.5', [{ kind: 'models' }], false, aliases);
    expect(r.texts[0]!.text).toBe('Models:\n- gpt-5.5 (alias gpt) [current]\n- gpt-5.4-mini (alias Mini)\n- gpt-5.2');
  });
});

describe('the config\'s models reach the agent and its sessions', () => {
  const config = (models: unknown) => loadConfig({ env: {}, flags: { agents: { defaults: { model: 'openai/gpt-5.5', models } } } }).config;

  it('a record: refs and aliases; Codex\'s sessions get its bare names only', () => {
    const cfg = config({ 'openai/gpt-5.5': { alias: 'gpt' }, 'codex/gpt-5.2': {}, 'anthropic/claude-opus-4-6': { alias: 'opus' } });
    const agent = new AgentSessions({ config: cfg, baseDir: '/w', harnesses: new Map(), store: () => ({}) as never, write: () => {}, log }).agentFor(undefined);
    expect(agent).toMatchObject({ model: 'openai/gpt-5.5', models: ['openai/gpt-5.5', 'codex/gpt-5.2', 'anthropic/claude-opus-4-6'], modelAliases: { gpt: 'gpt-5.5', opus: 'anthropic/claude-opus-4-6' } });
    const session = stackSettingsFromConfig(cfg, '0.0.0').sessions.settings(agent);
    expect(session).toMatchObject({ model: 'gpt-5.5', models: ['gpt-5.5', 'gpt-5.2'], modelAliases: { gpt: 'gpt-5.5' } });
    // The default model may be given by its alias too.
    expect(stackSettingsFromConfig(cfg, '0.0.0').sessions.settings({ ...agent, model: 'GPT' }).model).toBe('gpt-5.5');
  });

  it('a list of none of Codex\'s models means discovery; a bad value says what to write', () => {
    const cfg = config(['anthropic/claude-opus-4-6']);
    const agent = { id: 'a', model: undefined, models: ['anthropic/claude-opus-4-6'], cwd: '/w', developerInstructions: undefined, approvers: [] };
    expect(stackSettingsFromConfig(cfg, '0.0.0').sessions.settings(agent).models).toBeUndefined();
    expect(() => config('gpt-5.5')).toThrow(/agents.defaults.models \(flag\): write a list of model refs \(\["openai\/gpt-5.5"\]\) or a record of them with aliases/);
  });
});

describe('ModelCatalog: the one catalog of every command', () => {
  const failing = { request: async () => Promise.reject(new Error('must not be asked')) } as never;

  it('discovery off: the fallback list, without asking Codex, and it says why', async () => {
    const cat = new ModelCatalog({ conn: failing, agent: { model: 'openai/gpt-5.5', modelAliases: { gpt: 'gpt-5.5' } }, discovery: { enabled: false, timeoutMs: 100 }, log });
    expect(await cat.list()).toEqual({
      models: [
        { model: 'gpt-5.5', alias: 'gpt', isDefault: true },
        { model: 'gpt-5.4-mini', isDefault: false },
        { model: 'gpt-5.2', isDefault: false },
      ],
      source: 'fallback',
      note: 'model discovery is disabled',
    });
    expect((await cat.find('gpt'))?.model).toBe('gpt-5.5');
    expect((await cat.find('codex/gpt-5.2'))?.model).toBe('gpt-5.2');
  });

  it('a configured list is fixed (Codex refs only, bare); describe says so', async () => {
    const cat = new ModelCatalog({
      conn: failing,
      agent: { model: 'openai/gpt-5.2', models: ['openai/gpt-5.5', 'codex/gpt-5.2', 'anthropic/claude-opus-4-6'], modelAliases: { gpt: 'gpt-5.5' } },
      discovery: { enabled: true, timeoutMs: 100 },
      log,
    });
    expect(await cat.describe('gpt-5.5', { refresh: true })).toBe("Models:\n- gpt-5.5 (alias gpt) [current]\n- gpt-5.2 [default]\n(this agent's configured list)");
  });

  it('refresh asks Codex again; otherwise the discovered list is reused', async () => {
    let calls = 0;
    const conn = {
      request: async () => {
        calls++;
        return { data: [{ id: 'gpt-5.5', model: 'gpt-5.5', displayName: 'GPT-5.5', isDefault: calls > 1 }], nextCursor: null };
      },
    } as never;
    const cat = new ModelCatalog({ conn, agent: {}, discovery: { enabled: true, timeoutMs: 1000 }, log });
    expect((await cat.list()).models).toEqual([{ model: 'gpt-5.5', displayName: 'GPT-5.5', isDefault: false }]);
    await cat.list();
    expect(calls).toBe(1);
    expect((await cat.list({ refresh: true })).models[0]?.isDefault).toBe(true);
    expect(calls).toBe(2);
  });
});
