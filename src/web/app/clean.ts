// Every string from the server is untrusted: control characters and bidi overrides are
// removed (they can fake or reorder what a reader sees) and lengths are capped. Text is
// always rendered as text nodes; only sanitized markdown/diff/SVG becomes markup.

// C0 (except tab and newline), DEL, C1, and the bidi overrides/isolates.
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const LINE_BREAKS = /[\t\n\r]+/g;

/** Multi-line text: controls removed, capped at `max` characters (keeps the tail marker). */
export function cleanText(s: string, max = 200_000): string {
  const t = s.replace(CONTROLS, '');
  return t.length > max ? `${t.slice(0, max)}\n… (${t.length - max} more characters)` : t;
}

/** One line (names, titles, ids): controls and line breaks removed, capped. */
export function cleanLine(s: string, max = 300): string {
  const t = s.replace(CONTROLS, '').replace(LINE_BREAKS, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

export type Json = Record<string, unknown>;

export const obj = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined);
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
/** A string field of remote data, cleaned as one line; undefined when not a string. */
export const line = (v: unknown, max?: number): string | undefined => (typeof v === 'string' ? cleanLine(v, max) : undefined);
/** A multi-line string field of remote data, cleaned; undefined when not a string. */
export const text = (v: unknown, max?: number): string | undefined => (typeof v === 'string' ? cleanText(v, max) : undefined);
export const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Remote JSON shown to a reader (tool arguments, results): pretty, cleaned, capped. */
export function jsonText(v: unknown, max = 20_000): string {
  let s: string;
  try {
    s = JSON.stringify(v, null, 2) ?? String(v);
  } catch {
    s = String(v);
  }
  return cleanText(s, max);
}
