// Token usage per turn and per conversation, from the `usage` room events (Codex's
// `thread/tokenUsage/updated`). Codex reports the thread's running total and the last model
// request's usage; a turn's usage is the growth of the total over the turn (robust to Codex
// reporting more than once per request). The ledger sits on the harness's event sink: it
// stamps each turn's end with the turn's usage and answers `/usage`.
import { z } from 'zod';
import type { RoomEvent, TokenCounts } from '../events/room-events.js';

const count = z.number().int().nonnegative().catch(0);
const BreakdownSchema = z.looseObject({
  inputTokens: count,
  cachedInputTokens: count,
  outputTokens: count,
  reasoningOutputTokens: count,
  totalTokens: count,
});
const ThreadUsageSchema = z.looseObject({
  last: BreakdownSchema,
  total: BreakdownSchema,
  modelContextWindow: z.number().int().positive().nullable().optional().catch(null),
});

const KEYS = ['inputTokens', 'cachedInputTokens', 'outputTokens', 'reasoningOutputTokens', 'totalTokens'] as const;
const zero = (): TokenCounts => ({ inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, reasoningOutputTokens: 0, totalTokens: 0 });
const pick = (b: TokenCounts): TokenCounts => Object.fromEntries(KEYS.map((k) => [k, b[k]])) as unknown as TokenCounts;
const combine = (a: TokenCounts, b: TokenCounts, sign: 1 | -1): TokenCounts =>
  Object.fromEntries(KEYS.map((k) => [k, Math.max(0, a[k] + sign * b[k])])) as unknown as TokenCounts;

interface ConversationUsage {
  /** The running turn: the thread total before it, and the latest total. */
  turn: { turnId: string; base: TokenCounts; latest: TokenCounts } | undefined;
  lastTurn: TokenCounts | undefined;
  /** The Codex thread's own total (as of the last report). */
  thread: TokenCounts | undefined;
  /** Sum of this conversation's turns in this process (survives /new). */
  conversation: TokenCounts;
  turns: number;
  contextWindow: number | undefined;
}

export interface UsageLedgerOptions {
  /** Conversations remembered (least recently used forgotten first). */
  maxConversations?: number;
}

export class UsageLedger {
  private readonly bySession = new Map<string, ConversationUsage>();
  private readonly max: number;

  constructor(opts: UsageLedgerOptions = {}) {
    this.max = opts.maxConversations ?? 10_000;
  }

  /** Observe a room event; a turn's end comes back stamped with the turn's usage. */
  observe(e: RoomEvent): RoomEvent {
    if (e.type === 'usage') {
      this.onUsage(e.session, e.turnId, e.usage);
      return e;
    }
    if (e.type !== 'turn.completed' && e.type !== 'turn.failed' && e.type !== 'turn.interrupted') return e;
    const c = this.bySession.get(e.session);
    if (!c?.turn || (e.turnId !== undefined && c.turn.turnId !== e.turnId)) return e;
    const usage = combine(c.turn.latest, c.turn.base, -1);
    c.turn = undefined;
    c.lastTurn = usage;
    c.conversation = combine(c.conversation, usage, 1);
    c.turns += 1;
    return { ...e, usage };
  }

  usageOf(session: string): Readonly<ConversationUsage> | undefined {
    return this.bySession.get(session);
  }

  /** The `/usage` answer. */
  text(session: string): string {
    const c = this.bySession.get(session);
    if (!c) return 'Token usage: none reported yet in this conversation.';
    const lines = ['Token usage:'];
    if (c.turn) lines.push(`  running turn: ${countsText(combine(c.turn.latest, c.turn.base, -1))}`);
    if (c.lastTurn) lines.push(`  last turn: ${countsText(c.lastTurn)}`);
    lines.push(`  this conversation (${c.turns} turn${c.turns === 1 ? '' : 's'}): ${countsText(c.conversation)}`);
    if (c.thread) {
      const window = c.contextWindow ? ` · context window ${c.contextWindow.toLocaleString('en-US')}` : '';
      lines.push(`  Codex thread total: ${countsText(c.thread)}${window}`);
    }
    return lines.join('\n');
  }

  private onUsage(session: string, turnId: string, raw: Record<string, unknown>): void {
    const r = ThreadUsageSchema.safeParse(raw);
    if (!r.success) return;
    const total = pick(r.data.total);
    const c = this.entry(session);
    if (c.turn?.turnId !== turnId) c.turn = { turnId, base: combine(total, pick(r.data.last), -1), latest: total };
    else c.turn.latest = total;
    c.thread = total;
    if (r.data.modelContextWindow) c.contextWindow = r.data.modelContextWindow;
  }

  private entry(session: string): ConversationUsage {
    let c = this.bySession.get(session);
    if (c) {
      this.bySession.delete(session); // re-insert: most recently used last
    } else {
      c = { turn: undefined, lastTurn: undefined, thread: undefined, conversation: zero(), turns: 0, contextWindow: undefined };
      if (this.bySession.size >= this.max) this.bySession.delete(this.bySession.keys().next().value!);
    }
    this.bySession.set(session, c);
    return c;
  }
}

const n = (v: number): string => v.toLocaleString('en-US');

export function countsText(c: TokenCounts): string {
  const cached = c.cachedInputTokens ? ` (${n(c.cachedInputTokens)} cached)` : '';
  const reasoning = c.reasoningOutputTokens ? ` (${n(c.reasoningOutputTokens)} reasoning)` : '';
  return `${n(c.totalTokens)} tokens — ${n(c.inputTokens)} in${cached}, ${n(c.outputTokens)} out${reasoning}`;
}
