// Runs a scenario against the real runtime (the Codex stack of src/stack: Connection,
// SessionManager, ApprovalRouter and their machines), with the app-server and the room played
// by the script and time virtual (XState's SimulatedClock, injected through the composition
// root; see clock.ts). The world is in world.ts, the verbs in steps.ts, the checks
// in checks.ts, the printing in format.ts.
//
// Time only moves when the script says so (`delay`, `until`, `within`): between steps the
// runner lets promises settle and fires timers that are already due, nothing else. So a
// scenario is deterministic, and a 10-minute timeout costs microseconds.
import type { InspectionEvent } from 'xstate';
import type { Logger } from 'pino';
import type { ConnectionStatus } from '../connection/connection.js';
import type { ApprovalAudit } from '../approvals/types.js';
import type { SessionStatus } from '../session/manager.js';
import type { RoomEvent } from '../events/room-events.js';
import { createTracer, type Tracer } from '../trace/tracer.js';
import { seededIds, SimClock } from './clock.js';
import type { Mismatch } from './match.js';
import type { FrameLogEntry } from './peer.js';
import { parseScenario, type Scenario } from './scenario.js';
import { World } from './world.js';

export interface RunOptions {
  /** Write a JSON Lines trace of every actor to this file. */
  trace?: string;
  /** An extra inspection observer (path coverage uses this). */
  inspect?: (ev: InspectionEvent) => void;
  /** Room events shown in a divergence (default 10). */
  lastEvents?: number;
  /** Logger for the runtime (default: silent). */
  log?: Logger;
}

export interface FinalStates {
  connection: string | undefined;
  connectionStatus: ConnectionStatus | undefined;
  session: unknown;
  sessionStatus: SessionStatus | undefined;
  pendingApprovals: number;
  answers: Record<string, { result?: unknown; error?: unknown } | null>;
  audits: ApprovalAudit[];
  requests: string[];
}

export type DivergenceKind = 'step' | 'event' | 'absent' | 'final' | 'unexpected' | 'error';

export interface Divergence {
  kind: DivergenceKind;
  /** One line: what went wrong. */
  message: string;
  /** Index of the failing step (kind `step`). */
  step?: number;
  /** Index of the expected event (kinds `event`, `absent`). */
  index?: number;
  expected?: unknown;
  /** The closest actual value (an event, a state, an answer). */
  actual?: unknown;
  /** Where exactly they differ. */
  mismatch?: Mismatch;
  details: string[];
  /** The last room events, with their indexes. */
  lastEvents: Array<{ index: number; event: RoomEvent }>;
  lastFrames: FrameLogEntry[];
}

export interface RunResult {
  ok: boolean;
  name: string;
  divergence?: Divergence;
  events: RoomEvent[];
  finalStates: FinalStates;
  /** Every frame both ways, with virtual times. */
  frames: FrameLogEntry[];
  /** The trace file written, if any. */
  trace?: string;
  /** Virtual time the run took (ms). */
  virtualMs: number;
  /** Steps executed (all of them unless a step diverged). */
  stepsRun: number;
  /** Whether any inspection observer was installed (false: tracing off, zero cost). */
  inspected: boolean;
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Run a scenario (validated here if it is not already). Each run has its own injected clock
 * (nothing process-wide is replaced); runs are still serialized, one at a time.
 */
export function runScenario(scenario: Scenario | unknown, opts: RunOptions = {}): Promise<RunResult> {
  // Always validated (and defaulted): parsing a parsed scenario gives the same scenario.
  const s = parseScenario(scenario);
  const run = queue.then(() => runExclusive(s, opts));
  queue = run.catch(() => undefined);
  return run;
}

async function runExclusive(s: Scenario, opts: RunOptions): Promise<RunResult> {
  const clock = new SimClock(s.config.startAt, s.config.seed);
  let tracer: Tracer | undefined;
  try {
    tracer = opts.trace ? createTracer(opts.trace, { now: () => clock.now() }) : undefined;
    const inspect = combine(tracer, opts.inspect);
    const world = new World(s, clock, seededIds(s.config.seed), opts, inspect);
    await world.setup();
    const result = await world.run();
    return { ...result, inspected: inspect !== undefined, ...(opts.trace ? { trace: opts.trace } : {}) };
  } finally {
    tracer?.close();
  }
}

function combine(a: ((ev: InspectionEvent) => void) | undefined, b: ((ev: InspectionEvent) => void) | undefined) {
  if (a && b) return (ev: InspectionEvent) => (a(ev), b(ev));
  return a ?? b;
}

export { formatDivergence, summarize } from './format.js';
