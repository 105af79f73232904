// Which backend a model ref names, what `--backend`/`--model`/`--thread-storage` configure, and
// the checks that keep a configuration from meaning nothing (unknown harness ids, codex storage
// with a backend that cannot use it).
import { describe, expect, it } from 'vitest';
import { backendOf, llmModelName } from '../../../src/session/model-refs.js';
import { LlmModels } from '../../../src/llm/models.js';
import { backendConfig, backendSettings } from '../../../src/cli/backends.js';
import { UsageProblem } from '../../../src/cli/options.js';
import { ConfigError, loadConfig } from '../../../src/config/load.js';
import { checkHarnessIds } from '../../../src/supervisor/startup.js';
import { resolveLlmEndpoint, LLM_CONFIG_DEFAULT } from '../../../src/llm/settings.js';
import { llmWanted } from '../../../src/llm/harness.js';

describe('model refs: the backend rule', () => {
  it('codex/* and openai/* are Codex, llm/* is the llm backend, whatever is enabled', () => {
    for (const enabled of [false, true]) {
      expect(backendOf('codex/gpt-5.5', enabled)).toBe('codex');
      expect(backendOf('openai/gpt-5.5', enabled)).toBe('codex');
      expect(backendOf('llm/openai/gpt-5.2', enabled)).toBe('llm');
    }
  });

  it('a plain name is the llm backend once it is enabled, else Codex; another provider only the llm backend', () => {
    expect(backendOf('gpt-5.5', false)).toBe('codex');
    expect(backendOf('gpt-5.5', true)).toBe('llm');
    expect(backendOf('anthropic/claude', false)).toBeUndefined();
    expect(backendOf('anthropic/claude', true)).toBe('llm');
  });

  it('the name the endpoint gets drops llm/ and openai/', () => {
    expect(llmModelName('llm/openai/gpt-5.2')).toBe('gpt-5.2');
    expect(llmModelName('llm/gpt-5.2')).toBe('gpt-5.2');
    expect(llmModelName('gpt-5.5')).toBe('gpt-5.5');
    expect(llmModelName('llm/anthropic/claude')).toBe('anthropic/claude');
  });
});

describe('llm models of an agent', () => {
  it('the llm refs of a mixed list; found by ref, by model name and by alias', () => {
    const m = new LlmModels({ model: 'codex/gpt-5.5', models: ['codex/gpt-5.5', 'gpt-5.5', 'llm/openai/gpt-5.2'], modelAliases: { fast: 'gpt-5.2' } }, LLM_CONFIG_DEFAULT);
    expect(m.names()).toEqual(['gpt-5.5', 'llm/openai/gpt-5.2']);
    expect(m.defaultModel).toBe('gpt-5.5');
    expect(m.find('GPT-5.5')).toBe('gpt-5.5');
    expect(m.find('gpt-5.2')).toBe('llm/openai/gpt-5.2');
    expect(m.find('fast')).toBe('llm/openai/gpt-5.2');
    expect(m.find('gpt-4')).toBeUndefined();
    expect(m.find('codex/gpt-5.5')).toBeUndefined();
    expect(m.describe('gpt-5.5')).toBe('Models (llm backend):\n- gpt-5.5 [current] [default]\n- llm/openai/gpt-5.2');
  });

  it('without a list: llm.model, and any llm model name (no whitespace or controls)', () => {
    const m = new LlmModels({ model: undefined, models: undefined }, { model: 'gpt-5.4' });
    expect(m.names()).toEqual(['gpt-5.4']);
    expect(m.find('my-local-model')).toBe('my-local-model');
    expect(m.find('codex/gpt-5.5')).toBeUndefined();
    expect(m.find('bad\u0007name')).toBeUndefined();
  });
});

describe('--backend, --model, --thread-storage', () => {
  it('the seed\'s mixed list enables the llm backend and routes by model (runtime auto)', () => {
    const s = backendSettings({ model: ['gpt-5.5', 'codex/gpt-5.5'] });
    expect(s).toEqual({ models: ['gpt-5.5', 'codex/gpt-5.5'], llmEnabled: true, storage: undefined });
    expect(backendConfig(s, 'bot')).toEqual({
      agent: { id: 'bot', default: true, model: 'gpt-5.5', models: ['gpt-5.5', 'codex/gpt-5.5'], embeddedHarness: { runtime: 'auto' } },
      top: { llm: { enabled: true } },
    });
  });

  it('--backend adds its default models after the --model ones; llm enables the llm backend', () => {
    expect(backendSettings({ backend: ['codex'] })).toEqual({ models: ['codex/gpt-5.5'], llmEnabled: false, storage: undefined });
    expect(backendSettings({ backend: ['llm'] })).toMatchObject({ models: ['gpt-5.5'], llmEnabled: true });
    expect(backendSettings({ backend: ['llm', 'codex'], model: ['codex/gpt-5.4'] }).models).toEqual(['codex/gpt-5.4', 'gpt-5.5', 'codex/gpt-5.5']);
  });

  it('a plain --model alone keeps its meaning (Codex); llm/ refs enable the llm backend', () => {
    expect(backendSettings({ model: ['gpt-5.5'] }).llmEnabled).toBe(false);
    expect(backendSettings({ model: ['llm/gpt-5.5'] }).llmEnabled).toBe(true);
  });

  it('bad values are usage problems naming the flag', () => {
    expect(() => backendSettings({ backend: ['pi'] })).toThrow(UsageProblem);
    expect(() => backendSettings({ backend: ['pi'] })).toThrow('--backend "pi": write llm or codex');
    expect(() => backendSettings({ threadStorage: 'sqlite' })).toThrow('--thread-storage "sqlite": write dataset, codex or none');
    expect(backendConfig(backendSettings({ threadStorage: 'none' }), 'bot').top).toEqual({ storage: { kind: 'none' } });
  });
});

