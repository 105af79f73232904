// Graphviz DOT from the machine model: compound and parallel states are clusters (regions
// of a parallel state dashed). Graphviz cannot end an edge on a cluster, so each cluster
// holds an anchor node (its initial dot, or an invisible point for parallel states) and
// edges to or from the state use it with `lhead`/`ltail` to be clipped at the border.
import type { AnyStateMachine } from 'xstate';
import { edgeLabel, hasChildren, isVisitedState, isVisitedTransition, rootHasFrame, stateLines, type RenderOptions } from './common.js';
import { describeMachine, isWithin, type VizMachine, type VizState } from './model.js';

const VISITED = { color: '#d9480f', fill: '#fff3b0' };

const html = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const q = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** `<b>name</b>` over smaller lines (left-aligned in cluster labels, where they can be long). */
function htmlLabel(title: string, lines: string[], left = false): string {
  const br = left ? '<br align="left"/>' : '<br/>';
  const rest = lines.map((l) => `${br}<font point-size="9">${html(l)}</font>`).join('');
  return `<<b>${html(title)}</b>${rest}${lines.length && left ? br : ''}>`;
}

/** DOT source for a machine (or an already described one). */
export function toDot(machine: AnyStateMachine | VizMachine, opts: RenderOptions = {}): string {
  const vm = 'states' in machine && machine.states instanceof Map ? (machine as VizMachine) : describeMachine(machine as AnyStateMachine);
  const out: string[] = [
    `digraph ${q(vm.id)} {`,
    '  graph [compound=true, fontname="Helvetica", fontsize=11, nodesep=0.35, ranksep=0.45, newrank=true];',
    '  node [fontname="Helvetica", fontsize=11, shape=box, style=rounded, margin="0.15,0.06"];',
    '  edge [fontname="Helvetica", fontsize=9, arrowsize=0.7];',
  ];
  const edges: string[] = [];
  const clusterOf = (s: VizState): string => `cluster_${s.id}`;
  const visitedAttrs = (id: string, fillStyle: string): string =>
    isVisitedState(opts, id) ? `, color="${VISITED.color}", penwidth=2, style="${fillStyle}", fillcolor="${VISITED.fill}"` : '';

  const title = (s: VizState): string => (s.path.length ? s.key : vm.id);

  const emit = (s: VizState, ind: string, region: boolean): void => {
    if (s.type === 'history') {
      // UML's circled H (H* when deep), named beside it.
      const h = s.history === 'deep' ? 'H*' : 'H';
      out.push(`${ind}${q(s.id)} [label=${q(h)}, xlabel=${htmlLabel(s.key, [])}, shape=circle, width=0.3, fixedsize=true${visitedAttrs(s.id, 'filled')}];`);
      return;
    }
    if (!hasChildren(s)) {
      const periph = s.type === 'final' ? ', peripheries=2' : '';
      out.push(`${ind}${q(s.id)} [label=${htmlLabel(title(s), stateLines(s, opts))}${periph}${visitedAttrs(s.id, 'rounded,filled')}];`);
      return;
    }
    out.push(`${ind}subgraph ${q(clusterOf(s))} {`);
    const style = region ? 'rounded,dashed' : 'rounded';
    const visited = isVisitedState(opts, s.id);
    out.push(
      `${ind}  graph [label=${htmlLabel(title(s), stateLines(s, opts), true)}, labeljust=l, style="${visited ? `${style},filled` : style}"` +
        `${visited ? `, color="${VISITED.color}", penwidth=2, fillcolor="${VISITED.fill}"` : ''}];`,
    );
    // The anchor: the initial pseudo-state of a compound state, an invisible point otherwise.
    out.push(
      s.initial
        ? `${ind}  ${q(s.id)} [shape=point, width=0.12, label=""];`
        : `${ind}  ${q(s.id)} [shape=point, width=0.01, style=invis, label=""];`,
    );
    if (s.initial) edges.push(`  ${q(s.id)} -> ${q(s.initial)};`);
    for (const c of s.children) emit(c, `${ind}  `, s.type === 'parallel');
    if (s.type !== 'parallel' && s.children.some((c) => c.type === 'final')) {
      const end = `${s.id}.[*]`;
      out.push(`${ind}  ${q(end)} [shape=point, width=0.1, peripheries=2, label=""];`);
      for (const c of s.children) if (c.type === 'final') edges.push(`  ${q(c.id)} -> ${q(end)};`);
    }
    out.push(`${ind}}`);
  };

  const framed = rootHasFrame(vm.root);
  if (framed) {
    emit(vm.root, '  ', false);
  } else {
    // Unframed root: its initial dot and end marker sit at the top level.
    out.push(`  ${q(vm.root.id)} [shape=point, width=0.12, label=""];`);
    if (vm.root.initial) edges.push(`  ${q(vm.root.id)} -> ${q(vm.root.initial)};`);
    for (const c of vm.root.children) emit(c, '  ', false);
    if (vm.root.children.some((c) => c.type === 'final')) {
      const end = `${vm.root.id}.[*]`;
      out.push(`  ${q(end)} [shape=point, width=0.1, peripheries=2, label=""];`);
      for (const c of vm.root.children) if (c.type === 'final') edges.push(`  ${q(c.id)} -> ${q(end)};`);
    }
  }

  // Transitions between the same two states share one edge, one label line each: Graphviz
  // stacks the labels of parallel edges (self-loops above all) on top of each other.
  const merged = new Map<string, { from: string; to: string; lines: string[]; visited: boolean }>();
  for (const s of vm.states.values()) {
    for (const t of s.transitions) {
      for (const target of t.targets) {
        const edge = merged.get(`${s.id}\n${target}`) ?? { from: s.id, to: target, lines: [], visited: false };
        edge.lines.push(edgeLabel(opts, t));
        edge.visited ||= isVisitedTransition(opts, t.key);
        merged.set(`${s.id}\n${target}`, edge);
      }
    }
  }
  for (const { from, to, lines, visited } of merged.values()) {
    const src = vm.states.get(from)!;
    const dst = vm.states.get(to)!;
    const attrs = [`label=<${lines.map(html).join('<br/>')}>`];
    // Clip at a cluster border only when the other end is outside that cluster.
    if (hasChildren(src) && (src !== vm.root || framed) && !isWithin(vm, to, from)) attrs.push(`ltail=${q(clusterOf(src))}`);
    if (hasChildren(dst) && (dst !== vm.root || framed) && !isWithin(vm, from, to)) attrs.push(`lhead=${q(clusterOf(dst))}`);
    if (visited) attrs.push(`color="${VISITED.color}"`, 'penwidth=2', `fontcolor="${VISITED.color}"`);
    edges.push(`  ${q(from)} -> ${q(to)} [${attrs.join(', ')}];`);
  }
  out.push(...edges, '}');
  return `${out.join('\n')}\n`;
}
