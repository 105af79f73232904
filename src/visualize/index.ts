// Machine diagrams: Mermaid and Graphviz DOT (→ SVG) from XState v5 machines, optionally
// highlighting what a trace visited.
export { toMermaid } from './mermaid.js';
export { toDot } from './dot.js';
export { renderSvg } from './svg.js';
export { describeMachine, stateIdsOf, transitionKey, type VizMachine, type VizState, type VizTransition } from './model.js';
export type { Highlight, RenderOptions } from './common.js';
export { discoverMachines, isStateMachine, leadingComment, type FoundMachine } from './discover.js';
export { buildVisualizations, writeVisualizations } from './generate.js';
