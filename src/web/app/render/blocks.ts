// Where a streaming markdown text can be cut: after its last complete block. Pure (no DOM),
// so the cut rules are unit-tested on their own.

const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/**
 * The end of the last complete block of `text` at or after `from` (which must be outside a
 * code fence): the position after the last blank line that is not inside a fenced block.
 */
export function settledBoundary(text: string, from: number): number {
  let boundary = from;
  let fence: string | undefined;
  let pos = from;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    if (nl < 0) break; // the last line is still being written
    const lineText = text.slice(pos, nl);
    const m = FENCE.exec(lineText);
    if (fence === undefined) {
      if (m) fence = m[1];
      else if (lineText.trim() === '') boundary = nl + 1;
    } else if (m && m[1]![0] === fence[0] && m[1]!.length >= fence.length && lineText.trim() === m[1]) {
      fence = undefined;
    }
    pos = nl + 1;
  }
  return boundary;
}


/** A paragraph being written is cut into display pieces beyond this length (see `softCut`). */
export const MAX_OPEN_BLOCK = 1500;
/** What stays after a soft cut: the words still re-rendered every frame. */
const KEEP_AFTER_CUT = 300;

const NOT_A_PARAGRAPH = /^ {0,3}([-*+]\s|\d{1,9}[.)]\s|#|>|\||<|`{3,}|~{3,}|\s)/;
const SETEXT_OR_FENCE = /^ {0,3}(=+|-+|`{3,}.*|~{3,}.*)\s*$/m;

/**
 * Where a long paragraph that is still being written may be cut for display, so each frame
 * re-renders (and the browser re-lays out) its last few hundred characters rather than all
 * of it: at a space, with nothing inline left open before it. -1: do not cut (not a plain
 * paragraph, or no safe place). The cut is visual only until the message completes.
 */
export function softCut(block: string): number {
  if (block.length <= MAX_OPEN_BLOCK || NOT_A_PARAGRAPH.test(block) || SETEXT_OR_FENCE.test(block)) return -1;
  // One pass: at each space, is anything inline (code span, emphasis, strike, link) open?
  const limit = block.length - KEEP_AFTER_CUT;
  let ticks = 0;
  let stars = 0;
  let doubleStars = 0;
  let starRun = 0;
  let unders = 0;
  let tildes = 0;
  let brackets = 0;
  let parens = 0;
  let cut = -1;
  for (let i = 0; i < limit; i++) {
    const ch = block[i];
    if (ch === '*') {
      starRun++;
      stars++;
      continue;
    }
    doubleStars += Math.floor(starRun / 2);
    starRun = 0;
    if (ch === '`') ticks++;
    else if (ch === '_') unders++;
    else if (ch === '~') tildes++;
    else if (ch === '[') brackets++;
    else if (ch === ']') brackets--;
    else if (ch === '(') parens++;
    else if (ch === ')') parens--;
    else if (ch === '<') break; // raw HTML or an autolink: no cut after it
    else if (ch === ' ' && i > 0 && block[i - 1] !== '\\') {
      const closed = ticks % 2 === 0 && stars % 2 === 0 && doubleStars % 2 === 0 && unders % 2 === 0 && tildes % 2 === 0 && brackets === 0 && parens === 0;
      if (closed) cut = i + 1;
    }
  }
  return cut;
}
