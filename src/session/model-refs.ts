// Model refs as people write them: `openai/gpt-5.5` (canonical), the legacy `codex/gpt-5.5`
// and the bare Codex name `gpt-5.5` all mean the model Codex calls `gpt-5.5`; a configured
// list may give aliases (`models: {"openai/gpt-5.5": {alias: "gpt"}}`, so `/model gpt` works).
// With the llm backend enabled, a bare name is the llm backend's instead (`backendOf` below).
import { z } from 'zod';

const REF_MAX = 200;
const ALIAS = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const ref = z.string().min(1).max(REF_MAX);
const ModelEntrySchema = z.strictObject({
  /** A short name for `/model` (letters, digits, `.`, `_`, `-`; at most 64). */
  alias: z.string().regex(ALIAS, 'write letters, digits, ".", "_" or "-" (at most 64), e.g. "gpt"').optional(),
});

/** `agents.*.models`: a list of refs, or a record of refs with aliases. */
export const ModelListConfigSchema = z.union([z.array(ref), z.record(ref, ModelEntrySchema)]).superRefine((v, ctx) => {
  if (Array.isArray(v)) return;
  const seen = new Map<string, string>();
  const names = new Set(Object.keys(v).map((r) => bareModelName(r).toLowerCase()));
  for (const [r, entry] of Object.entries(v)) {
    if (!entry.alias) continue;
    const key = entry.alias.toLowerCase();
    const other = seen.get(key);
    if (other) ctx.addIssue({ code: 'custom', path: [r, 'alias'], message: `alias "${entry.alias}" is already given to "${other}"` });
    else if (names.has(key) && bareModelName(r).toLowerCase() !== key) ctx.addIssue({ code: 'custom', path: [r, 'alias'], message: `alias "${entry.alias}" is the name of another listed model` });
    seen.set(key, r);
  }
});
export type ModelListConfig = z.output<typeof ModelListConfigSchema>;

/** `openai/gpt-5.5` and legacy `codex/gpt-5.5` → `gpt-5.5`; a bare name or another provider's ref is kept. */
export function bareModelName(ref: string): string {
  const m = /^(openai|codex)\/(.+)$/i.exec(ref.trim());
  return m ? m[2]! : ref.trim();
}

/** A ref Codex can serve: OpenAI-family or bare (`anthropic/…` belongs to another harness). */
export function isCodexModelRef(ref: string): boolean {
  return !bareModelName(ref).includes('/');
}

/** Alias (as written) → the bare model name it stands for. */
export type ModelAliases = Record<string, string>;

export interface ModelList {
  /** The refs as configured, in order. */
  refs: string[];
  aliases: ModelAliases;
}

/** A configured list (either form) as refs plus aliases; undefined when none is configured. */
export function modelListOf(v: ModelListConfig | undefined): ModelList | undefined {
  if (v === undefined) return undefined;
  if (Array.isArray(v)) return { refs: [...v], aliases: {} };
  const aliases: ModelAliases = {};
  for (const [r, entry] of Object.entries(v)) if (entry.alias) aliases[entry.alias] = bareModelName(r);
  return { refs: Object.keys(v), aliases };
}

/** What a person typed (`gpt`, `openai/gpt-5.5`, `codex/gpt-5.5`, `gpt-5.5`) as a bare model name. */
export function resolveModelRef(input: string, aliases: ModelAliases = {}): string {
  const typed = input.trim();
  const lower = typed.toLowerCase();
  for (const [alias, name] of Object.entries(aliases)) if (alias.toLowerCase() === lower) return name;
  return bareModelName(typed);
}

/** The alias of a bare model name, if one is configured (for listings). */
export function aliasOf(name: string, aliases: ModelAliases = {}): string | undefined {
  const lower = name.toLowerCase();
  return Object.entries(aliases).find(([, n]) => n.toLowerCase() === lower)?.[0];
}

/** The two built-in backends a model ref can name. */
export type Backend = 'codex' | 'llm';

/**
 * Which backend a ref names. `llm/…` is always the llm backend; `codex/…` and `openai/…` are
 * always Codex. A bare name (`gpt-5.5`), or another provider's ref (`anthropic/…`), goes to the
 * llm backend when it is enabled (`llm.enabled`, set by `--backend llm` or a mixed `--model`
 * list), else a bare name is Codex's and another provider's ref is no built-in backend's.
 */
export function backendOf(ref: string, llmEnabled: boolean): Backend | undefined {
  const r = ref.trim();
  if (/^llm\//i.test(r)) return 'llm';
  if (/^(openai|codex)\//i.test(r)) return 'codex';
  if (llmEnabled) return 'llm';
  return r.includes('/') ? undefined : 'codex';
}

/** The name the llm backend sends as `model`: `llm/openai/gpt-5.2` and `llm/gpt-5.2` → `gpt-5.2`; another provider's ref is kept. */
export function llmModelName(ref: string): string {
  return ref.trim().replace(/^llm\//i, '').replace(/^openai\//i, '');
}
