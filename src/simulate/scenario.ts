// The scenario format: a JSON script of both sides of a conversation (the app-server and
// the room) plus expectations on what the room sees and where the machines end up.
// Documented in docs/scenarios.md; every field below has a line there.
import { z } from 'zod';
import { ReviewPolicySchema } from '../approvals/policy.js';
import { ApprovalKindSchema } from '../approvals/types.js';
import { ApprovalsReviewerSchema, AskForApprovalSchema, SandboxModeSchema } from '../protocol/common.js';

const Json = z.unknown();
const JsonObject = z.record(z.string(), z.unknown());
const ms = z.number().int().nonnegative();
const positiveMs = z.number().int().positive();
const RequestId = z.union([z.string().min(1), z.number().int()]);
const name = z.string().min(1);

export const WireErrorSchema = z.strictObject({ code: z.number().int(), message: z.string(), data: Json.optional() });

/** How one app-server process (one transport open) behaves. */
const ProcessSchema = z.strictObject({
  /** `userAgent` of the initialize answer (the version is the part after `/`). */
  userAgent: z.string().optional(),
  /** `auto`: initialize is answered at once; `manual`: the script must `expect` it. */
  handshake: z.enum(['auto', 'manual']).optional(),
  /** The process cannot be started: the transport open fails with this exit. */
  refuse: z
    .strictObject({
      kind: z.enum(['spawn-error', 'auth', 'error']).default('spawn-error'),
      reason: z.string().default('could not start the simulated app-server'),
      retryable: z.boolean().default(true),
    })
    .optional(),
  /** The open never completes (no pid, no pipes). */
  hangOpen: z.boolean().optional(),
  /** A requested close is ignored (the process does not exit). */
  ignoreClose: z.boolean().optional(),
});

/** An auto-responder: answers matching client requests without a script step. */
const RuleSchema = z
  .strictObject({
    method: name,
    params: Json.optional(),
    result: Json.optional(),
    error: WireErrorSchema.optional(),
    /** Answer this many requests, then stop matching (default: all). */
    times: z.number().int().positive().optional(),
  })
  .refine((r) => (r.result === undefined) !== (r.error === undefined), { message: 'a rule needs exactly one of result or error' });

export const ServerSchema = z.strictObject({
  /** Default for every process: `codex/0.169.0 (simulated)`. */
  userAgent: z.string().default('codex/0.169.0 (simulated)'),
  handshake: z.enum(['auto', 'manual']).default('auto'),
  /** Per process, in start order (index 0 = first start); missing entries use the defaults. */
  processes: z.array(ProcessSchema).default([]),
  rules: z.array(RuleSchema).default([]),
  /** Client requests nobody consumed are fine (default: they are a divergence). */
  allowUnexpected: z.boolean().default(false),
});

export const ToolSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  namespace: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional(),
  description: z.string().default('a simulated dynamic tool'),
  inputSchema: JsonObject.default({ type: 'object' }),
  /** A string is one text item with success:true; or the full result. */
  result: z
    .union([z.string(), z.strictObject({ contentItems: z.array(JsonObject), success: z.boolean() })])
    .default('ok'),
  /** The tool throws this message instead. */
  throws: z.string().optional(),
  /** The tool takes this long (virtual time). */
  delayMs: ms.optional(),
  /** The tool never returns (until the approval times out or is withdrawn). */
  hang: z.boolean().optional(),
});

const Participant = z.union([name, z.strictObject({ id: name, name: z.string().optional() })]);

