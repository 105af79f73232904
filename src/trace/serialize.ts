// Safe serialization of arbitrary runtime values for traces: whatever an event or a
// snapshot carries (cycles, functions, errors, BigInt, actor refs, huge strings) becomes
// plain JSON. Secrets are removed afterwards by `redactValue` (see tracer.ts).
import { redactText } from '../log/redact.js';

export interface SafeJsonOptions {
  /** Strings longer than this are cut (with a note of how much was cut). */
  maxString?: number;
  /** Nesting deeper than this becomes `"[…]"`. */
  maxDepth?: number;
  /** Arrays longer than this keep their head and a count of the rest. */
  maxArray?: number;
  /** Objects with more keys keep the first ones and a count of the rest. */
  maxKeys?: number;
}

const DEFAULTS: Required<SafeJsonOptions> = { maxString: 1000, maxDepth: 6, maxArray: 50, maxKeys: 60 };

export function truncateString(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}…(+${s.length - max} chars)` : s;
}

/** An actor ref (xstate) is shown by its id, never walked into. */
function actorLike(v: object): { id: string } | undefined {
  const o = v as { sessionId?: unknown; send?: unknown; id?: unknown; getSnapshot?: unknown };
  if (typeof o.sessionId === 'string' && typeof o.send === 'function' && typeof o.getSnapshot === 'function') {
    return { id: typeof o.id === 'string' ? o.id : o.sessionId };
  }
  return undefined;
}

/**
 * A JSON-safe copy of `value`. Never throws. Cycles become `"[Circular]"`, functions
 * `"[Function name]"`, errors `{name, message, stack}`, BigInt `"123n"`, Map/Set arrays.
 */
export function toSafeJson(value: unknown, options: SafeJsonOptions = {}): unknown {
  const o = { ...DEFAULTS, ...options };
  const ancestors: object[] = [];
  const walk = (v: unknown, depth: number): unknown => {
    switch (typeof v) {
      case 'string':
        // Redacted before it is cut: a secret split by the cut would no longer match.
        return truncateString(redactText(v), o.maxString);
      case 'number':
        return Number.isFinite(v) ? v : String(v);
      case 'boolean':
        return v;
      case 'bigint':
        return `${v.toString()}n`;
      case 'undefined':
        return undefined;
      case 'symbol':
        return v.toString();
      case 'function':
        return `[Function ${v.name || 'anonymous'}]`;
    }
    if (v === null) return null;
    const obj = v as object;
    if (ancestors.includes(obj)) return '[Circular]';
    if (depth >= o.maxDepth) return '[…]';
    const actor = actorLike(obj);
    if (actor) return { $actor: actor.id };
    if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? 'Invalid Date' : obj.toISOString();
    if (obj instanceof RegExp) return obj.toString();
    if (ArrayBuffer.isView(obj) || obj instanceof ArrayBuffer) return `[${obj.constructor.name} ${(obj as ArrayBuffer).byteLength} bytes]`;
    if (typeof AbortSignal !== 'undefined' && obj instanceof AbortSignal) return { aborted: obj.aborted };
    if (obj instanceof Promise || obj instanceof WeakMap || obj instanceof WeakSet) return `[${obj.constructor.name}]`;
    ancestors.push(obj);
    try {
      if (obj instanceof Error) {
        const e = obj as Error & { code?: unknown; cause?: unknown };
        const out: Record<string, unknown> = { name: e.name, message: walk(e.message, depth + 1) };
        if (e.code !== undefined) out.code = walk(e.code, depth + 1);
        if (e.stack) out.stack = truncateString(e.stack, Math.min(o.maxString, 600));
        if (e.cause !== undefined) out.cause = walk(e.cause, depth + 1);
        return out;
      }
      if (Array.isArray(obj) || obj instanceof Set) {
        const arr = Array.isArray(obj) ? obj : [...obj];
        const head = arr.slice(0, o.maxArray).map((x) => {
          const w = walk(x, depth + 1);
          return w === undefined ? null : w;
        });
        if (arr.length > o.maxArray) head.push(`…(+${arr.length - o.maxArray} items)`);
        return head;
      }
      if (obj instanceof Map) {
        return walk(Object.fromEntries([...obj.entries()].map(([k, x]) => [String(k), x])), depth);
      }
      const out: Record<string, unknown> = {};
      let keys: string[];
      try {
        keys = Object.keys(obj);
      } catch {
        return '[Unreadable]';
      }
      for (const k of keys.slice(0, o.maxKeys)) {
        let x: unknown;
        try {
          x = (obj as Record<string, unknown>)[k];
        } catch {
          x = '[Unreadable]';
        }
        const w = walk(x, depth + 1);
        if (w !== undefined) out[k] = w;
      }
      if (keys.length > o.maxKeys) out['…'] = `+${keys.length - o.maxKeys} keys`;
      return out;
    } finally {
      ancestors.pop();
    }
  };
  return walk(value, 0);
}
