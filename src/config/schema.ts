// The one configuration schema. Strict objects: a misspelt key is an error that names it,
// never a silently ignored setting.
import { z } from 'zod';
import { ApprovalsReviewerSchema, AskForApprovalSchema, SandboxModeSchema } from '../protocol/common.js';
import { ReviewPolicySchema } from '../approvals/policy.js';
import { ModelListConfigSchema } from '../session/model-refs.js';
import { ApprovalTimeoutsSchema } from '../approvals/types.js';
import { DEFAULT_LOCAL_MAX_BYTES, DEFAULT_UPLOAD_MAX_BYTES, MAX_ATTACHMENTS } from '../attachments/schema.js';
import { DEFAULT_START_TIMEOUT_MS, MAX_TIMER_MS } from '../turn/limits.js';
import { LLM_CONFIG_DEFAULT, LlmConfigSchema } from '../llm/settings.js';
import { AgentAppServerSchema, checkProcessSettings, effectiveAppServer, PoolSchema, RemoteServerSchema } from './app-server.js';

const HarnessSelectionSchema = z.strictObject({
  /** `codex`, `auto`, or another registered harness id. */
  runtime: z.string().min(1).default('codex'),
  /** `none` or a harness id to use when `runtime` cannot serve. */
  fallback: z.string().min(1).default('none'),
});

/** Commands that change a session: owner/approver-only unless configured otherwise. */
export const DEFAULT_RESTRICTED_COMMANDS = ['model', 'new', 'reset', 'codex resume', 'codex compact', 'codex review', 'guardian approve', 'fork', 'undo'] as const;

const AppServerConfigSchema = z.strictObject({
  transport: z.enum(['stdio', 'websocket']).default('stdio'),
  command: z.string().min(1).optional(),
  args: z.array(z.string()).optional(),
  url: z.url({ protocol: /^wss?$/, error: 'write a WebSocket URL such as "ws://127.0.0.1:39175"' }).optional(),
  authToken: z.string().min(1).optional(),
  /** A file holding the capability token (read at load; keeps the token out of the config file). */
  authTokenFile: z.string().min(1).optional(),
  headers: z.record(z.string(), z.string()).default({}),
  /** Extra environment for a spawned app-server (e.g. CODEX_HOME). */
  env: z.record(z.string(), z.string()).default({}),
  /** Several spawned app-servers with memory limits (see src/pool/). */
  pool: PoolSchema.optional(),
  /** Remote WebSocket app-servers instead of a spawned one (sessions are placed among them). */
  servers: z.array(RemoteServerSchema).min(1).max(32).optional(),
  /** Opt into Codex's experimental API (needed for host dynamic tools). */
  experimentalApi: z.boolean().default(true),
  requestTimeoutMs: z.number().int().positive().max(MAX_TIMER_MS).default(60_000),
  /** `guardian`: Codex's reviewer subagent decides; `policy`: Switchboard's rule engine (approvals.policy) does. */
  mode: z.enum(['yolo', 'guardian', 'policy']).default('yolo'),
  approvalPolicy: AskForApprovalSchema.optional(),
  sandbox: SandboxModeSchema.optional(),
  approvalsReviewer: ApprovalsReviewerSchema.optional(),
  serviceTier: z.enum(['fast', 'flex']).nullable().optional(),
  minVersion: z.string().regex(/^\d+\.\d+\.\d+/, 'write a version such as "0.118.0"').default('0.118.0'),
  versionPolicy: z.enum(['enforce', 'warn']).default('enforce'),
  /** Once the fast restarts are spent, the app-server is retried with a backoff that doubles up to this (ms; default 60 s). */
  retryMaxDelayMs: z.number().int().positive().max(MAX_TIMER_MS).optional(),
  discovery: z
    .strictObject({
      enabled: z.boolean().default(true),
      timeoutMs: z.number().int().positive().max(MAX_TIMER_MS).default(2_500),
    })
    .default({ enabled: true, timeoutMs: 2_500 }),
});

const AgentSchema = z.strictObject({
  id: z.string().min(1),
  name: z.string().optional(),
  default: z.boolean().optional(),
  model: z.string().optional(),
  /** The exact models this agent may switch between with /model (default: model/list); a record gives aliases. */
  models: ModelListConfigSchema.optional(),
  cwd: z.string().optional(),
  developerInstructions: z.string().optional(),
  embeddedHarness: HarnessSelectionSchema.partial().optional(),
  /** Participants (besides the session owner) allowed to decide approvals. */
  approvers: z.array(z.string()).optional(),
  /** App-server settings of this agent's own process (agents with equal settings share one). */
  appServer: AgentAppServerSchema.optional(),
});