export const ConfigSchema = z.strictObject({
  /** Virtual epoch (ms since 1970) the run starts at. */
  startAt: z.number().int().nonnegative().default(Date.UTC(2025, 0, 1)),
  /** Seed of the run's randomness (the clock's `random()`, message and approval ids). */
  seed: z.number().int().default(1),
  room: z
    .strictObject({
      room: name.default('room'),
      channel: name.default('general'),
      thread: name.default('main'),
      user: Participant.default({ id: 'u1', name: 'Ann' }),
    })
    .default({ room: 'room', channel: 'general', thread: 'main', user: { id: 'u1', name: 'Ann' } }),
  session: z
    .strictObject({
      cwd: z.string().default('/sim/workspace'),
      model: z.string().optional(),
      approvalPolicy: AskForApprovalSchema.default('on-request'),
      sandbox: SandboxModeSchema.default('workspace-write'),
      approvalsReviewer: ApprovalsReviewerSchema.optional(),
      developerInstructions: z.string().optional(),
      busyMode: z.enum(['steer', 'queue']).optional(),
      watchdogMs: positiveMs.optional(),
      interruptWaitMs: positiveMs.optional(),
      modelDiscoveryMs: positiveMs.optional(),
      modelCacheMs: ms.optional(),
      fallbackModels: z.array(z.string()).optional(),
      models: z.array(z.string()).optional(),
      /** Alias → model name for `/model`. */
      modelAliases: z.record(z.string(), z.string()).optional(),
      bindRetryMs: positiveMs.optional(),
      speakerPrefix: z.boolean().optional(),
      perParticipant: z.boolean().optional(),
    })
    .default({ cwd: '/sim/workspace', approvalPolicy: 'on-request', sandbox: 'workspace-write' }),
  connection: z
    .strictObject({
      minVersion: z.string().optional(),
      versionPolicy: z.enum(['enforce', 'warn']).optional(),
      handshakeTimeoutMs: positiveMs.optional(),
      stopTimeoutMs: positiveMs.optional(),
      backoffBaseMs: positiveMs.optional(),
      backoffMaxMs: positiveMs.optional(),
      jitter: z.number().min(0).max(1).default(0),
      maxFailures: z.number().int().positive().optional(),
      failureWindowMs: positiveMs.optional(),
      degradedBackoffBaseMs: positiveMs.optional(),
      degradedBackoffMaxMs: positiveMs.optional(),
      requestTimeoutMs: positiveMs.optional(),
      methodTimeoutsMs: z.record(z.string(), ms).optional(),
      overloadRetry: z.strictObject({ attempts: z.number().int().nonnegative(), baseMs: positiveMs, maxMs: positiveMs }).optional(),
      serverRequestBackstopMs: positiveMs.optional(),
      experimentalApi: z.boolean().optional(),
    })
    .default({ jitter: 0 }),
  approvals: z
    .strictObject({
      reviewer: z.string().default('user'),
      /** Who is asked when a reviewer escalates (`null`: escalation denies). */
      escalateTo: z.string().nullable().optional(),
      /** Rules of the `policy` reviewer. */
      policy: ReviewPolicySchema.optional(),
      /** @deprecated The former name of `policy`. */
      guardian: ReviewPolicySchema.optional(),
      timeouts: z.partialRecord(ApprovalKindSchema, positiveMs).optional(),
      /** Participants besides the owner (the first poster) who may decide. */
      approvers: z.array(z.string()).default([]),
      /** The session owner (default: the first participant of the conversation). */
      owner: z.string().optional(),
    })
    .default({ reviewer: 'user', approvers: [] }),
  tools: z.array(ToolSchema).default([]),
  /** Thread bindings present before the run (the conversation resumes these threads). */
  bindings: z
    .array(z.strictObject({ key: z.string().optional(), threadId: name, model: z.string().nullable().optional() }))
    .default([]),
});

// ---------------------------------------------------------------------------------------
// steps: each is an object with exactly one verb key (plus that verb's options and `note`)

const note = z.string().optional();
const within = ms.optional();
const Selector = z.union([z.number().int().nonnegative(), z.literal('last'), JsonObject]);

const stepSchemas = {
  // ---- room ----
  post: z.strictObject({ post: z.string(), from: Participant.optional(), thread: name.optional(), note }),
  command: z.strictObject({ command: z.enum(['stop', 'status', 'new', 'reset', 'models', 'model']), arg: z.string().optional(), from: Participant.optional(), note }),
  decide: z.strictObject({
    decide: name,
    /** Which prompt: index among approval.requested events, `last`, or a partial event. */
    approval: Selector.optional(),
    by: z.string().optional(),
    content: Json.optional(),
    reason: z.string().optional(),
    /** Expected result of `decide` (default `{ok: true}`). */
    result: Json.optional(),
    note,
  }),
  // ---- app-server ----
  expect: z.strictObject({
    expect: name,
    params: Json.optional(),
    respond: Json.optional(),
    error: WireErrorSchema.optional(),
    /** Name for a later `respond` (when neither respond nor error is given). */
    as: name.optional(),
    within,
    note,
  }),
  respond: z.strictObject({ respond: name, result: Json.optional(), error: WireErrorSchema.optional(), note }),
  notify: z.strictObject({ notify: name, params: Json.optional(), note }),
  request: z.strictObject({ request: name, params: Json.optional(), id: RequestId.optional(), as: name.optional(), note }),
  answer: z.strictObject({
    answer: name,
    result: Json.optional(),
    error: Json.optional(),
    /** Assert that no answer was sent (so far). */
    none: z.literal(true).optional(),
    within,
    note,
  }),
  send: z.strictObject({ send: JsonObject, note }),
  malformed: z.strictObject({ malformed: z.string(), note }),
  crash: z.strictObject({
    crash: z.strictObject({
      code: z.number().int().nullable().optional(),
      signal: z.string().nullable().optional(),
      kind: z.enum(['exit', 'error', 'closed', 'heartbeat', 'auth']).optional(),
      reason: z.string().optional(),
      stderr: z.string().optional(),
      retryable: z.boolean().optional(),
    }),
    note,
  }),
  hang: z.strictObject({ hang: z.literal(true), note }),
  // ---- host ----
  restart: z.strictObject({ restart: z.string(), note }),
  shutdown: z.strictObject({ shutdown: z.strictObject({ interrupt: z.boolean().default(true) }), note }),
  // ---- time and checks ----
  delay: z.strictObject({ delay: ms, note }),
  until: z.strictObject({ until: JsonObject, within, note }),
  assert: z.strictObject({ assert: z.lazy(() => FinalSchema), note }),
} as const;

