// Translation between the room and Codex, in plain code.
//
// - `toTurnInput` (./input.ts): a room message → the `input` array of `turn/start` / `turn/steer`.
// - `TurnTranslator`: the notifications of one thread → room events. This is the hot path:
//   `item/agentMessage/delta` goes straight to the sink (no machine transition); only
//   lifecycle facts (turn started/completed, item started/completed, waiting on a person,
//   and a throttled "still alive" tick for the watchdog) are signalled to the turn machine.
import type { InboundNotification } from '../protocol/notifications.js';
import type { RoomEvent, RoomEventSink, ToolKind } from '../events/room-events.js';
import { guardianEventsOf } from '../approvals/native-guardian.js';
import { cleanText, describeTool, errorText, LIMIT_TEXTS, limitKindOf, oneLine, turnIdOfTurn } from './item-text.js';

// Room message → turn input lives in ./input.ts (the boundary checks); re-exported for callers.
export { toTurnInput, type Attachment, type RoomMessage, type TranslatedInput, type TurnInputOptions } from './input.js';

// ---------------------------------------------------------------------------------------
// Notifications → room events

/** What the translator tells the turn machine. Deltas never become signals. */
export type StreamSignal =
  | { type: 'TURN.STARTED'; turnId: string }
  | { type: 'TURN.COMPLETED'; turnId: string; status: string; error: string | undefined }
  | { type: 'ITEM'; phase: 'started' | 'completed'; itemType: string; itemId: string }
  /** Throttled: some notification arrived (resets the idle watchdog). */
  | { type: 'ACTIVITY' }
  /** The thread waits on a person (approval, user input): the idle watchdog pauses. */
  | { type: 'WAITING'; waiting: boolean };

export interface TranslatorOptions {
  /** `session` of every room event. */
  session: string;
  sink: RoomEventSink;
  signal: (s: StreamSignal) => void;
  /** At most one ACTIVITY signal per this many ms. */
  activityThrottleMs: number;
  /** The clock of the room events' `at` and of the activity throttle (default `Date.now`). */
  now?: () => number;
  /** Cap on notifications buffered before the turn id is known. */
  maxBuffered?: number;
  onDropped?: (method: string, why: string) => void;
}

interface OpenTool {
  kind: ToolKind;
  title: string;
  data: Record<string, unknown>;
}

type Params = Record<string, unknown>;

/** Thread items that are not tools (they become messages or nothing). */
const NOT_TOOLS = new Set(['userMessage', 'agentMessage', 'hookPrompt']);

export class TurnTranslator {
  private turnId: string | undefined;
  private buffer: InboundNotification[] = [];
  private finished = false;
  private lastSignalAt = 0;
  private waiting = false;
  private lastError: string | undefined;
  private readonly open = new Map<string, OpenTool>();
  private diff: string | undefined;
  private plan: Record<string, unknown> | undefined;
  /** Streamed text of agent messages not yet completed: kept (bounded) so an interrupted or failed turn's partial answer is stored. */
  private readonly partial = new Map<string, string>();
  /** A usage/rate limit notice was already given for this turn. */
  private limitNoticed = false;
  private readonly session: string;
  private readonly now: () => number;
  private readonly sink: RoomEventSink;
  private readonly signal: (s: StreamSignal) => void;
  private readonly throttleMs: number;

  constructor(private readonly opts: TranslatorOptions) {
    this.session = opts.session;
    this.now = opts.now ?? Date.now;
    this.sink = opts.sink;
    this.signal = opts.signal;
    this.throttleMs = opts.activityThrottleMs;
  }

  get boundTurnId(): string | undefined {
    return this.turnId;
  }

  get buffered(): number {
    return this.buffer.length;
  }

