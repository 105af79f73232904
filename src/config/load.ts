// Loads the configuration from a file, the environment and CLI flags (flags win), and
// reports every bad field with where it came from and what to write instead.
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { z } from 'zod';
import { configSecrets, redactText, redactValue, registerSecrets } from '../log/redact.js';
import { ConfigSchema, type SwitchboardConfig, type SwitchboardConfigInput } from './schema.js';
import { applyDeprecations, unusedPolicyWarning } from './deprecations.js';

export type ConfigSource = 'default' | 'file' | 'env' | 'flags';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid Switchboard configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadedConfig {
  config: SwitchboardConfig;
  warnings: string[];
  /** Which source set each leaf (dot path). */
  sources: Record<string, ConfigSource>;
}

type Json = Record<string, unknown>;

/** Environment fallbacks: variable → config path (and how to parse it). */
const ENV_VARS: Record<string, { path: string[]; parse?: (v: string) => unknown }> = {
  SWITCHBOARD_CODEX_BIN: { path: ['appServer', 'command'] },
  SWITCHBOARD_CODEX_ARGS: {
    path: ['appServer', 'args'],
    parse: (v) => (v.trim().startsWith('[') ? JSON.parse(v) : v.trim().split(/\s+/)),
  },
  SWITCHBOARD_MODE: { path: ['appServer', 'mode'] },
  SWITCHBOARD_APPROVAL_POLICY: { path: ['appServer', 'approvalPolicy'] },
  SWITCHBOARD_SANDBOX: { path: ['appServer', 'sandbox'] },
  SWITCHBOARD_APPROVALS_REVIEWER: { path: ['appServer', 'approvalsReviewer'] },
  SWITCHBOARD_APP_SERVER_URL: { path: ['appServer', 'url'] },
  SWITCHBOARD_APP_SERVER_TOKEN: { path: ['appServer', 'authToken'] },
  SWITCHBOARD_APP_SERVER_TOKEN_FILE: { path: ['appServer', 'authTokenFile'] },
  SWITCHBOARD_RUNTIME: { path: ['agents', 'defaults', 'embeddedHarness', 'runtime'] },
  SWITCHBOARD_FALLBACK: { path: ['agents', 'defaults', 'embeddedHarness', 'fallback'] },
  SWITCHBOARD_STORAGE: { path: ['storage', 'kind'] },
  SWITCHBOARD_STORAGE_URL: { path: ['storage', 'url'] },
  SWITCHBOARD_LOG_LEVEL: { path: ['log', 'level'] },
};

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function setPath(target: Json, path: string[], value: unknown): void {
  let cur = target;
  for (const key of path.slice(0, -1)) {
    if (!isObj(cur[key])) cur[key] = {};
    cur = cur[key] as Json;
  }
  cur[path[path.length - 1]!] = value;
}

/** Deep merge `over` into `base`, recording the source of every leaf it sets. */
function merge(base: Json, over: Json, source: ConfigSource, sources: Record<string, ConfigSource>, prefix: string[] = []): void {
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const path = [...prefix, k];
    if (isObj(v) && isObj(base[k])) merge(base[k] as Json, v, source, sources, path);
    else {
      base[k] = isObj(v) ? structuredClone(v) : v;
      markLeaves(v, path, source, sources);
    }
  }
}

function markLeaves(v: unknown, path: string[], source: ConfigSource, sources: Record<string, ConfigSource>): void {
  if (isObj(v)) for (const [k, x] of Object.entries(v)) markLeaves(x, [...path, k], source, sources);
  else sources[path.join('.')] = source;
}

function sourceOf(path: PropertyKey[], sources: Record<string, ConfigSource>, file: string | undefined): string {
  const key = path.map(String).join('.');
  for (let i = path.length; i > 0; i--) {
    const s = sources[path.slice(0, i).map(String).join('.')];
    if (s === 'env') {
      const v = Object.entries(ENV_VARS).find(([, spec]) => spec.path.join('.') === path.slice(0, i).map(String).join('.'));
      return v ? `env ${v[0]}` : 'env';
    }
    if (s === 'file') return file ? `file ${file}` : 'file';
    if (s === 'flags') return 'flag';
  }
  return key ? 'default' : 'config';
}

function describeIssue(issue: z.core.$ZodIssue, sources: Record<string, ConfigSource>, file: string | undefined): string {
  const where = issue.path.length ? issue.path.map(String).join('.') : '(root)';
  // An unknown key has no value path of its own in the issue; look its source up by name.
  const from = sourceOf(issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path, sources, file);
  let what: string;
  switch (issue.code) {
    case 'invalid_value':
      what = `write one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
      break;
    case 'unrecognized_keys':
      what = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}: remove or correct the spelling`;
      break;
    case 'invalid_type':
      what = `expected ${issue.expected}`;
      break;
    case 'too_small':
      what = `write a number ${issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}`;
      break;
    case 'too_big':
      what = `write a number ${issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}${/Ms$/.test(where) || where.includes('timeouts') ? ' (milliseconds; timers cap at 2^31-1, about 24.8 days)' : ''}`;
      break;
    case 'invalid_union':
      what =
        issue.path.at(-1) === 'models'
          ? 'write a list of model refs (["openai/gpt-5.5"]) or a record of them with aliases ({"openai/gpt-5.5": {"alias": "gpt"}})'
          : 'write "untrusted", "on-request", "never", or a { "granular": {...} } object';
      break;
    default:
      what = issue.message;
  }
  return `${where} (${from}): ${what}`;
}

