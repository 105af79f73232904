// `--backend`, `--model` and `--thread-storage` of `join` as configuration. `--model` may be
// repeated (the first is the default); `--backend llm|codex` adds that backend's default models.
// The llm backend is enabled by `--backend llm`, by an `llm/` ref, or by a list that mixes a
// plain name with a `codex/` or `openai/` ref (`--model gpt-5.5 --model codex/gpt-5.5`): plain
// names are then the llm backend's, and the runtime is `auto` so each model picks its backend.
import { UsageProblem } from './options.js';

export const BACKENDS = ['llm', 'codex'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** The models each `--backend` adds. */
export const BACKEND_MODELS: Record<BackendName, readonly string[]> = {
  codex: ['codex/gpt-5.5'],
  llm: ['gpt-5.5'],
};

export const THREAD_STORAGE = ['dataset', 'codex', 'none'] as const;

export interface BackendFlags {
  backend?: string[] | undefined;
  model?: string[] | undefined;
  threadStorage?: string | undefined;
}

export interface BackendSettings {
  /** The agent's models, the default first (empty: the configured or Codex default). */
  models: string[];
  llmEnabled: boolean;
  storage: (typeof THREAD_STORAGE)[number] | undefined;
}

const isCodexRef = (ref: string) => /^(codex|openai)\//i.test(ref);
const isLlmRef = (ref: string) => /^llm\//i.test(ref);

export function backendSettings(o: BackendFlags): BackendSettings {
  const backends = (o.backend ?? []).map((b) => b.trim().toLowerCase());
  for (const b of backends) {
    if (!(BACKENDS as readonly string[]).includes(b)) throw new UsageProblem(`--backend ${JSON.stringify(b.slice(0, 40))}: write llm or codex`);
  }
  if (o.threadStorage !== undefined && !(THREAD_STORAGE as readonly string[]).includes(o.threadStorage)) {
    throw new UsageProblem(`--thread-storage ${JSON.stringify(o.threadStorage.slice(0, 40))}: write dataset, codex or none`);
  }
  const models: string[] = [];
  for (const m of [...(o.model ?? []), ...backends.flatMap((b) => BACKEND_MODELS[b as BackendName])]) {
    const ref = m.trim();
    if (ref && !models.some((x) => x.toLowerCase() === ref.toLowerCase())) models.push(ref);
  }
  const plain = models.some((m) => !isCodexRef(m) && !isLlmRef(m));
  const llmEnabled = backends.includes('llm') || models.some(isLlmRef) || (plain && models.some(isCodexRef));
  return { models, llmEnabled, storage: o.threadStorage as BackendSettings['storage'] };
}

/** The configuration these flags stand for (merged over the config file's by `loadConfig`). */
export function backendConfig(s: BackendSettings, agentId: string): { agent: Record<string, unknown>; top: Record<string, unknown> } {
  const [first] = s.models;
  return {
    agent: {
      id: agentId,
      default: true,
      ...(first ? { model: first } : {}),
      ...(s.models.length > 1 ? { models: s.models } : {}),
      ...(s.llmEnabled ? { embeddedHarness: { runtime: 'auto' } } : {}),
    },
    top: {
      ...(s.llmEnabled ? { llm: { enabled: true } } : {}),
      ...(s.storage ? { storage: { kind: s.storage } } : {}),
    },
  };
}