  /** Hot path: every notification of the thread. */
  readonly handle = (n: InboundNotification): void => {
    const turnId = this.turnId;
    if (turnId === undefined) {
      // The turn/start response is not in yet, but Codex may already be streaming.
      if (this.buffer.length >= (this.opts.maxBuffered ?? 100_000)) {
        this.opts.onDropped?.(n.method, 'buffer full before the turn id was known');
        return;
      }
      this.buffer.push(n);
      return;
    }
    if (this.finished) return;
    if (n.method === 'item/agentMessage/delta') {
      // A delta that failed its schema (counted and logged by the engine) never reaches the room.
      if (!n.valid) return;
      const p = n.params as { turnId: string; itemId: string; delta: string };
      if (p.turnId !== turnId) return;
      const at = this.deltaAt();
      const { itemId, delta } = p;
      const sofar = this.partial.get(itemId) ?? '';
      if (sofar.length < MAX_PARTIAL_CHARS) this.partial.set(itemId, sofar + delta.slice(0, MAX_PARTIAL_CHARS - sofar.length));
      this.sink({ type: 'message.delta', session: this.session, at, turnId, itemId, delta });
      if (at - this.lastSignalAt >= this.throttleMs) {
        this.lastSignalAt = at;
        this.signal({ type: 'ACTIVITY' });
      }
      return;
    }
    this.handleOther(n, turnId);
  };

  /**
   * The `at` of a delta: read once per synchronous burst (the lines of one stdout chunk arrive
   * together) instead of once per delta — a clock read costs 0.07–0.14 µs on a VM's kvm-clock,
   * a tenth of a delta's whole path. Other events read the clock themselves.
   */
  private deltaAt(): number {
    let at = this.burstAt;
    if (at === undefined) {
      at = this.burstAt = this.now();
      queueMicrotask(this.endBurst);
    }
    return at;
  }

  private burstAt: number | undefined;
  private readonly endBurst = (): void => {
    this.burstAt = undefined;
  };

  /** The turn id is known: replay what was buffered (only this turn's notifications). */
  bind(turnId: string): void {
    if (this.turnId !== undefined) return;
    this.turnId = turnId;
    const buffered = this.buffer;
    this.buffer = [];
    for (const n of buffered) this.handle(n);
  }

  /**
   * The turn is over without (or before) `turn/completed`: close every open tool so no
   * room shows a spinner forever. Idempotent; later notifications are ignored.
   */
  finish(status: string, reason?: string): void {
    if (this.finished) return;
    this.finished = true;
    const turnId = this.turnId;
    if (turnId === undefined) return;
    const at = this.now();
    // What the person already saw streaming stays in the history, marked partial.
    if (status !== 'completed') {
      for (const [itemId, text] of this.partial) {
        if (text) this.sink({ type: 'message.completed', session: this.session, at, turnId, itemId, text, partial: true });
      }
    }
    this.partial.clear();
    for (const [toolId, t] of this.open) {
      this.emitTool('tool.completed', turnId, toolId, t.kind, t.title, status, reason ? { ...t.data, reason } : t.data, at);
    }
    this.open.clear();
    if (this.plan) this.emitTool('tool.completed', turnId, `plan:${turnId}`, 'plan', 'Plan', 'completed', this.plan, at);
    if (this.diff !== undefined) {
      this.emitTool('tool.completed', turnId, `diff:${turnId}`, 'diff', 'Changes', 'completed', { diff: this.diff }, at);
    }
  }

