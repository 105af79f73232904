// Plain-data types of sessions: settings, pending messages, slash commands.
import type { ApprovalsReviewer, AskForApproval, SandboxMode, UserInput } from '../protocol/common.js';
import { DEFAULT_INTERRUPT_WAIT_MS, DEFAULT_WATCHDOG_MS } from '../turn/limits.js';
import { FALLBACK_MODELS, type Catalog, type CatalogRequest } from './models.js';
import type { ResumeCandidate } from './actors.js';
import type { TurnAction } from '../turn/action.js';

export interface SessionSettings {
  /** Workspace of the Codex thread. */
  cwd: string;
  /** Model for new threads; `undefined` = Codex's default. `/model` overrides it per session. */
  model: string | undefined;
  approvalPolicy: AskForApproval;
  sandbox: SandboxMode;
  approvalsReviewer: ApprovalsReviewer | undefined;
  developerInstructions: string | undefined;
  /** A message arriving during a turn: steered into it (default) or queued for the next turn. */
  busyMode: 'steer' | 'queue';
  /** Idle watchdog of a turn (ms without any notification). */
  watchdogMs: number;
  /** Bound on waiting for Codex's answer to `turn/start` (capped by the watchdog in the turn). */
  startTimeoutMs?: number;
  /** Bound on waiting for `turn/completed` after `turn/interrupt`. */
  interruptWaitMs: number;
  /** `model/list` discovery timeout before the fallback catalog is used. */
  modelDiscoveryMs: number;
  /** How long a discovered catalog is reused. */
  modelCacheMs: number;
  /** The catalog used when discovery times out or fails. */
  fallbackModels: string[];
  /** A fixed catalog instead of `model/list` (tests, locked-down hosts). */
  models: string[] | undefined;
  /** Alias → bare model name, accepted by `/model` and shown by `/models`. */
  modelAliases: Record<string, string>;
  /** Wait before binding again after a failed `thread/start` / `thread/resume`. */
  bindRetryMs: number;
  /** Prefix each message with `name: ` (for sessions shared by several people). */
  speakerPrefix: boolean;
}

export const defaultSessionSettings: Omit<SessionSettings, 'cwd'> = {
  model: undefined,
  approvalPolicy: 'on-request',
  sandbox: 'workspace-write',
  approvalsReviewer: undefined,
  developerInstructions: undefined,
  busyMode: 'steer',
  watchdogMs: DEFAULT_WATCHDOG_MS,
  interruptWaitMs: DEFAULT_INTERRUPT_WAIT_MS,
  modelDiscoveryMs: 2_500,
  modelCacheMs: 10 * 60_000,
  fallbackModels: [...FALLBACK_MODELS],
  models: undefined,
  modelAliases: {},
  bindRetryMs: 2_000,
  speakerPrefix: false,
};

/** A room message, translated and waiting for (or being steered into) a turn. */
export interface PendingMessage {
  id: string;
  from: { id: string; name: string };
  text: string;
  input: UserInput[];
  receivedAt: number;
  /** A review or compaction (`/codex review|compact`): runs as a turn of its own, never steered. */
  action?: TurnAction;
  /** Sent as `clientUserMessageId` (the host's id of the message, e.g. its inbox entry); else `id`. */
  clientMessageId?: string;
}

export type SlashCommand =
  | { name: 'model'; arg: string }
  | { name: 'models' }
  | { name: 'new' }
  | { name: 'reset' }
  | { name: 'stop' }
  | { name: 'status' };

const COMMAND = /^\/(model|models|new|reset|stop|status)(?:\s+([\s\S]*))?$/;

/** A slash command the session handles, or undefined (the text is a normal message). */
export function parseCommand(text: string): SlashCommand | undefined {
  const m = COMMAND.exec(text.trim());
  if (!m) return undefined;
  const name = m[1] as SlashCommand['name'];
  const arg = (m[2] ?? '').trim();
  if (name === 'model') return { name, arg };
  // `/new something` etc. is a sentence that happens to start with a command word.
  if (arg !== '') return undefined;
  return { name };
}

