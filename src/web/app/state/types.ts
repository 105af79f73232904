// The page's view model: what the room looks like to this participant, built by the pure
// reducer (reduce.ts) from the joined frame's history, live events and local actions.
import type { Json } from '../clean.js';
import type { ApprovalRequested, InspectActor, InspectEvent, ModelEntry, Presence, Role, TurnUsage } from '../frames.js';

export type LinkStatus = 'connecting' | 'online' | 'offline' | 'reconnecting' | 'failed';

export interface Me {
  id: string;
  name: string | undefined;
  role: Role;
}

export type TurnStatus = 'running' | 'completed' | 'failed' | 'interrupted';
export type ApprovalState = 'pending' | 'approved' | 'denied' | 'withdrawn' | 'answered';

/** What streams into a tool card between its start and its completion. */
export interface ToolLive {
  output: string;
  reasoning: string;
  summary: string[];
  plan: string;
  progress: string[];
}

export interface UserEntry {
  kind: 'user';
  id: string;
  author: { id: string; name: string | undefined };
  text: string;
  at: number;
  /** Posted from this page and not (yet) seen in history. */
  local: boolean;
}

export interface AssistantEntry {
  kind: 'assistant';
  id: string;
  /** The Codex item id (live messages), for `data-message-id`. */
  itemId: string | undefined;
  turnId: string | undefined;
  text: string;
  streaming: boolean;
  /** The turn was interrupted or failed: this is what had streamed by then. */
  partial: boolean;
  at: number;
}

export interface ToolEntry {
  kind: 'tool';
  id: string;
  toolId: string;
  turnId: string | undefined;
  toolKind: string;
  title: string;
  status: string | undefined;
  data: Json;
  live: ToolLive;
  done: boolean;
  at: number;
}

export interface Resolution {
  outcome: string;
  decision: string | undefined;
  by: string;
  reason: string;
  at: number;
}

export interface ApprovalEntry {
  kind: 'approval';
  id: string;
  approvalId: string;
  approvalKind: string;
  title: string;
  /** The request (absent when only the history record of its outcome is known). */
  request: ApprovalRequested | undefined;
  state: ApprovalState;
  resolution: Resolution | undefined;
  /** The last decision this page sent and the server's answer to it. */
  sent: { decision: string; ok: boolean | undefined; reason: string | undefined } | undefined;
  at: number;
}

export interface NoticeEntry {
  kind: 'notice';
  id: string;
  level: 'info' | 'warning' | 'error';
  text: string;
  at: number;
}

export interface TurnEntry {
  kind: 'turn';
  id: string;
  turnId: string;
  /** Undefined when only history told of the turn and it has no end record (yet). */
  status: TurnStatus | undefined;
  model: string | undefined;
  error: string | undefined;
  /** Tokens the turn used, when Codex reported them (live turns only). */
  usage: TurnUsage | undefined;
  at: number;
}

/** Codex's own reviewer (guardian mode) on one action: in progress, then its verdict. */
export interface GuardianEntry {
  kind: 'guardian';
  id: string;
  reviewId: string;
  turnId: string;
  title: string;
  status: 'inProgress' | 'approved' | 'denied' | 'timedOut' | 'aborted';
  riskLevel: string | undefined;
  rationale: string | undefined;
  decisionSource: string | undefined;
  at: number;
}

export type Entry = UserEntry | AssistantEntry | ToolEntry | ApprovalEntry | NoticeEntry | TurnEntry | GuardianEntry;

export interface Conversation {
  /** `room/channel/thread[/@participant]`. */
  key: string;
  channel: string;
  thread: string;
  participant: string | undefined;
  entries: Entry[];
  /** Entry id → position in `entries`. */
  index: Record<string, number>;
  /** The newest turn seen, for the turn bar. */
  lastTurn: string | undefined;
  model: string | undefined;
  lastAt: number;
}

export interface InspectState {
  open: boolean;
  /** The server's answer to `inspect on`: refused or unavailable. */
  error: string | undefined;
  actors: Record<string, InspectActor>;
  /** Recent events per actor, oldest first, at most MAX_ACTOR_EVENTS each. */
  events: Record<string, InspectEvent[]>;
  selected: string | undefined;
  dropped: number;
}

export interface ModelsState {
  state: 'idle' | 'loading' | 'ready' | 'unavailable';
  list: ModelEntry[];
  note: string | undefined;
}

export interface RoomState {
  status: LinkStatus;
  /** Why the link failed or what it waits for. */
  statusDetail: string | undefined;
  room: string | undefined;
  me: Me | undefined;
  participants: Presence[];
  /** True when this participant may use the inspector. */
  inspector: boolean;
  conversations: Record<string, Conversation>;
  selected: string | undefined;
  /** Cursor for the next older history page, when there may be one. */
  historyBefore: number | undefined;
  loadingOlder: boolean;
  /** approvalId → conversation key, for `decided` frames (which carry no session). */
  approvalSession: Record<string, string>;
  models: ModelsState;
  inspect: InspectState;
  /** Errors the server sent that belong to no card, newest last. */
  errors: Array<{ id: number; text: string }>;
  /** Requests whose answer may be an error frame, oldest first (the server answers in order). */
  awaiting: Array<'models' | 'inspect'>;
  counter: number;
  /** The channel/thread the page was opened on. */
  home: { channel: string; thread: string };
}

export const MAX_ACTOR_EVENTS = 50;
export const MAX_ERRORS = 3;