describe('configuration checks', () => {
  const problems = (flags: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): string => {
    try {
      loadConfig({ env, flags });
      return '';
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
  };

  it('codex thread storage is refused for a mixed-backend agent and with fallback llm', () => {
    const { top, agent } = backendConfig({ ...backendSettings({ model: ['gpt-5.5', 'codex/gpt-5.5'] }), storage: 'codex' }, 'bot');
    expect(problems({ ...top, agents: { list: [agent] } })).toMatch(/"codex" thread storage only supports the codex harness, but runtime "auto" is configured/);
    expect(problems({ storage: { kind: 'codex' }, llm: { enabled: true } })).toMatch(/"codex" thread storage only supports Codex backends, but llm.enabled is true: use "dataset"/);
    expect(problems({ storage: { kind: 'codex' } }, { SWITCHBOARD_FALLBACK: 'llm' })).toMatch(/but fallback "llm" is configured: use "dataset"/);
    expect(problems({ storage: { kind: 'codex' } })).toBe('');
  });

  it('llm settings are checked; the key is looked up by name, never configured', () => {
    expect(problems({ llm: { baseUrl: 'ftp://x' } })).toMatch(/llm.baseUrl/);
    expect(problems({ llm: { apiKey: 'sk-1' } })).toMatch(/llm/);
    expect(problems({ llm: { apiKeyEnv: 'not a name' } })).toMatch(/llm.apiKeyEnv/);
    const cfg = loadConfig({ env: {}, flags: { llm: { apiKeyEnv: 'MY_KEY' } } }).config.llm;
    expect(resolveLlmEndpoint(cfg, { MY_KEY: 'k', OPENAI_BASE_URL: 'http://proxy/v1' })).toEqual({ baseUrl: 'http://proxy/v1', apiKey: 'k', apiKeyEnv: 'MY_KEY', explicitBaseUrl: true });
    expect(resolveLlmEndpoint(cfg, {})).toEqual({ baseUrl: 'https://api.openai.com/v1', apiKey: undefined, apiKeyEnv: 'MY_KEY', explicitBaseUrl: false });
  });

  it('every runtime and fallback names a registered harness', () => {
    const cfg = (env: NodeJS.ProcessEnv) => loadConfig({ env, flags: { agents: { list: [{ id: 'a', embeddedHarness: { runtime: 'auto', fallback: 'llm' } }] } } }).config;
    expect(() => checkHarnessIds(cfg({}), ['codex', 'llm'])).not.toThrow();
    expect(() => checkHarnessIds(cfg({ SWITCHBOARD_FALLBACK: 'pi' }), ['codex', 'llm'])).toThrow(
      'agents.defaults.embeddedHarness.fallback "pi" is not a harness: write none, codex or llm (SWITCHBOARD_FALLBACK sets the default)',
    );
    expect(() => checkHarnessIds(cfg({ SWITCHBOARD_FALLBACK: 'pi' }), ['codex', 'llm', 'pi'])).not.toThrow();
    expect(() => checkHarnessIds(cfg({}), ['codex'])).toThrow('agents.list[0].embeddedHarness.fallback "llm" is not a harness');
  });

  it('the llm backend is wanted when enabled or named by a runtime or fallback', () => {
    const cfg = (flags: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => loadConfig({ env, flags }).config;
    expect(llmWanted(cfg({}))).toBe(false);
    expect(llmWanted(cfg({ llm: { enabled: true } }))).toBe(true);
    expect(llmWanted(cfg({}, { SWITCHBOARD_FALLBACK: 'llm' }))).toBe(true);
    expect(llmWanted(cfg({ agents: { list: [{ id: 'a', embeddedHarness: { runtime: 'llm' } }] } }))).toBe(true);
  });
});