/** A room notice of a session. */
export interface SessionNotice {
  level: 'info' | 'warning' | 'error';
  text: string;
}

/** A log line a session emits (the manager writes it to its log). */
export interface SessionLog {
  type: 'log';
  level: 'info' | 'warn' | 'error';
  msg: string;
  data: Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------
// The session machine's data

/** What an idle session needs to go on where it left off (see `src/session/hibernate.ts`). */
export interface SessionRestore {
  threadId: string | undefined;
  /** False when the connection restarted since the thread was bound: resume it first. */
  threadLoaded: boolean;
  createdAt: string | undefined;
  model: string | undefined;
  fresh: boolean;
  turns: number;
  lastTurn: SessionContext['lastTurn'];
  catalog: Catalog | undefined;
  threadModel?: string | undefined;
}

/** The app-server is unavailable (degraded, or failed for good), as a session knows it. */
export interface SessionOutage {
  reason: string;
  /** When the connection retries next (ms since the epoch); undefined: it will not. */
  retryAt: number | undefined;
  /** The room was told (once per outage): later messages fail without another notice. */
  told: boolean;
}

export interface SessionContext {
  key: string;
  settings: SessionSettings;
  threadId: string | undefined;
  /** The thread is loaded in the current app-server process (false after a restart). */
  threadLoaded: boolean;
  createdAt: string | undefined;
  /** Model passed on `turn/start`; `/model` changes it from the next turn. */
  model: string | undefined;
  /** The next bind starts a new thread (`/new`, `/reset`). */
  fresh: boolean;
  /** The thread the bind in progress tries to resume. */
  candidate: ResumeCandidate | undefined;
  /** What the bind in progress will tell the room once it is bound. */
  bindNotices: SessionNotice[];
  queue: PendingMessage[];
  /** The message that started the running turn. */
  current: PendingMessage | undefined;
  activeTurnId: string | undefined;
  /** The running turn is being interrupted: new messages queue instead of steering. */
  stopping: boolean;
  steerQueue: PendingMessage[];
  /** The message a `turn/steer` is in flight for. */
  steering: PendingMessage | undefined;
  catalog: Catalog | undefined;
  catalogRequests: CatalogRequest[];
  /** A binding write is due. */
  persist: 'save' | 'delete' | undefined;
  /** The write in progress. */
  writing: 'save' | 'delete' | undefined;
  /** The last binding write failed: the end of the next turn tries it again. */
  unsaved: boolean;
  turns: number;
  /** Times the current message was retried because its thread was not loaded. */
  startRetries: number;
  lastTurn: { status: string; turnId: string | undefined; error: string | undefined } | undefined;
  /** The model Codex said the bound thread uses (`thread/start`/`resume` answer): what a turn without `/model` runs on. */
  threadModel: string | undefined;
  /** Set while the app-server is unavailable: messages fail at once instead of waiting or looping. */
  outage: SessionOutage | undefined;
}


/** A session's first context: a new conversation, or a hibernated one going on. */
export function initialContext(input: {
  key: string;
  settings: SessionSettings;
  restore?: SessionRestore | undefined;
  outage?: Omit<SessionOutage, 'told'> | undefined;
}): SessionContext {
  const r = input.restore;
  return {
    key: input.key,
    settings: input.settings,
    threadId: r?.threadId,
    threadLoaded: r?.threadLoaded ?? false,
    createdAt: r?.createdAt,
    model: r ? r.model : input.settings.model,
    fresh: r?.fresh ?? false,
    candidate: undefined,
    bindNotices: [],
    queue: [],
    current: undefined,
    activeTurnId: undefined,
    stopping: false,
    steerQueue: [],
    steering: undefined,
    catalog: r?.catalog,
    catalogRequests: [],
    persist: undefined,
    writing: undefined,
    unsaved: false,
    turns: r?.turns ?? 0,
    startRetries: 0,
    lastTurn: r?.lastTurn,
    threadModel: r?.threadModel,
    outage: input.outage && { ...input.outage, told: false },
  };
}
