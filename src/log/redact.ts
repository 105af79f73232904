// Secrets never reach a log line, an error message, a trace or status(). Three layers:
// - keys: a value under a key that names a secret is censored whole; under `env` every value
//   (a variable's name says nothing about whether its value is secret: AWS_SECRET_ACCESS_KEY,
//   GITHUB_PAT, DATABASE_URL…); under `args` every argument but the known-safe defaults;
// - shapes: strings are scrubbed of bearer/basic credentials, whole Authorization values, URL
//   userinfo (`ws://user:pass@host`) and API-key shapes;
// - literals: the secret values the configuration holds are registered when it is loaded, and
//   any text that quotes one (an error naming the command line, a status string) is scrubbed.

export const REDACTED = '[REDACTED]';

const SECRET_KEY = /(^|[_-])(token|authtoken|auth_token|authorization|secret|password|passwd|api[_-]?key|apikey|cookie|credentials?|private[_-]?key)s?$|^authToken$|^headers$/i;

/**
 * App-server arguments shown as they are: the default command line. Every other argument is
 * redacted — an argument's meaning depends on the binary (`--token X`, `-c key=sk-…`,
 * `--ws-token=…`), so no pattern can tell a secret from a setting; this keeps the usual
 * command readable and fails closed on everything else.
 */
const SAFE_ARGS: ReadonlySet<string> = new Set(['app-server', '--listen', 'stdio://']);

const PATTERNS: Array<[RegExp, string]> = [
  // A whole Authorization value, scheme and credentials (`Authorization: Basic xyz`).
  [/(authorization["']?\s*[:=]\s*["']?)(?:[A-Za-z][\w-]*\s+)?[^"',\s}]+/gi, `$1${REDACTED}`],
  [/(\bbearer\s+)[A-Za-z0-9._~+/=-]{3,}/gi, `$1${REDACTED}`],
  // Capitalised as in a header, so prose ("basic usage") is left alone.
  [/(\b(?:Basic|Digest)\s+)[A-Za-z0-9._~+/=-]{3,}/g, `$1${REDACTED}`],
  // URL userinfo: scheme://user:pass@host and scheme://token@host.
  [/(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@"'<>]+@/gi, `$1${REDACTED}@`],
  [/\bsk-[A-Za-z0-9_-]{8,}/g, REDACTED],
  [/\bgh[pousr]_[A-Za-z0-9]{16,}/g, REDACTED],
  [/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, REDACTED],
  [/((?:token|api[_-]?key|secret|password)["']?\s*[:=]\s*["']?)[^"',\s}&]+/gi, `$1${REDACTED}`],
];

// ----- known secret values (registered from the loaded configuration)

/** Shorter values are not registered: they would blank out ordinary words. */
const MIN_LITERAL = 6;
const MAX_LITERALS = 256;
const literals = new Set<string>();

/** Remember secret values so any text that quotes them is scrubbed. */
export function registerSecrets(values: Iterable<string | undefined>): void {
  for (const v of values) {
    if (typeof v !== 'string') continue;
    const s = v.trim();
    if (s.length < MIN_LITERAL || s === REDACTED || literals.has(s)) continue;
    if (literals.size >= MAX_LITERALS) literals.delete(literals.values().next().value!);
    literals.add(s);
  }
}

/** For tests: forget every registered value. */
export function clearRegisteredSecrets(): void {
  literals.clear();
}

export function redactText(text: string): string {
  let out = text;
  // Longest first, so a secret that contains another is removed whole.
  if (literals.size) for (const s of [...literals].sort((a, b) => b.length - a.length)) if (out.includes(s)) out = out.split(s).join(REDACTED);
  for (const [re, rep] of PATTERNS) out = out.replace(re, rep);
  return out;
}

function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

const filled = (v: unknown): boolean => v !== undefined && v !== null && !(typeof v === 'object' && Object.keys(v as object).length === 0);

/** Every value of an environment map redacted; the names stay (they help debugging). */
function redactEnv(env: unknown): unknown {
  if (typeof env !== 'object' || env === null || Array.isArray(env)) return filled(env) ? REDACTED : env;
  return Object.fromEntries(Object.keys(env).map((k) => [k, REDACTED]));
}

/** Arguments with everything but the known-safe defaults redacted. */
function redactArgs(args: unknown): unknown {
  if (!Array.isArray(args)) return filled(args) ? REDACTED : args;
  return args.map((a) => (typeof a === 'string' && SAFE_ARGS.has(a) ? a : REDACTED));
}

/** Deep copy with secret keys censored and strings scrubbed. Cycles and depth are bounded. */
export function redactValue(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactText(value);
  if (typeof value !== 'object' || value === null) return value;
  if (depth > 8 || seen.has(value)) return '[…]';
  seen.add(value);
  if (value instanceof Error) {
    return { name: value.name, message: redactText(value.message), stack: value.stack ? redactText(value.stack) : undefined };
  }
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'env') out[k] = redactEnv(v);
    else if (k === 'args') out[k] = redactArgs(v);
    else out[k] = isSecretKey(k) && filled(v) ? REDACTED : redactValue(v, depth + 1, seen);
  }
  return out;
}

/** A short, redacted preview of an untrusted line for logs. */
export function preview(text: string, max = 200): string {
  const cut = text.length > max ? `${text.slice(0, max)}… (${text.length} bytes)` : text;
  return redactText(cut);
}

/** The secret values of an app-server configuration, for `registerSecrets`. */
export function configSecrets(app: { env?: Record<string, string>; args?: string[]; authToken?: string; headers?: Record<string, string>; url?: string }): string[] {
  const out: string[] = [];
  // Absolute paths (CODEX_HOME=/srv/codex) are not credentials, and quoting them as secrets
  // would blank every path under them in every log line; their values stay redacted in
  // structured output (status, logs) through the `env` key like every other value.
  out.push(...Object.values(app.env ?? {}).filter((v) => !/^\/[^:@\s]*$/.test(v)));
  for (const a of app.args ?? []) {
    if (SAFE_ARGS.has(a)) continue;
    // A flag name is not a secret; the value after `=` may be (`--token=x`, `-c key="x"`).
    const eq = a.indexOf('=');
    if (!a.startsWith('-')) out.push(a);
    if (eq > 0) out.push(a.slice(eq + 1), a.slice(eq + 1).replace(/^["']|["']$/g, ''));
  }
  if (app.authToken) out.push(app.authToken);
  for (const v of Object.values(app.headers ?? {})) {
    out.push(v);
    const parts = v.split(/\s+/);
    if (parts.length > 1) out.push(parts.slice(1).join(' '));
  }
  const userinfo = app.url ? /^[a-z][a-z0-9+.-]*:\/\/([^/@\s]+)@/i.exec(app.url)?.[1] : undefined;
  if (userinfo) out.push(userinfo, ...userinfo.split(':').map((p) => decodeURIComponent(p)));
  return out;
}
