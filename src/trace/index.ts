// Traces of XState actors as JSON Lines, and what a trace visited (for coverage and diagrams).
export { createTracer, createTraceRecorder, instrumentMachine, safeTraceValue, type Tracer, type TraceRecord, type TraceTransition, type RecorderOptions } from './tracer.js';
export { toSafeJson, truncateString, type SafeJsonOptions } from './serialize.js';
export {
  VisitedCollector,
  visitedFromTrace,
  readTrace,
  leafPaths,
  stateKey,
  edgeKey,
  withAncestors,
  emptyVisited,
  type Visited,
  type VisitedByMachine,
} from './visited.js';
