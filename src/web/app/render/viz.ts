// The machine diagrams (/viz/<machine>.svg, the files of visualizations/) as SVG DOM:
// fetched once per machine, sanitized by DOMPurify with its SVG profile, cloned per view.
// A state is highlighted by the `<title>` of its node (`turn.running.active`) or cluster
// (`cluster_turn.running`), as graphviz writes them.
import type { DOMPurify } from 'dompurify';

export interface Viz {
  /** A fresh copy of the machine's diagram; undefined when it cannot be loaded. */
  load(machine: string): Promise<SVGSVGElement | undefined>;
}

const MAX_SVG_BYTES = 2_000_000;

export function createViz(purify: DOMPurify, fetchText: (url: string) => Promise<string>): Viz {
  const cache = new Map<string, Promise<SVGSVGElement | undefined>>();
  const fetchOne = async (machine: string): Promise<SVGSVGElement | undefined> => {
    const text = await fetchText(`/viz/${encodeURIComponent(machine)}.svg`);
    if (text.length > MAX_SVG_BYTES) return undefined;
    const frag = purify.sanitize(text, { USE_PROFILES: { svg: true }, RETURN_DOM_FRAGMENT: true });
    const svg = frag.querySelector('svg');
    if (!svg) return undefined;
    // Sized by the page's CSS, not graphviz's points.
    svg.removeAttribute('width');
    svg.removeAttribute('height');
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', `${machine} state machine`);
    return svg;
  };
  return {
    load(machine) {
      let p = cache.get(machine);
      if (!p) {
        p = fetchOne(machine).catch(() => undefined);
        cache.set(machine, p);
        // A failed fetch may succeed later (server restarting): do not cache the failure.
        void p.then((svg) => svg ?? cache.delete(machine));
      }
      return p.then((svg) => (svg ? (svg.cloneNode(true) as SVGSVGElement) : undefined));
    },
  };
}

/** Marks the nodes and clusters whose title is one of `ids`; returns how many matched. */
export function highlightStates(svg: SVGSVGElement, ids: readonly string[]): number {
  const want = new Set(ids);
  let n = 0;
  for (const g of svg.querySelectorAll('g.node, g.cluster')) {
    const title = g.querySelector(':scope > title')?.textContent ?? '';
    const id = g.classList.contains('cluster') ? title.replace(/^cluster_/, '') : title;
    const on = want.has(id);
    g.classList.toggle('viz-active', on);
    if (on) n++;
  }
  return n;
}
