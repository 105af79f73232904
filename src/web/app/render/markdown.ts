// Markdown → DOM: marked renders, DOMPurify sanitizes, and the result is a fragment (markup is
// only ever parsed into an inert document, never into the page). Raw HTML inside the markdown
// is shown as text, not markup; links open in a new tab without an opener or a referrer.
import { Marked } from 'marked';
import type { DOMPurify } from 'dompurify';
import { settledBoundary, softCut } from './blocks.js';
import { morphChildren } from './morph.js';

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
    IN_PLACE: true as const,
    FORBID_TAGS: ['style', 'form', 'input', 'button', 'select', 'textarea', 'iframe'],
    FORBID_ATTR: ['style', 'class', 'id'],
  };
  // Parsed into an element of a template's content document: it has no browsing context, so
  // nothing in it loads or runs, and it is one document for every render. (A string given to
  // DOMPurify is parsed into a new Document each time: a streaming message renders hundreds of
  // times, and collecting those documents paused the page for 10-20 ms.)
  const inert = document.createElement('template').content.ownerDocument;
  return {
    render(text) {
      const box = inert.createElement('div');
      box.innerHTML = marked.parse(text, { async: false });
      purify.sanitize(box, config);
      const out = inert.createDocumentFragment();
      out.append(...box.childNodes);
      return out;
    },
  };
}

/** How far a streaming message has been rendered for good (see `renderStreaming`). */
export interface StreamState {
  /** Characters of the text rendered as settled blocks. */
  settled: number;
  /** Child nodes of the container that belong to the settled blocks. */
  nodes: number;
  /** The text the settled part was cut from (a different text starts over). */
  text: string;
}

export const newStreamState = (): StreamState => ({ settled: 0, nodes: 0, text: '' });

function lastElement(el: HTMLElement): Element | undefined {
  for (let n = el.lastChild; n; n = n.previousSibling) if (n.nodeType === Node.ELEMENT_NODE) return n as Element;
  return undefined;
}

/**
 * Renders a message into `el`. While it streams, completed blocks are rendered once and kept;
 * only the block being written is re-rendered, so each frame costs the tail, not the whole
 * message. The final render (not streaming) parses the whole text once more, so anything a
 * block-wise render got wrong (a list split by a blank line, a reference link) is corrected.
 */
export function renderStreaming(md: Markdown, el: HTMLElement, text: string, streaming: boolean, st: StreamState): void {
  if (!streaming || !text.startsWith(st.text.slice(0, st.settled))) {
    el.replaceChildren(md.render(text));
    Object.assign(st, newStreamState());
    if (!streaming) return;
  }
  let boundary = settledBoundary(text, st.settled);
  const cut = softCut(text.slice(boundary));
  const soft = cut > 0;
  if (soft) boundary += cut;
  if (boundary > st.settled) {
    // New complete blocks: rendered once, in place of the old tail (which they contain).
    morphChildren(el, [...md.render(text.slice(st.settled, boundary)).childNodes], st.nodes);
    st.nodes = el.childNodes.length;
    st.settled = boundary;
    // A paragraph cut for display: its pieces read as one paragraph (no gap between them).
    if (soft) lastElement(el)?.classList.add('md-cont');
  }
  st.text = text;
  // The block being written: changed in place, so only its new words are laid out again.
  morphChildren(el, [...md.render(text.slice(boundary)).childNodes], st.nodes);
}
