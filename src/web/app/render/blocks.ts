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