export interface LoadOptions {
  /** Path of `switchboard.config.json`; default: that name in the working directory, if present; false: none. */
  file?: string | false;
  env?: NodeJS.ProcessEnv;
  flags?: SwitchboardConfigInput | Json;
}

export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const sources: Record<string, ConfigSource> = {};
  const warnings: string[] = [];
  const problems: string[] = [];
  const merged: Json = {};

  const file = opts.file === false ? undefined : (opts.file ?? (existsSync('switchboard.config.json') ? 'switchboard.config.json' : undefined));
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError([`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new ConfigError([`${file}: not valid JSON (${(err as Error).message})`]);
    }
    if (!isObj(parsed)) throw new ConfigError([`${file}: the top level must be a JSON object`]);
    merge(merged, parsed, 'file', sources);
  }

  const env = opts.env ?? process.env;
  const fromEnv: Json = {};
  for (const [name, spec] of Object.entries(ENV_VARS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    try {
      setPath(fromEnv, spec.path, spec.parse ? spec.parse(raw) : raw);
    } catch (err) {
      // The raw value is not quoted: it may hold a secret (SWITCHBOARD_CODEX_ARGS with a token).
      problems.push(`${spec.path.join('.')} (env ${name}): cannot parse the value: ${redactText((err as Error).message)}; write words or a JSON array of strings`);
    }
  }
  merge(merged, fromEnv, 'env', sources);
  if (opts.flags) merge(merged, opts.flags as Json, 'flags', sources);

  // serviceTier: an invalid (e.g. legacy) value is dropped with a warning, not fatal.
  const rawApp = merged.appServer as Json | undefined;
  if (rawApp && 'serviceTier' in rawApp && rawApp.serviceTier !== null && rawApp.serviceTier !== 'fast' && rawApp.serviceTier !== 'flex') {
    warnings.push(
      `appServer.serviceTier (${sourceOf(['appServer', 'serviceTier'], sources, file)}): ${JSON.stringify(rawApp.serviceTier)} is not "fast", "flex" or null; ignored`,
    );
    delete rawApp.serviceTier;
  }

  // A renamed object's source is that of its leaves; they keep it under the new name.
  const subtree = (path: string[]) => Object.keys(sources).find((k) => k === path.join('.') || k.startsWith(`${path.join('.')}.`))?.split('.') ?? path;
  const renamed = applyDeprecations(merged, (path) => sourceOf(subtree(path), sources, file));
  warnings.push(...renamed.warnings);
  problems.push(...renamed.problems);
  for (const k of Object.keys(sources)) if (k.startsWith('approvals.guardian.')) sources[`approvals.policy.${k.slice('approvals.guardian.'.length)}`] ??= sources[k]!;

  const result = ConfigSchema.safeParse(merged);
  if (!result.success) problems.push(...result.error.issues.map((i) => describeIssue(i, sources, file)));
  if (problems.length > 0) throw new ConfigError(problems);
  const config = result.data!;
  const unused = unusedPolicyWarning(config);
  if (unused) warnings.push(unused);
  // Token files are read now: a missing one is a configuration error, not a failed start.
  const readTokens = (holder: { authToken?: string | undefined; authTokenFile?: string | undefined }, at: string[]) => {
    if (holder.authTokenFile) holder.authToken = readSecretFile(holder.authTokenFile, `${at.join('.')}.authTokenFile (${sourceOf([...at, 'authTokenFile'], sources, file)})`);
  };
  const app = config.appServer;
  readTokens(app, ['appServer']);
  app.servers?.forEach((s, i) => readTokens(s, ['appServer', 'servers', String(i)]));
  config.agents.list.forEach((agent, i) => {
    if (!agent.appServer) return;
    readTokens(agent.appServer, ['agents', 'list', String(i), 'appServer']);
    agent.appServer.servers?.forEach((s, j) => readTokens(s, ['agents', 'list', String(i), 'appServer', 'servers', String(j)]));
  });
  // From here on, any text quoting one of these values (an error, a status string) is scrubbed.
  registerSecrets(configSecrets(app));
  for (const s of app.servers ?? []) registerSecrets(configSecrets(s));
  if (config.storage.url) registerSecrets(configSecrets({ url: config.storage.url }));
  for (const agent of config.agents.list) {
    if (!agent.appServer) continue;
    registerSecrets(configSecrets({ ...agent.appServer, env: agent.appServer.env ?? {} }));
    for (const s of agent.appServer.servers ?? []) registerSecrets(configSecrets(s));
  }
  return { config, warnings, sources };
}

/** A secret kept in a file (one value; surrounding whitespace dropped). */
export function readSecretFile(path: string, field: string): string {
  let text: string;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new ConfigError([`${field}: "${path}" is not a regular file: give the file that holds the token`]);
    if (st.size > 64 * 1024) throw new ConfigError([`${field}: "${path}" is ${st.size} bytes; a token file holds one token`]);
    text = readFileSync(path, 'utf8').trim();
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError([`${field}: cannot read "${path}" (${(err as NodeJS.ErrnoException).code ?? 'error'}): give the file that holds the token`]);
  }
  if (!text) throw new ConfigError([`${field}: "${path}" is empty`]);
  return text;
}

/** The configuration as it may be shown (status, logs): secrets redacted. */
export function redactedConfig(config: SwitchboardConfig): unknown {
  return redactValue(config);
}
