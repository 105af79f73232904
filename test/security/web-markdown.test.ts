// Issue 13, "Safe": the agent's answer is remote text rendered as markdown in people's pages.
// The page's own renderer (marked + DOMPurify, src/web/app/render/markdown.ts) is bundled and run
// in the real Chromium on a page with NO Content-Security-Policy, so a payload that got through
// would run: hostile inputs, rendered whole and streamed in small chunks, must leave no script,
// no event handler, no javascript:/data: URL, and raw HTML must show as text.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';

const ENTRY = `
import DOMPurify from 'dompurify';
import { createMarkdown, renderStreaming, newStreamState } from ${JSON.stringify(fileURLToPath(new URL('../../src/web/app/render/markdown.ts', import.meta.url)))};
const md = createMarkdown(DOMPurify(window));
window.renderWhole = (text) => { const el = document.createElement('div'); document.body.append(el); el.replaceChildren(md.render(text)); return el; };
window.renderStreamed = (text, step) => {
  const el = document.createElement('div'); document.body.append(el);
  const st = newStreamState();
  for (let i = step; i < text.length; i += step) renderStreaming(md, el, text.slice(0, i), true, st);
  renderStreaming(md, el, text, true, st);
  renderStreaming(md, el, text, false, st);
  return el;
};
`;

// Each payload sets window.__pwned if any part of it runs.
const HOSTILE: Array<[string, string]> = [
  ['raw img onerror', '<img src=x onerror="window.__pwned=1">'],
  ['raw script', 'hi <script>window.__pwned=2</script> there'],
  ['javascript: link', '[click](javascript:window.__pwned=3)'],
  ['javascript: image', '![a](javascript:window.__pwned=4)'],
  ['data: html link', '[x](data:text/html,<script>window.__pwned=5</script>)'],
  ['quote escape in a link title', '[a](https://x.test "t\\" onmouseover=\\"window.__pwned=6")'],
  ['quote escape in an image url', '![x](x" onerror="window.__pwned=7)'],
  ['svg script', '<svg><script>window.__pwned=8</script></svg>'],
  ['math/style mXSS', '<math><mtext><table><mglyph><style><img src=x onerror=window.__pwned=9>'],
  ['noscript mXSS', '<noscript><p title="</noscript><img src=x onerror=window.__pwned=10>">'],
  ['details ontoggle', '<details open ontoggle="window.__pwned=11">x</details>'],
  ['autolink javascript:', '<javascript:window.__pwned=12>'],
  ['html in a code span', '`<img src=x onerror=window.__pwned=13>`'],
  ['html in a fenced block', '```html\n<img src=x onerror=window.__pwned=14>\n```'],
  ['iframe srcdoc', '<iframe srcdoc="<script>parent.__pwned=15</script>"></iframe>'],
  ['reference link to javascript:', '[r][1]\n\n[1]: javascript:window.__pwned=16'],
  ['html block across lines', '<div\nonclick="window.__pwned=17">\nclick\n</div>'],
  ['form and button', '<form action="javascript:window.__pwned=18"><button>go</button></form>'],
];

let browser: Browser;
let page: Page;

beforeAll(async () => {
  const out = await build({
    stdin: { contents: ENTRY, resolveDir: fileURLToPath(new URL('../../', import.meta.url)), loader: 'ts' },
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
  });
  browser = await launchBrowser();
  page = await browser.newPage();
  await page.setContent('<!doctype html><html><body></body></html>');
  await page.addScriptTag({ content: out.outputFiles[0]!.text });
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

interface Findings {
  pwned: unknown;
  forbidden: string[];
  handlers: string[];
  badUrls: string[];
  links: Array<{ href: string | null; rel: string | null; target: string | null }>;
  text: string;
}

async function renderAndInspect(mode: 'renderWhole' | 'renderStreamed', text: string): Promise<Findings> {
  return page.evaluate(
    async ({ mode, text }) => {
      const w = window as unknown as Record<string, unknown>;
      delete w.__pwned;
      document.body.replaceChildren();
      const el = (w[mode] as (t: string, s: number) => HTMLElement)(text, 3);
      // Give loads, errors and handlers a chance to fire, and poke every element.
      for (const n of el.querySelectorAll('*')) {
        for (const type of ['click', 'mouseover', 'focus', 'toggle', 'error', 'load']) n.dispatchEvent(new Event(type));
      }
      await new Promise((r) => setTimeout(r, 150));
      const all = [...el.querySelectorAll('*')];
      const urlAttrs = ['href', 'src', 'action', 'formaction', 'xlink:href', 'srcdoc', 'data'];
      return {
        pwned: w.__pwned,
        forbidden: all.map((n) => n.nodeName.toLowerCase()).filter((n) => ['script', 'iframe', 'style', 'form', 'button', 'input', 'object', 'embed', 'svg', 'math'].includes(n)),
        handlers: all.flatMap((n) => [...n.attributes].filter((a) => a.name.toLowerCase().startsWith('on')).map((a) => `${n.nodeName}.${a.name}`)),
        badUrls: all.flatMap((n) =>
          urlAttrs
            .map((a) => n.getAttribute(a))
            .filter((v): v is string => v !== null && /^\s*(javascript|data|vbscript):/i.test(v)),
        ).concat(all.flatMap((n) => (n.getAttribute('srcdoc') !== null ? ['srcdoc'] : []))),
        links: [...el.querySelectorAll('a')].map((a) => ({ href: a.getAttribute('href'), rel: a.getAttribute('rel'), target: a.getAttribute('target') })),
        text: el.textContent ?? '',
      };
    },
    { mode, text },
  );
}

describe.each(['renderWhole', 'renderStreamed'] as const)('agent markdown in the page (%s)', (mode) => {
  it.each(HOSTILE)('%s: nothing runs, no handler, no script URL', async (_name, text) => {
    const f = await renderAndInspect(mode, text);
    expect(f.pwned).toBeUndefined();
    expect(f.forbidden).toEqual([]);
    expect(f.handlers).toEqual([]);
    expect(f.badUrls).toEqual([]);
    for (const l of f.links) {
      expect(l.href ?? '').not.toMatch(/^\s*(javascript|data|vbscript):/i);
      expect(l.rel).toBe('noopener noreferrer');
      expect(l.target).toBe('_blank');
    }
  });

  it('raw HTML in the answer is shown as text, and ordinary markdown still renders', async () => {
    const f = await renderAndInspect(mode, 'Use **bold** and [docs](https://example.test/a).\n\n<img src=x onerror="window.__pwned=1">');
    expect(f.pwned).toBeUndefined();
    expect(f.text).toContain('<img src=x onerror="window.__pwned=1">');
    expect(f.links).toEqual([{ href: 'https://example.test/a', rel: 'noopener noreferrer', target: '_blank' }]);
    const strong = await page.evaluate(() => document.body.querySelector('strong')?.textContent);
    expect(strong).toBe('bold');
  });
});
