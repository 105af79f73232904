// `switchboard visualize [--machine NAME] [--trace FILE] [--out DIR]`: diagrams of the
// machines; with a trace, the states and transitions a real run visited are highlighted.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { discoverMachines, renderSvg, toDot, toMermaid, type Highlight } from '../visualize/index.js';
import { visitedFromTrace } from '../trace/visited.js';
import type { Output } from './output.js';

export interface VisualizeOptions {
  machine?: string;
  trace?: string;
  out?: string;
}

/** The package root: src/cli in a checkout and dist/src/cli when built both sit two levels below it. */
function packageRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
}

export async function visualize(o: VisualizeOptions, out: Output): Promise<number> {
  const found = await discoverMachines(packageRoot());
  const chosen = o.machine ? found.filter((f) => f.name === o.machine || f.machine.id === o.machine) : found;
  if (chosen.length === 0) {
    out.error(`no machine "${o.machine}"; known: ${found.map((f) => f.name).join(', ')}`);
    return 2;
  }
  let visited: ReturnType<typeof visitedFromTrace> | undefined;
  if (o.trace) {
    try {
      visited = visitedFromTrace(o.trace);
    } catch (err) {
      out.error(`cannot read trace ${o.trace}: ${(err as Error).message}`);
      return 2;
    }
  }
  if (o.out) mkdirSync(o.out, { recursive: true });
  for (const f of chosen) {
    const v = visited?.[f.machine.id];
    const highlight: Highlight | undefined = v ? { states: v.stateIds, transitions: v.definitions } : undefined;
    const mermaid = toMermaid(f.machine, { highlight });
    if (o.out) {
      writeFileSync(path.join(o.out, `${f.name}.mmd`), mermaid);
      writeFileSync(path.join(o.out, `${f.name}.svg`), await renderSvg(toDot(f.machine, { highlight })));
      out.line(`${f.name}: ${path.join(o.out, `${f.name}.mmd`)}, .svg${v ? ` (visited ${v.stateIds.size} states, ${v.definitions.size} transitions)` : ''}`);
    } else {
      if (chosen.length > 1) out.line(`%% ${f.name}${f.description ? ` — ${f.description}` : ''}`);
      out.line(mermaid);
    }
  }
  return 0;
}