export type StepVerb = keyof typeof stepSchemas;
export const STEP_VERBS = Object.keys(stepSchemas) as StepVerb[];
export type Step = { [K in StepVerb]: z.output<(typeof stepSchemas)[K]> }[StepVerb];
export type StepOf<K extends StepVerb> = z.output<(typeof stepSchemas)[K]>;

/** Finds the step's verb and validates it against that verb's schema (precise messages). */
export const StepSchema = z.unknown().transform((value, ctx): Step => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    ctx.addIssue({ code: 'custom', message: `a step is an object with one of: ${STEP_VERBS.join(', ')}` });
    return z.NEVER;
  }
  let verbs = Object.keys(value).filter((k): k is StepVerb => (STEP_VERBS as string[]).includes(k));
  // `respond` is also an option of `expect` (answer at once).
  if (verbs.includes('expect')) verbs = verbs.filter((v) => v !== 'respond');
  if (verbs.length !== 1) {
    ctx.addIssue({
      code: 'custom',
      message: verbs.length
        ? `a step has exactly one verb, found ${verbs.join(' and ')}`
        : `unknown step ${JSON.stringify(Object.keys(value))}: use one of ${STEP_VERBS.join(', ')}`,
    });
    return z.NEVER;
  }
  const r = stepSchemas[verbs[0]!].safeParse(value);
  if (!r.success) {
    for (const issue of r.error.issues) ctx.addIssue({ ...issue, path: issue.path } as Parameters<typeof ctx.addIssue>[0]);
    return z.NEVER;
  }
  return r.data as Step;
});

// ---------------------------------------------------------------------------------------
// expectations

export const FinalSchema = z.strictObject({
  /** Connection state as `status().state`: `running.ready`, `backoff`, `failed`, `stopped`. */
  connection: z.string().optional(),
  /** Partial match of `connection.status()` (restarts, malformed, lastExit, error, …). */
  connectionStatus: JsonObject.optional(),
  /** Partial match of the session actor's state value, e.g. `{"conversation": "ready"}`. */
  session: Json.optional(),
  /** Partial match of `sessionStatus(key)` (threadId, queued, lastTurn, model, turns, …). */
  sessionStatus: JsonObject.optional(),
  /** Approvals still open. */
  pendingApprovals: z.number().int().nonnegative().optional(),
  /** Answers to server requests, by `as` name: partial `{result}` / `{error}`, or `null` = none sent. */
  answers: z.record(z.string(), z.union([z.null(), z.strictObject({ result: Json.optional(), error: Json.optional() })])).optional(),
  /** Approval audit records, ordered subsequence with partial matching. */
  audits: z.array(JsonObject).optional(),
  /** Every client request method, in order (initialize included). */
  requests: z.array(z.string()).optional(),
});

const ExpectSchema = z.strictObject({
  /** Room events, as an ordered subsequence, each matched partially. */
  events: z.array(JsonObject).default([]),
  /** Room events that must not appear at all. */
  absent: z.array(JsonObject).default([]),
  /** Where things end up (checked before the host shuts down). */
  final: FinalSchema.optional(),
});

export const ScenarioSchema = z.strictObject({
  $schema: z.string().optional(),
  name: z.string().min(1),
  description: z.string().optional(),
  /** Free-form labels (e.g. `approval`, `crash`). */
  tags: z.array(z.string()).default([]),
  config: ConfigSchema.default(ConfigSchema.parse({})),
  server: ServerSchema.default(ServerSchema.parse({})),
  steps: z.array(StepSchema).min(1, 'a scenario needs at least one step'),
  expect: ExpectSchema.default({ events: [], absent: [] }),
});

export type Scenario = z.output<typeof ScenarioSchema>;
export type ScenarioInput = z.input<typeof ScenarioSchema>;
export type ScenarioConfig = Scenario['config'];
export type ScenarioExpect = Scenario['expect'];
export type FinalExpect = z.output<typeof FinalSchema>;
export type ProcessConfig = z.output<typeof ProcessSchema>;
export type Rule = z.output<typeof RuleSchema>;

/** A scenario that failed its schema; `message` lists every problem with its path. */
export class ScenarioError extends Error {
  constructor(
    readonly issues: string[],
    source?: string,
  ) {
    super(`invalid scenario${source ? ` ${source}` : ''}:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ScenarioError';
  }
}

function pathText(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(root)';
}

function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((i) => `${pathText(i.path)}: ${i.message}`);
}

/** Validate a scenario (already parsed JSON). Throws ScenarioError with every problem. */
export function parseScenario(value: unknown, source?: string): Scenario {
  const r = ScenarioSchema.safeParse(value);
  if (!r.success) throw new ScenarioError(formatIssues(r.error), source);
  return r.data;
}

/** Parse and validate scenario JSON text. */
export function parseScenarioText(text: string, source?: string): Scenario {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ScenarioError([`not valid JSON: ${(err as Error).message}`], source);
  }
  return parseScenario(value, source);
}
