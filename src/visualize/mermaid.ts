// Mermaid `stateDiagram-v2` from the machine model.
//
// Mermaid constraints this works around (its jison grammar and renderer):
// - a transition or description text ends at `:`, `;` or a newline;
// - ids are global, so nested keys that repeat (`idle` in several regions) need unique ids;
//   an id starting with a keyword (`default…`, `state `, `note `) is lexed as that keyword;
// - a composite state may not have description lines (it throws), so what a composite
//   invokes goes into its label, and its entry/exit/internal transitions only into the SVG;
// - a transition written inside a composite block re-parents both ends into that block in
//   older releases, so only transitions between siblings are written there, all others at
//   the top level after every state has been placed.
import type { AnyStateMachine } from 'xstate';
import { edgeLabel, hasChildren, isVisitedState, rootHasFrame, stateLines, type RenderOptions } from './common.js';
import { describeMachine, type VizMachine, type VizState } from './model.js';

// The lexer matches `default` as a prefix, the others only as whole words.
const RESERVED = /^(default|(state|note|class|classDef|scale|accTitle|accDescr)$)/i;

/** Text after a `:` in Mermaid: no `:`, `;`, newlines or HTML. */
const text = (s: string): string =>
  s.replace(/:/g, '∶').replace(/;/g, ',').replace(/[\r\n]+/g, ' ').replace(/</g, '‹').replace(/>/g, '›');

function assignIds(vm: VizMachine, framed: boolean): Map<string, string> {
  const ids = new Map<string, string>();
  const used = new Set<string>();
  for (const s of vm.states.values()) {
    if (s.path.length === 0 && !framed) continue;
    const raw = (s.path.length ? s.path : [vm.id]).map((k) => k.replace(/\W/g, '_')).join('_') || 's';
    const base = RESERVED.test(raw) ? `s_${raw}` : raw;
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}_${n}`;
    used.add(id);
    ids.set(s.id, id);
  }
  return ids;
}

/** Mermaid source for a machine (or an already described one). */
export function toMermaid(machine: AnyStateMachine | VizMachine, opts: RenderOptions = {}): string {
  const vm = 'states' in machine && machine.states instanceof Map ? (machine as VizMachine) : describeMachine(machine as AnyStateMachine);
  const framed = rootHasFrame(vm.root);
  const ids = assignIds(vm, framed);
  const idOf = (stateId: string): string => {
    const id = ids.get(stateId);
    if (id === undefined) throw new Error(`no Mermaid id for state ${stateId}`); // only an unframed root has none
    return id;
  };
  const lines = ['stateDiagram-v2'];
  const outer: string[] = [];

  const label = (s: VizState): string => {
    const name = s.path.length ? s.key : vm.id;
    const base = s.type === 'history' ? `${name} (history${s.history === 'deep' ? ', deep' : ''})` : name;
    return hasChildren(s) ? [base, ...s.invokes].join(' · ') : base;
  };

  const declare = (s: VizState, ind: string): void => {
    const id = idOf(s.id);
    const named = `"${label(s).replace(/"/g, "'")}" as ${id}`;
    if (hasChildren(s)) {
      lines.push(`${ind}state ${label(s) === id ? id : named} {`);
      body(s, `${ind}  `);
      lines.push(`${ind}}`);
      return;
    }
    const extra = stateLines(s, opts);
    // With description lines, a bare id would be replaced by the first line as the title.
    lines.push(label(s) === id && !extra.length ? `${ind}${id}` : `${ind}state ${named}`);
    for (const l of extra) lines.push(`${ind}${id} : ${text(l)}`);
  };

  const body = (s: VizState, ind: string): void => {
    const parallel = s.type === 'parallel';
    if (s.initial) lines.push(`${ind}[*] --> ${idOf(s.initial)}`);
    s.children.forEach((c, i) => {
      if (parallel && i > 0) lines.push(`${ind}--`);
      declare(c, ind);
    });
    for (const c of s.children) {
      for (const t of c.transitions) {
        for (const target of t.targets) {
          const line = `${idOf(c.id)} --> ${idOf(target)} : ${text(edgeLabel(opts, t))}`;
          // A composite's self-loop inside a nested block breaks some Mermaid releases.
          const sibling = !parallel && vm.states.get(target)?.parent === s.id && !(target === c.id && hasChildren(c));
          if (sibling) lines.push(`${ind}${line}`);
          else outer.push(`  ${line}`);
        }
      }
    }
    if (!parallel) for (const c of s.children) if (c.type === 'final') lines.push(`${ind}${idOf(c.id)} --> [*]`);
  };

  if (framed) {
    lines.push(`  [*] --> ${idOf(vm.root.id)}`);
    declare(vm.root, '  ');
    for (const t of vm.root.transitions) {
      for (const target of t.targets) outer.push(`  ${idOf(vm.root.id)} --> ${idOf(target)} : ${text(edgeLabel(opts, t))}`);
    }
  } else {
    body(vm.root, '  ');
  }
  lines.push(...outer);

  if (opts.highlight) {
    const visited = [...vm.states.keys()].filter((id) => ids.has(id) && isVisitedState(opts, id)).map(idOf);
    lines.push('  classDef visited fill:#fff3b0,stroke:#d9480f,stroke-width:2px');
    if (visited.length) lines.push(`  class ${visited.join(',')} visited`);
  }
  return `${lines.join('\n')}\n`;
}