export const ConfigSchema = z
  .strictObject({
    appServer: AppServerConfigSchema.default(AppServerConfigSchema.parse({})),
    agents: z
      .strictObject({
        defaults: z
          .strictObject({
            model: z.string().optional(),
            models: ModelListConfigSchema.optional(),
            cwd: z.string().optional(),
            developerInstructions: z.string().optional(),
            embeddedHarness: HarnessSelectionSchema.default({ runtime: 'codex', fallback: 'none' }),
            approvers: z.array(z.string()).default([]),
          })
          .default({ embeddedHarness: { runtime: 'codex', fallback: 'none' }, approvers: [] }),
        list: z.array(AgentSchema).default([]),
      })
      .default({ defaults: { embeddedHarness: { runtime: 'codex', fallback: 'none' }, approvers: [] }, list: [] }),
    sessions: z
      .strictObject({
        /** A message arriving during a turn is steered into it, or queued for the next turn. */
        onMessageDuringTurn: z.enum(['steer', 'queue']).default('steer'),
        idleWatchdogSeconds: z.number().positive().max(Math.floor(MAX_TIMER_MS / 1000)).default(300),
        perParticipant: z.boolean().default(false),
        /** Relative to the state directory (--state-dir); an absolute path is used as given. */
        bindingsDir: z.string().default('bindings'),
        /** Commands only the session owner, approvers and room owners/approvers may run (`codex resume` = the subcommand). */
        restrictedCommands: z.array(z.string().min(1).max(64)).max(64).default([...DEFAULT_RESTRICTED_COMMANDS]),
      })
      .default({
        onMessageDuringTurn: 'steer',
        idleWatchdogSeconds: 300,
        perParticipant: false,
        bindingsDir: 'bindings',
        restrictedCommands: [...DEFAULT_RESTRICTED_COMMANDS],
      }),
    approvals: z
      .strictObject({
        /** Who answers requests that reach Switchboard (`policy`: the rule engine); default: from appServer.mode. */
        reviewer: z.enum(['user', 'policy']).optional(),
        /** Rules of the `policy` reviewer. */
        policy: ReviewPolicySchema.optional(),
        /** Per-kind timeouts (ms); on expiry the answer is a denial. */
        timeouts: ApprovalTimeoutsSchema.optional(),
      })
      .default({}),
    /** What a message may carry (issue 11 #4). */
    attachments: z
      .strictObject({
        /** Directories (besides the agent's cwd) host-API local files may come from. */
        roots: z.array(z.string().min(1)).default([]),
        /** Size cap of a local image named through the host API (bytes). */
        maxBytes: z.number().int().positive().max(64 * 1024 * 1024).default(DEFAULT_LOCAL_MAX_BYTES),
        /** Size cap of image bytes uploaded through the room (decoded bytes). */
        uploadMaxBytes: z.number().int().positive().max(32 * 1024 * 1024).default(DEFAULT_UPLOAD_MAX_BYTES),
        maxCount: z.number().int().positive().max(64).default(MAX_ATTACHMENTS),
      })
      .default({ roots: [], maxBytes: DEFAULT_LOCAL_MAX_BYTES, uploadMaxBytes: DEFAULT_UPLOAD_MAX_BYTES, maxCount: MAX_ATTACHMENTS }),
    /** Turn limits (issue 11 #6). */
    turns: z
      .strictObject({
        /** How long `turn/start` may go unanswered before the turn fails (ms; timers cap at 2^31-1). */
        startTimeoutMs: z.number().int().positive().max(MAX_TIMER_MS).default(DEFAULT_START_TIMEOUT_MS),
      })
      .default({ startTimeoutMs: DEFAULT_START_TIMEOUT_MS }),
    storage: z
      .strictObject({
        kind: z.enum(['dataset', 'codex', 'none', 'postgres']).default('dataset'),
        /** Relative to the state directory (--state-dir); an absolute path is used as given. */
        path: z.string().default('threads.db'),
        /** kind "postgres": postgres://user:password@host:port/database (or SWITCHBOARD_STORAGE_URL). */
        url: z
          .string()
          .max(2000)
          .regex(/^postgres(ql)?:\/\/[^\s\x00-\x1f]+$/, { error: 'write a postgres:// URL: user:password@host:port/database after the scheme' })
          .optional(),
      })
      .default({ kind: 'dataset', path: 'threads.db' }),
    /** The `llm` backend: a Responses-API endpoint that runs turns without Codex. */
    llm: LlmConfigSchema.default(LLM_CONFIG_DEFAULT),
    /** Several nodes on one `postgres` database: this node's id and how long a session lease lasts unrenewed. */
    cluster: z
      .strictObject({
        node: z.string().min(1).max(100).regex(/^[A-Za-z0-9._-]+$/, { error: 'a node id is letters, digits, ".", "_" or "-"' }),
        leaseTtlMs: z.number().int().min(500).max(MAX_TIMER_MS).default(10_000),
        /** Conversations this node drives at once (default 64). */
        maxSessions: z.number().int().positive().max(100_000).default(64),
        /** How long a queued message's turn may take to start before the message is given up (1 s .. 1 h, default 60 s). */
        turnStartTimeoutMs: z.number().int().min(1_000).max(3_600_000).default(60_000),
      })
      .optional(),
    log: z.strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).default({ level: 'info' }),
    /** The embedded room server (join): browser origins and resource limits (see src/room/limits.ts for defaults). */
    room: z
      .strictObject({
        allowedOrigins: z.array(z.url({ protocol: /^https?$/, error: 'write an origin such as "https://chat.example.com"' })).optional(),
        limits: z
          .strictObject(
            Object.fromEntries(
              ['maxFrameBytes', 'maxBufferedBytes', 'slowConsumerGraceMs', 'joinTimeoutMs', 'historyPage', 'historyPageMax', 'replayEvents', 'pendingApprovals', 'pendingLookupMs', 'messageBurst', 'joinBurst', 'historyBurst', 'maxConnectionsPerAddress', 'maxConnectionsPerRoom'].map((k) => [k, z.number().int().positive().max(2 ** 31 - 1).optional()]),
            ),
          )
          .extend({ messagesPerSecond: z.number().positive().optional(), joinsPerSecond: z.number().positive().optional(), historyPerSecond: z.number().positive().optional() })
          .default({}),
      })
      .default({ limits: {} }),
  })
  .superRefine((cfg, ctx) => {
    const a = cfg.appServer;
    // Timers above 2^31-1 ms fire at once in Node.js: an approval would expire immediately.
    for (const [kind, ms] of Object.entries(cfg.approvals.timeouts ?? {})) {
      if (typeof ms === 'number' && ms > MAX_TIMER_MS) {
        ctx.addIssue({ code: 'custom', path: ['approvals', 'timeouts', kind], message: `write a number <= ${MAX_TIMER_MS} (milliseconds; about 24.8 days)` });
      }
    }
    for (const issue of checkProcessSettings(a, ['appServer'])) ctx.addIssue({ code: 'custom', ...issue });
    cfg.agents.list.forEach((agent, i) => {
      const own = agent.appServer;
      if (!own) return;
      // Checked as the agent's process will be: appServer with its overrides applied.
      const at = ['agents', 'list', i, 'appServer'];
      for (const issue of checkProcessSettings(effectiveAppServer(a, own), at)) ctx.addIssue({ code: 'custom', ...issue });
      if (own.codexHome && own.env?.CODEX_HOME) ctx.addIssue({ code: 'custom', path: [...at, 'codexHome'], message: 'codexHome and env.CODEX_HOME are both set: keep one' });
    });
    if (cfg.storage.kind === 'codex') {
      const runtimes = [cfg.agents.defaults.embeddedHarness.runtime, ...cfg.agents.list.map((x) => x.embeddedHarness?.runtime ?? 'codex')];
      const other = runtimes.find((r) => r !== 'codex');
      if (other) {
        ctx.addIssue({
          code: 'custom',
          path: ['storage', 'kind'],
          message: `"codex" thread storage only supports the codex harness, but runtime "${other}" is configured: use "dataset"`,
        });
      }
      // A conversation that may move to the llm backend needs the room thread as its history.
      const fallbacks = [cfg.agents.defaults.embeddedHarness.fallback, ...cfg.agents.list.map((x) => x.embeddedHarness?.fallback ?? 'none')];
      const mixed = cfg.llm.enabled ? 'llm.enabled is true' : fallbacks.includes('llm') ? 'fallback "llm" is configured' : undefined;
      if (!other && mixed) {
        ctx.addIssue({ code: 'custom', path: ['storage', 'kind'], message: `"codex" thread storage only supports Codex backends, but ${mixed}: use "dataset"` });
      }
    }
    if (cfg.storage.kind === 'postgres' && !cfg.storage.url) {
      ctx.addIssue({ code: 'custom', path: ['storage', 'url'], message: '"postgres" storage needs storage.url (postgres:// then user:password@host:port/database), or SWITCHBOARD_STORAGE_URL' });
    }
    if (cfg.storage.kind !== 'postgres' && cfg.storage.url) {
      ctx.addIssue({ code: 'custom', path: ['storage', 'url'], message: `storage.url is only read by "postgres" storage, but kind is "${cfg.storage.kind}": set kind "postgres" or remove url` });
    }
    if (cfg.cluster && cfg.storage.kind !== 'postgres') {
      ctx.addIssue({ code: 'custom', path: ['cluster'], message: `several nodes share one "postgres" database, but storage kind is "${cfg.storage.kind}": set storage.kind "postgres" or remove cluster` });
    }
    const defaults = cfg.agents.list.filter((x) => x.default);
    if (defaults.length > 1) {
      ctx.addIssue({ code: 'custom', path: ['agents', 'list'], message: `only one agent may be the default; found ${defaults.map((d) => d.id).join(', ')}` });
    }
  });

export type SwitchboardConfig = z.output<typeof ConfigSchema>;
export type SwitchboardConfigInput = z.input<typeof ConfigSchema>;
