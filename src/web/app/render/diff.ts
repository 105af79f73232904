// Diffs → DOM with diff2html (its precompiled templates: nothing is compiled at run time, so
// the page's CSP without 'unsafe-eval' holds), sanitized by DOMPurify into a fragment.
import { html, parse } from 'diff2html';
import { ColorSchemeType } from 'diff2html/lib-esm/types.js';
import type { DOMPurify } from 'dompurify';

export interface DiffRenderer {
  /** A unified diff as a rendered fragment; undefined when diff2html finds no file in it. */
  render(diff: string): DocumentFragment | undefined;
}

/** Beyond this a diff is shown as plain text: diff2html's DOM for it would be too heavy. */
export const MAX_RENDERED_DIFF = 400_000;

export function createDiffRenderer(purify: DOMPurify): DiffRenderer {
  return {
    render(diff) {
      if (diff.length > MAX_RENDERED_DIFF) return undefined;
      const files = parse(diff);
      if (!files.length) return undefined;
      const out = html(files, { drawFileList: files.length > 1, outputFormat: 'line-by-line', matching: 'none', diffStyle: 'word', colorScheme: ColorSchemeType.AUTO });
      return purify.sanitize(out, { RETURN_DOM_FRAGMENT: true, FORBID_ATTR: ['style'] });
    },
  };
}

/**
 * A file change of a `fileChange` item as a unified diff: Codex sends hunks (maybe without
 * file headers) for updates and the whole content for added or deleted files.
 */
export function unifiedForChange(path: string, kind: string | undefined, diff: string): string {
  if (/^(diff --git|--- )/m.test(diff)) return diff;
  const header = `--- ${kind === 'add' ? '/dev/null' : `a/${path}`}\n+++ ${kind === 'delete' ? '/dev/null' : `b/${path}`}\n`;
  if (/^@@ /m.test(diff)) return header + diff;
  const lines = diff.replace(/\n$/, '').split('\n');
  if (kind === 'delete') return `${header}@@ -1,${lines.length} +0,0 @@\n${lines.map((l) => `-${l}`).join('\n')}\n`;
  return `${header}@@ -0,0 +1,${lines.length} @@\n${lines.map((l) => `+${l}`).join('\n')}\n`;
}
