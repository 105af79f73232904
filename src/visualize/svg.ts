// SVG from DOT, offline: Graphviz compiled to WebAssembly (@viz-js/viz), no browser, no binary.
import { instance, type Viz } from '@viz-js/viz';

let viz: Promise<Viz> | undefined;

/** Renders DOT to SVG; throws with Graphviz's messages when the DOT is invalid. */
export async function renderSvg(dot: string): Promise<string> {
  viz ??= instance();
  const result = (await viz).render(dot, { format: 'svg', engine: 'dot' });
  if (result.status !== 'success') {
    throw new Error(`graphviz failed: ${result.errors.map((e) => e.message).join('; ')}`);
  }
  // Warnings are layout hints (e.g. an lhead Graphviz had to ignore); the SVG is still valid.
  return result.output;
}
