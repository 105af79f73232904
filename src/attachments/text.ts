// Text at the boundary (issue 11 #6). Codex's app-server is Rust: a JSON string holding a
// lone UTF-16 surrogate is not valid UTF-8 text, and 0.169.0 drops such a `turn/start`
// without answering. Every string that reaches Codex is repaired first.

type WithWellFormed = { toWellFormed?: () => string };
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Replaces each lone UTF-16 surrogate with U+FFFD; well-formed text is returned as is. */
export function wellFormedText(s: string): string {
  const native = (s as unknown as WithWellFormed).toWellFormed;
  return typeof native === 'function' ? native.call(s) : s.replace(LONE_SURROGATE, '\uFFFD');
}

/** True when `s` has no lone surrogate. */
export function isWellFormedText(s: string): boolean {
  return wellFormedText(s) === s;
}

// C0 controls except \t \n \r, DEL, and C1 controls (0x9B is a one-byte CSI in some
// terminals). They carry no meaning for the model, NUL truncates text in C-string layers,
// and an escape sequence echoed to a participant's terminal can rewrite their screen.
const MESSAGE_CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;
const NAME_CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;

/** Message text for Codex: well-formed, control characters (but tab and newlines) removed. */
export function cleanMessageText(s: string): string {
  return wellFormedText(s).replace(MESSAGE_CONTROLS, '');
}

/** A one-line name (display name, file name): well-formed, every control character removed. */
export function cleanName(s: string): string {
  return wellFormedText(s).replace(NAME_CONTROLS, '');
}
