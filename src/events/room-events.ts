// Room events: everything a host (chat room, gateway, CLI) sees of a conversation.
// This union is the public contract of Switchboard's event stream; it is documented in
// the README and validated by tests. Every event names the conversation it belongs to.

/** Identifies one conversation: room + channel + thread key (and optionally a participant). */
export interface ConversationKey {
  room: string;
  channel: string;
  thread: string;
}

export const conversationKeyString = (k: ConversationKey): string => `${k.room}/${k.channel}/${k.thread}`;

/** The conversation key, computed here only: `room/channel/thread`, plus `/@participant` when every participant has a session of their own. */
export function conversationKey(m: ConversationKey & { from: { id: string } }, perParticipant: boolean): string {
  const base = conversationKeyString(m);
  return perParticipant ? `${base}/@${m.from.id}` : base;
}

interface Base {
  /** `room/channel/thread` of the conversation. */
  session: string;
  /** Milliseconds since the epoch. */
  at: number;
}

/** Set on the turn events of a `/codex review` or `/codex compact` turn (absent: a turn of room messages). */
interface TurnOf {
  action?: 'review' | 'compact';
}

/** Tokens of one turn or conversation, from Codex's `thread/tokenUsage/updated`. */
export interface TokenCounts {
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  reasoningOutputTokens: number;
  totalTokens: number;
}

/** Set on a turn's end when Codex reported token usage during it (what this turn used). */
interface TurnUsageOf {
  usage?: TokenCounts;
}

export type ToolKind =
  | 'command'
  | 'fileChange'
  | 'mcpToolCall'
  | 'dynamicToolCall'
  | 'reasoning'
  | 'plan'
  | 'diff'
  | 'webSearch'
  /** A `/codex review`: target, then the review's result (`exitedReviewMode.review`). */
  | 'review'
  /** Codex compacting the thread's context (`/codex compact` or automatic). */
  | 'compaction'
  /** An image Codex looked at (`imageView`: `data.path`) or generated (`imageGeneration`: `data.savedPath`, `data.revisedPrompt`). */
  | 'image'
  | 'other';

export type ApprovalKind =
  | 'command'
  | 'fileChange'
  | 'permissions'
  | 'mcpToolApproval'
  | 'mcpForm'
  | 'mcpUrl'
  | 'userInput'
  | 'dynamicTool'
  | 'legacyCommand'
  | 'legacyPatch';

export type RoomEvent =
  /** A participant's message was accepted (durable); everyone in the room sees it, with the verified author. */
  | (Base & { type: 'message.posted'; messageId: string; from: { id: string; name?: string; role?: string }; text: string; attachments: number })
  | (Base & TurnOf & { type: 'turn.started'; turnId: string; threadId: string; model: string | undefined })
  | (Base & TurnOf & TurnUsageOf & { type: 'turn.completed'; turnId: string; threadId: string })
  | (Base & TurnOf & TurnUsageOf & { type: 'turn.failed'; turnId: string | undefined; threadId: string | undefined; error: string })
  | (Base & TurnOf & TurnUsageOf & { type: 'turn.interrupted'; turnId: string; threadId: string; reason: string })
  | (Base & { type: 'message.delta'; turnId: string; itemId: string; delta: string })
  /** `partial`: the turn was interrupted or failed; `text` is what had streamed by then. */
  | (Base & { type: 'message.completed'; turnId: string; itemId: string; text: string; partial?: true })
  | (Base & {
      type: 'tool.started' | 'tool.updated' | 'tool.completed';
      turnId: string;
      /** Stable per tool use; the diff of a turn keeps one id (`diff:<turnId>`) and is updated in place. */
      toolId: string;
      kind: ToolKind;
      title: string;
      status: string | undefined;
      data: Record<string, unknown>;
    })
  | (Base & {
      type: 'approval.requested';
      approvalId: string;
      turnId: string | undefined;
      kind: ApprovalKind;
      title: string;
      /** What and why: the command, the diff, the question, the form fields. */
      detail: Record<string, unknown>;
      /** The decisions a reviewer may send, exactly as offered. */
      choices: string[];
      reviewer: 'user' | 'policy';
      expiresAt: number | undefined;
      /**
       * Who may decide besides room owners and approvers: the conversation's persisted owner
       * and the agent's configured approvers (for display; every decision is still checked).
       */
      deciders?: { owner?: string; approvers: string[] };
    })
  | (Base & {
      type: 'approval.resolved';
      approvalId: string;
      outcome: 'approved' | 'denied' | 'withdrawn' | 'answered';
      decision: string | undefined;
      by: string;
      reason: string;
    })
  /**
   * Codex's own reviewer (appServer.mode "guardian") at work on one request: `inProgress`, then
   * its verdict. `action` is the reviewed action as Codex reported it.
   */
  | (Base & {
      type: 'guardian.review';
      threadId: string;
      turnId: string;
      reviewId: string;
      /** The tool item under review (none for network reviews). */
      targetItemId: string | undefined;
      status: 'inProgress' | 'approved' | 'denied' | 'timedOut' | 'aborted';
      riskLevel: string | undefined;
      userAuthorization: string | undefined;
      rationale: string | undefined;
      title: string;
      action: Record<string, unknown>;
      startedAtMs: number;
      completedAtMs: number | undefined;
      decisionSource: string | undefined;
    })
  | (Base & { type: 'notice'; level: 'info' | 'warning' | 'error'; text: string })
  | (Base & { type: 'usage'; turnId: string; usage: Record<string, unknown> });

export type RoomEventType = RoomEvent['type'];

/** Sink for room events; hosts get an rxjs Observable of these from the supervisor. */
export type RoomEventSink = (event: RoomEvent) => void;