  private handleOther(n: InboundNotification, turnId: string): void {
    const p = n.params;
    const nTurn = typeof p.turnId === 'string' ? p.turnId : turnIdOfTurn(p);
    if (nTurn !== undefined && nTurn !== turnId) {
      this.opts.onDropped?.(n.method, `belongs to turn ${nTurn}`);
      return;
    }
    const at = this.now();
    switch (n.method) {
      case 'turn/started':
        this.lastSignalAt = at;
        this.signal({ type: 'TURN.STARTED', turnId });
        return;
      case 'turn/completed': {
        const turn = (p.turn ?? {}) as { status?: unknown; error?: { message?: unknown; additionalDetails?: unknown; codexErrorInfo?: unknown } | null };
        const status = typeof turn.status === 'string' ? turn.status : 'completed';
        this.limitNotice(turn.error?.codexErrorInfo, at);
        const error = errorText(turn.error) ?? (status === 'failed' ? this.lastError : undefined);
        this.finish(status === 'completed' ? 'completed' : status);
        this.signal({ type: 'TURN.COMPLETED', turnId, status, error });
        return;
      }
      case 'item/started':
      case 'item/completed':
        this.onItem(n.method === 'item/started' ? 'started' : 'completed', p.item as Params | undefined, turnId, at);
        return;
      case 'turn/diff/updated': {
        if (typeof p.diff !== 'string' || p.diff === this.diff) break;
        const first = this.diff === undefined;
        this.diff = p.diff;
        this.emitTool(first ? 'tool.started' : 'tool.updated', turnId, `diff:${turnId}`, 'diff', 'Changes', 'inProgress', { diff: p.diff }, at);
        break;
      }
      case 'turn/plan/updated': {
        const first = this.plan === undefined;
        this.plan = { explanation: p.explanation ?? null, plan: p.plan ?? [] };
        this.emitTool(first ? 'tool.started' : 'tool.updated', turnId, `plan:${turnId}`, 'plan', 'Plan', 'inProgress', this.plan, at);
        break;
      }
      case 'thread/tokenUsage/updated':
        if (p.tokenUsage && typeof p.tokenUsage === 'object') {
          this.sink({ type: 'usage', session: this.session, at, turnId, usage: p.tokenUsage as Record<string, unknown> });
        }
        break;
      case 'error': {
        const error = p.error as { message?: unknown; codexErrorInfo?: unknown } | undefined;
        const message = errorText(error) ?? 'unknown error';
        if (p.willRetry !== true) this.limitNotice(error?.codexErrorInfo, at);
        if (p.willRetry === true) {
          this.sink({ type: 'notice', session: this.session, at, level: 'warning', text: `Codex: ${message}` });
        } else {
          this.lastError = message;
        }
        break;
      }
      case 'model/rerouted': {
        const from = cleanText(p.fromModel, 80) || '?';
        const to = cleanText(p.toModel, 80) || '?';
        const reason = cleanText(p.reason, 80);
        this.sink({ type: 'notice', session: this.session, at, level: 'warning', text: `Codex switched this turn from model ${from} to ${to}${reason ? ` (${reason})` : ''}.` });
        break;
      }
      case 'thread/status/changed': {
        const status = p.status as { type?: unknown; activeFlags?: unknown } | undefined;
        const waiting = status?.type === 'active' && Array.isArray(status.activeFlags) && status.activeFlags.length > 0;
        if (waiting !== this.waiting) {
          this.waiting = waiting;
          this.lastSignalAt = at;
          this.signal({ type: 'WAITING', waiting });
          return;
        }
        break;
      }
      // Codex's own reviewer at work (appServer.mode "guardian").
      case 'item/autoApprovalReview/started':
      case 'item/autoApprovalReview/completed':
      case 'guardianWarning':
        for (const e of guardianEventsOf(n.method, p, this.session, at)) this.sink(e);
        break;
      case 'item/commandExecution/outputDelta':
      case 'item/fileChange/outputDelta':
        this.onToolDelta(p, turnId, { outputDelta: p.delta }, at);
        break;
      case 'item/reasoning/summaryTextDelta':
        this.onToolDelta(p, turnId, { summaryDelta: p.delta, summaryIndex: p.summaryIndex }, at);
        break;
      case 'item/reasoning/textDelta':
        this.onToolDelta(p, turnId, { textDelta: p.delta }, at);
        break;
      case 'item/plan/delta':
        this.onToolDelta(p, turnId, { planDelta: p.delta }, at);
        break;
      case 'item/mcpToolCall/progress':
        this.onToolDelta(p, turnId, { progress: p.message }, at);
        break;
      case 'item/fileChange/patchUpdated':
        this.onToolDelta(p, turnId, { changes: p.changes }, at);
        break;
      case 'item/commandExecution/terminalInteraction':
        this.onToolDelta(p, turnId, { stdin: p.stdin }, at);
        break;
      default:
        break;
    }
    if (at - this.lastSignalAt >= this.throttleMs) {
      this.lastSignalAt = at;
      this.signal({ type: 'ACTIVITY' });
    }
  }

