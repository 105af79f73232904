// Markdown → DOM: marked renders, DOMPurify sanitizes, and the result is a fragment (never a
// string assigned to innerHTML). Raw HTML inside the markdown is shown as text, not markup;
// links open in a new tab without an opener or a referrer.
import { Marked } from 'marked';
import type { DOMPurify } from 'dompurify';

export interface Markdown {
  render(text: string): DocumentFragment;
}

const escapeHtml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** `purify` must be an instance of its own: the link hook is added to it. */
export function createMarkdown(purify: DOMPurify): Markdown {
  const marked = new Marked({ gfm: true, breaks: true, async: false });
  marked.use({ renderer: { html: ({ text }) => escapeHtml(text) } });
  purify.addHook('afterSanitizeAttributes', (node) => {
    if (node.nodeName === 'A') {
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', 'noopener noreferrer');
    }
  });
  const config = {
    RETURN_DOM_FRAGMENT: true as const,
    FORBID_TAGS: ['style', 'form', 'input', 'button', 'select', 'textarea', 'iframe'],
    FORBID_ATTR: ['style', 'class', 'id'],
  };
  return {
    render(text) {
      const html = marked.parse(text, { async: false });
      return purify.sanitize(html, config);
    },
  };
}
