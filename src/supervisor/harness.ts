// Harnesses: the backends that run a session's turns. `codex` is built in (the app-server);
// a host may register others (e.g. its own LLM runner) under their own ids.
import type { AnyActorRef } from 'xstate';
import type { RoomEventSink } from '../events/room-events.js';
import type { HarnessProbe } from '../harness/select.js';

export interface AgentSpec {
  id: string;
  model: string | undefined;
  /** Fixed /model catalog (undefined: discover with model/list). */
  models: string[] | undefined;
  /** Alias → bare model name (`gpt` → `gpt-5.5`), from a `models` record. */
  modelAliases?: Record<string, string>;
  cwd: string;
  developerInstructions: string | undefined;
  approvers: string[];
}

export interface HarnessMessage {
  room: string;
  channel: string;
  thread: string;
  from: { id: string; name: string };
  text: string;
  attachments?: Array<Record<string, unknown>>;
  /** The host's id of the message (its inbox entry): Codex's `clientUserMessageId`. */
  clientMessageId?: string;
}

export interface Harness extends HarnessProbe {
  readonly id: string;
  /** A message posted during a turn can go into that turn (`turn/steer`); others queue it for the next. */
  readonly steers?: boolean;
  /** Connection machines this harness needs the supervisor to spawn for it. */
  connections?(): Array<{ connectionId: string; input: { connectionId: string; config?: Record<string, unknown> } }>;
  start(getChild: (connectionId: string) => AnyActorRef | undefined, signal: AbortSignal): Promise<void>;
  stop(): Promise<void>;
  /** Run (or steer/queue) a message; room events go to the supervisor's sink. */
  post(agent: AgentSpec, msg: HarnessMessage, sink: RoomEventSink): Promise<void> | void;
  /** `/new` or `/reset` of a session. */
  reset?(agent: AgentSpec, session: string, how: 'new' | 'reset'): Promise<void> | void;
  /** `role`/`room` are the verified room role and room of `by`, when the decision came through a room. */
  decide?(d: {
    approvalId: string;
    by: string;
    decision: string;
    content?: unknown;
    role?: 'owner' | 'approver' | 'member' | 'observer' | 'agent';
    room?: string;
  }): { ok: true } | { ok: false; reason: string };
  status(): Record<string, unknown>;
}

/** Strip a provider prefix Codex does not know: `openai/gpt-5.5` and legacy `codex/gpt-5.5` → `gpt-5.5`. */
export function codexModelName(ref: string | undefined): string | undefined {
  if (!ref) return undefined;
  const m = /^(openai|codex)\/(.+)$/.exec(ref);
  return m ? m[2] : ref;
}
