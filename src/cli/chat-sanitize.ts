// Terminal safety for `switchboard chat`: every remote string (names, text, tool output,
// notices, errors, approval details, close reasons) passes through `sanitize` before it is
// written, so a room participant or a model cannot drive the reader's terminal: no OSC 52
// (clipboard), OSC 0 (window title), SGR 8 (hidden text), cursor moves or screen clears, no
// C1 controls, no bidi overrides that reorder what is shown.
//
// Hand-written rather than `strip-ansi`: that library removes well-formed sequences only and
// keeps lone controls (a bare ESC, CR, BEL, C1 bytes), which is exactly what must go. The rule
// here fails closed: whole sequences are removed first (so an OSC 52 payload does not show up
// as text), then EVERY remaining control character, whatever it was part of.

/** String-type sequences with a terminator: OSC, DCS, SOS, PM, APC (7-bit and C1 forms). */
// eslint-disable-next-line no-control-regex
const STRING_SEQ = /(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[\s\S]*?(?:\x07|\x1b\\|\x9c)/g;
/** CSI: ESC [ or 0x9b, parameters, intermediates, a final byte (SGR, cursor moves, clears). */
// eslint-disable-next-line no-control-regex
const CSI = /(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]/g;
/** Any other escape: ESC, intermediates, a final byte (ESC c reset, ESC ( B, ESC 7 …). */
// eslint-disable-next-line no-control-regex
const OTHER_ESC = /\x1b[\x20-\x2f]*[\x30-\x7e]/g;
/** C0 except TAB and LF, DEL, C1. */
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;
/** Bidi embeddings/overrides/isolates and marks: they reorder what the reader sees. */
const BIDI = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;
/** Unicode line and paragraph separators: treated as line breaks. */
const SEPARATORS = /[\u2028\u2029]/g;

export interface SanitizeOptions {
  /** Keep line breaks and tabs (a multi-line answer); otherwise they become spaces. */
  multiline?: boolean;
}

/** `s` with every terminal control removed; printable text (any script, emoji) is kept. */
export function sanitize(s: string, opts: SanitizeOptions = {}): string {
  let out = s.replace(STRING_SEQ, '').replace(CSI, '').replace(OTHER_ESC, '');
  out = out.replace(/\r\n/g, '\n').replace(SEPARATORS, '\n');
  out = out.replace(CONTROLS, '').replace(BIDI, '');
  if (!opts.multiline) out = out.replace(/[\n\t]/g, ' ');
  return out;
}
