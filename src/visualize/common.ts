// Options shared by the renderers.
import type { VizState, VizTransition } from './model.js';

/** What a trace visited: state node ids (`connection.running.ready`) and `transitionKey`s. */
export interface Highlight {
  states: Set<string>;
  transitions: Set<string>;
}

export interface RenderOptions {
  highlight?: Highlight;
  /** Show entry/exit actions and the actions of targetless transitions (default true). */
  actions?: boolean;
}

export const isVisitedState = (o: RenderOptions, id: string): boolean =>
  !!o.highlight && (o.highlight.states.has(id) || o.highlight.states.has(`#${id}`));

export const isVisitedTransition = (o: RenderOptions, key: string): boolean => !!o.highlight?.transitions.has(key);

const MARK = '✓ ';

/**
 * What is written inside a state besides its name: invoked actors, entry/exit actions, and
 * targetless transitions (UML "internal transitions": `EVENT [guard] / actions`).
 */
export function stateLines(s: VizState, o: RenderOptions): string[] {
  const showActions = o.actions !== false;
  const lines = [...s.invokes];
  if (showActions && s.entry.length) lines.push(`entry / ${s.entry.join(', ')}`);
  if (showActions && s.exit.length) lines.push(`exit / ${s.exit.join(', ')}`);
  for (const t of s.transitions) {
    if (t.targets.length) continue;
    const text = showActions && t.actions.length ? `${t.label} / ${t.actions.join(', ')}` : t.label;
    lines.push(isVisitedTransition(o, t.key) ? MARK + text : text);
  }
  return lines;
}

/** A transition's edge label, marked when the trace took it. */
export const edgeLabel = (o: RenderOptions, t: VizTransition): string => (isVisitedTransition(o, t.key) ? MARK + t.label : t.label);

/** The root gets a frame of its own when it has something to show besides its children. */
export const rootHasFrame = (root: VizState): boolean =>
  root.type === 'parallel' || root.invokes.length > 0 || root.transitions.length > 0 || root.entry.length > 0 || root.exit.length > 0;

export const hasChildren = (s: VizState): boolean => s.children.length > 0;
