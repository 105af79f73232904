// Boot: take the credential out of the URL, build the renderers (each with its own
// DOMPurify instance), and render the page.
import DOMPurify from 'dompurify';
import { render } from 'preact';
import { takeTarget } from './credential.js';
import { createDiffRenderer } from './render/diff.js';
import { createMarkdown } from './render/markdown.js';
import { createViz } from './render/viz.js';
import { App } from './ui/App.js';
import { ServicesContext, type Services } from './ui/services.js';

// First, before anything can log or report the address: the token leaves the URL.
const initial = takeTarget(window.location, window.history, window.sessionStorage);

const fetchText = async (url: string): Promise<string> => {
  const res = await fetch(url, { credentials: 'same-origin', cache: 'force-cache' });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.text();
};

const services: Services = {
  markdown: createMarkdown(DOMPurify(window)),
  diff: createDiffRenderer(DOMPurify(window)),
  viz: createViz(DOMPurify(window), fetchText),
  now: () => Date.now(),
};

const root = document.getElementById('app');
if (root) {
  root.replaceChildren();
  render(
    <ServicesContext.Provider value={services}>
      <App initial={initial} storage={window.sessionStorage} />
    </ServicesContext.Provider>,
    root,
  );
}
