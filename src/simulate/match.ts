// Partial matching of expectations against actual values.
//
// - An expected object matches when every key it names matches (other keys are ignored).
// - An expected array matches an array of the same length, element by element.
// - Primitives match by equality (`null` only matches `null`).
// - Operators (an object whose only key starts with `$`):
//     {"$regex": "pattern"}  a string matching the pattern
//     {"$exists": true}      any value but undefined; `false`: the key is absent/undefined
//     {"$includes": x}       an array with an element matching x, or a string containing x
//     {"$not": x}            anything that does not match x

export interface Mismatch {
  /** Where: `params.turn.status`, `[2].kind`. */
  path: string;
  expected: unknown;
  actual: unknown;
  why: string;
}

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function operator(expected: Record<string, unknown>): [string, unknown] | undefined {
  const keys = Object.keys(expected);
  if (keys.length === 1 && keys[0]!.startsWith('$')) return [keys[0]!, expected[keys[0]!]];
  return undefined;
}

const join = (path: string, key: string | number): string =>
  typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;

/** The first mismatch between `actual` and the partial `expected`, or undefined when it matches. */
export function mismatch(actual: unknown, expected: unknown, path = ''): Mismatch | undefined {
  const fail = (why: string): Mismatch => ({ path: path || '(value)', expected, actual, why });
  if (isPlain(expected)) {
    const op = operator(expected);
    if (op) {
      const [name, arg] = op;
      switch (name) {
        case '$regex':
          return typeof actual === 'string' && new RegExp(String(arg)).test(actual) ? undefined : fail(`does not match /${String(arg)}/`);
        case '$exists':
          return (actual !== undefined) === Boolean(arg) ? undefined : fail(arg ? 'is missing' : 'should be absent');
        case '$includes':
          if (typeof actual === 'string' && typeof arg === 'string') return actual.includes(arg) ? undefined : fail(`does not contain ${JSON.stringify(arg)}`);
          if (Array.isArray(actual)) return actual.some((a) => !mismatch(a, arg)) ? undefined : fail('has no matching element');
          return fail('is neither an array nor a string');
        case '$not':
          return mismatch(actual, arg) ? undefined : fail(`should not match ${JSON.stringify(arg)}`);
        default:
          return fail(`unknown operator ${name}`);
      }
    }
    if (!isPlain(actual)) return fail(`expected an object, got ${describe(actual)}`);
    for (const [k, v] of Object.entries(expected)) {
      const m = mismatch(actual[k], v, join(path, k));
      if (m) return m;
    }
    return undefined;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return fail(`expected an array, got ${describe(actual)}`);
    if (actual.length !== expected.length) return fail(`expected ${expected.length} element(s), got ${actual.length}`);
    for (let i = 0; i < expected.length; i++) {
      const m = mismatch(actual[i], expected[i], join(path, i));
      if (m) return m;
    }
    return undefined;
  }
  return Object.is(actual, expected) ? undefined : fail(`expected ${JSON.stringify(expected)}, got ${describe(actual)}`);
}

export const matches = (actual: unknown, expected: unknown): boolean => mismatch(actual, expected) === undefined;

function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  const s = JSON.stringify(v);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/**
 * Ordered subsequence matching: each expected item must match an actual item after the
 * previous match. Returns the indexes matched, or where it stopped.
 */
export function matchSubsequence(
  actual: readonly unknown[],
  expected: readonly unknown[],
): { ok: true; indexes: number[] } | { ok: false; indexes: number[]; failedAt: number; from: number } {
  const indexes: number[] = [];
  let from = 0;
  for (let e = 0; e < expected.length; e++) {
    let found = -1;
    for (let i = from; i < actual.length; i++) {
      if (!mismatch(actual[i], expected[e])) {
        found = i;
        break;
      }
    }
    if (found < 0) return { ok: false, indexes, failedAt: e, from };
    indexes.push(found);
    from = found + 1;
  }
  return { ok: true, indexes };
}
