// Scripted simulation of turn lifecycles: scenarios, the runner, record mode, path coverage.
export {
  ScenarioSchema,
  StepSchema,
  FinalSchema,
  ConfigSchema,
  ServerSchema,
  parseScenario,
  parseScenarioText,
  ScenarioError,
  STEP_VERBS,
  type Scenario,
  type ScenarioInput,
  type Step,
  type StepVerb,
  type FinalExpect,
} from './scenario.js';
export { runScenario, formatDivergence, summarize, type RunOptions, type RunResult, type Divergence, type FinalStates } from './runner.js';
export { recordScenario, tapTransport, eventExpectation, type RecordOptions, type Recording, type TapEvent } from './record.js';
export { simulateCommand, recordedPath, type SimulateOptions, type SimulateOutput } from './cli.js';
export { VirtualClock, flushMicrotasks, seededRandom } from './clock.js';
export { mismatch, matches, matchSubsequence, type Mismatch } from './match.js';
export {
  coverageModels,
  exploreMachine,
  replayGraphPaths,
  machineCoverage,
  formatCoverage,
  transitionDefinitions,
  type MachineModel,
  type MachineGraph,
  type MachineCoverage,
} from './coverage.js';
