// Secrets never reach a log line, an error message or status(): keys that name a secret
// are censored, and strings are scrubbed of bearer tokens and API-key shapes.

export const REDACTED = '[REDACTED]';

const SECRET_KEY = /(^|[_-])(token|authtoken|auth_token|authorization|secret|password|api[_-]?key|apikey|cookie)s?$|^authToken$|^headers$/i;

const PATTERNS: Array<[RegExp, string]> = [
  [/(bearer\s+)[A-Za-z0-9._~+/=-]+/gi, `$1${REDACTED}`],
  [/(authorization["']?\s*[:=]\s*["']?)[^"',\s}]+/gi, `$1${REDACTED}`],
  [/\bsk-[A-Za-z0-9_-]{8,}/g, REDACTED],
  [/((?:token|api[_-]?key|secret|password)["']?\s*[:=]\s*["']?)[^"',\s}&]+/gi, `$1${REDACTED}`],
];

export function redactText(text: string): string {
  let out = text;
  for (const [re, rep] of PATTERNS) out = out.replace(re, rep);
  return out;
}

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
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
    out[k] = isSecretKey(k) && v !== undefined && v !== null && !(typeof v === 'object' && Object.keys(v).length === 0)
      ? REDACTED
      : redactValue(v, depth + 1, seen);
  }
  return out;
}

/** A short, redacted preview of an untrusted line for logs. */
export function preview(text: string, max = 200): string {
  const cut = text.length > max ? `${text.slice(0, max)}… (${text.length} bytes)` : text;
  return redactText(cut);
}