  /** Once per turn: the account's usage or rate limit stopped it (`codexErrorInfo`). */
  private limitNotice(info: unknown, at: number): void {
    const text = LIMIT_TEXTS[limitKindOf(info) ?? ''];
    if (!text || this.limitNoticed) return;
    this.limitNoticed = true;
    this.sink({ type: 'notice', session: this.session, at, level: 'error', text });
  }

  private onItem(phase: 'started' | 'completed', item: Params | undefined, turnId: string, at: number): void {
    if (!item || typeof item.type !== 'string' || typeof item.id !== 'string') return;
    const itemId = item.id;
    if (item.type === 'enteredReviewMode' || item.type === 'exitedReviewMode') {
      this.onReviewItem(phase, item, turnId, at);
    } else if (item.type === 'agentMessage') {
      if (phase === 'completed') {
        this.partial.delete(itemId);
        this.sink({ type: 'message.completed', session: this.session, at, turnId, itemId, text: typeof item.text === 'string' ? item.text : '' });
      }
    } else if (!NOT_TOOLS.has(item.type)) {
      const { kind, title } = describeTool(item);
      const status = typeof item.status === 'string' ? item.status : phase === 'started' ? 'inProgress' : 'completed';
      if (phase === 'started') {
        this.open.set(itemId, { kind, title, data: item });
        this.emitTool('tool.started', turnId, itemId, kind, title, status, item, at);
      } else {
        this.open.delete(itemId);
        this.emitTool('tool.completed', turnId, itemId, kind, title, status, item, at);
      }
    }
    // Like activity, at most once per throttle window: the machine only restarts its watchdog,
    // and a turn's burst of items would each cost a transition and a timer.
    if (at - this.lastSignalAt >= this.throttleMs) {
      this.lastSignalAt = at;
      this.signal({ type: 'ITEM', phase, itemType: item.type, itemId });
    }
  }

  /**
   * A review is one card (`review:<turnId>`): opened by `enteredReviewMode` (its target),
   * completed by `exitedReviewMode` (its result). The review's text also arrives as an agent message.
   */
  private onReviewItem(phase: 'started' | 'completed', item: Params, turnId: string, at: number): void {
    const toolId = `review:${turnId}`;
    const text = typeof item.review === 'string' ? item.review : '';
    if (item.type === 'enteredReviewMode' && phase === 'started' && !this.open.has(toolId)) {
      const data = { target: text };
      const title = `Review: ${oneLine(text, 200) || 'changes'}`;
      this.open.set(toolId, { kind: 'review', title, data });
      this.emitTool('tool.started', turnId, toolId, 'review', title, 'inProgress', data, at);
    } else if (item.type === 'exitedReviewMode' && phase === 'completed') {
      const open = this.open.get(toolId);
      this.open.delete(toolId);
      const data = { ...(open?.data ?? {}), review: text };
      this.emitTool('tool.completed', turnId, toolId, 'review', open?.title ?? 'Review', 'completed', data, at);
    }
  }

  private onToolDelta(p: Params, turnId: string, data: Record<string, unknown>, at: number): void {
    const itemId = typeof p.itemId === 'string' ? p.itemId : undefined;
    if (!itemId) return;
    const t = this.open.get(itemId);
    this.emitTool('tool.updated', turnId, itemId, t?.kind ?? 'other', t?.title ?? itemId, 'inProgress', data, at);
  }

  private emitTool(
    type: 'tool.started' | 'tool.updated' | 'tool.completed',
    turnId: string,
    toolId: string,
    kind: ToolKind,
    title: string,
    status: string | undefined,
    data: Record<string, unknown>,
    at: number,
  ): void {
    const e: RoomEvent = { type, session: this.session, at, turnId, toolId, kind, title, status, data };
    this.sink(e);
  }
}

/** Cap on the partial answer kept per agent message (what streamed before an interrupt). */
const MAX_PARTIAL_CHARS = 256 * 1024;

export { cleanText } from './item-text.js';
