// One conversation's timeline: live room events and stored history records → entries.
// These functions update a DRAFT conversation in place (reduce.ts hands them a copy it owns,
// once per batch), so a burst of deltas costs one array copy per frame, not one per delta.
import type { GuardianReview, HistoryRecord, RoomEvent, ToolEvent } from '../frames.js';
import type { ApprovalEntry, ApprovalState, AssistantEntry, Conversation, Entry, ToolEntry, TurnEntry, TurnStatus } from './types.js';
import { applyToolEvent, toolFromRecord } from './tools.js';

export interface Ids {
  /** A fresh id for entries that have none of their own (notices, local messages). */
  next(): number;
}

export function put(c: Conversation, e: Entry): void {
  const i = c.index[e.id];
  if (i === undefined) {
    c.index[e.id] = c.entries.length;
    c.entries.push(e);
  } else {
    c.entries[i] = e;
  }
  if (e.at > c.lastAt) c.lastAt = e.at;
}

export function get<K extends Entry['kind']>(c: Conversation, id: string, kind: K): Extract<Entry, { kind: K }> | undefined {
  const i = c.index[id];
  const e = i === undefined ? undefined : c.entries[i];
  return e && e.kind === kind ? (e as Extract<Entry, { kind: K }>) : undefined;
}

export const turnStatusOf = (s: string | undefined): TurnStatus | undefined =>
  s === 'completed' || s === 'failed' || s === 'interrupted' || s === 'running' ? s : undefined;

const APPROVAL_STATES: readonly string[] = ['pending', 'approved', 'denied', 'withdrawn', 'answered'];
const approvalStateOf = (outcome: string): ApprovalState => (APPROVAL_STATES.includes(outcome) ? (outcome as ApprovalState) : 'denied');

/** The turn's entry, created where the turn is first seen (its start, or its first item). */
function ensureTurn(c: Conversation, turnId: string, at: number, status: TurnStatus | undefined): TurnEntry {
  const id = `turn:${turnId}`;
  let t = get(c, id, 'turn');
  if (!t) {
    t = { kind: 'turn', id, turnId, status, model: undefined, error: undefined, usage: undefined, at };
    put(c, t);
    c.lastTurn = turnId;
  }
  return t;
}

function setTurn(c: Conversation, turnId: string, at: number, patch: Partial<Pick<TurnEntry, 'status' | 'model' | 'error' | 'usage'>>): void {
  const t = ensureTurn(c, turnId, at, undefined);
  put(c, { ...t, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) });
}

/** A turn ended: nothing of it streams any more. */
function endStreams(c: Conversation, turnId: string, partial: boolean): void {
  c.entries.forEach((e, i) => {
    if (e.kind === 'assistant' && e.streaming && e.turnId === turnId) c.entries[i] = { ...e, streaming: false, partial: e.partial || partial };
  });
}

function liveTurn(c: Conversation, turnId: string, at: number): void {
  // An item of a turn whose start this page did not see (joined mid-turn): it runs.
  const t = ensureTurn(c, turnId, at, 'running');
  if (t.status === undefined) put(c, { ...t, status: 'running' });
  c.lastTurn = turnId;
}

function assistantDelta(c: Conversation, e: Extract<RoomEvent, { type: 'message.delta' }>): void {
  const id = `m:${e.itemId}`;
  const m = get(c, id, 'assistant');
  if (m) {
    put(c, { ...m, text: m.text + e.delta, streaming: true });
    return;
  }
  liveTurn(c, e.turnId, e.at);
  put(c, { kind: 'assistant', id, itemId: e.itemId, turnId: e.turnId, text: e.delta, streaming: true, partial: false, at: e.at });
}

function assistantCompleted(c: Conversation, e: Extract<RoomEvent, { type: 'message.completed' }>): void {
  const id = `m:${e.itemId}`;
  const m = get(c, id, 'assistant');
  if (m) {
    put(c, { ...m, text: e.text, streaming: false, partial: e.partial === true });
    return;
  }
  // Already in the history page this page joined with (stored just before the join).
  const dup = c.entries.some((x) => x.kind === 'assistant' && x.turnId === e.turnId && x.text === e.text);
  if (dup) return;
  liveTurn(c, e.turnId, e.at);
  put(c, { kind: 'assistant', id, itemId: e.itemId, turnId: e.turnId, text: e.text, streaming: false, partial: e.partial === true, at: e.at });
}

function tool(c: Conversation, e: ToolEvent): void {
  const id = `t:${e.toolId}`;
  if (!get(c, id, 'tool')) liveTurn(c, e.turnId, e.at);
  put(c, applyToolEvent(get(c, id, 'tool'), id, e));
}

function approvalRequested(c: Conversation, e: Extract<RoomEvent, { type: 'approval.requested' }>): void {
  const id = `a:${e.approvalId}`;
  const prev = get(c, id, 'approval');
  if (e.turnId) liveTurn(c, e.turnId, e.at);
  const entry: ApprovalEntry = prev
    ? { ...prev, request: e, approvalKind: e.kind, title: e.title }
    : { kind: 'approval', id, approvalId: e.approvalId, approvalKind: e.kind, title: e.title, request: e, state: 'pending', resolution: undefined, sent: undefined, at: e.at };
  put(c, entry);
}

function approvalResolved(c: Conversation, r: { approvalId: string; outcome: string; decision: string | undefined; by: string; reason: string; at: number; approvalKind?: string | undefined }): void {
  const id = `a:${r.approvalId}`;
  const prev = get(c, id, 'approval');
  const resolution = { outcome: r.outcome, decision: r.decision, by: r.by, reason: r.reason, at: r.at };
  const state = approvalStateOf(r.outcome);
  put(
    c,
    prev
      ? { ...prev, state, resolution }
      : {
          kind: 'approval',
          id,
          approvalId: r.approvalId,
          approvalKind: r.approvalKind ?? 'approval',
          title: 'Approval',
          request: undefined,
          state,
          resolution,
          sent: undefined,
          at: r.at,
        },
  );
}

/**
 * Someone's message, as the room accepted it. The sender's own page shows it at once (a local
 * entry); the accepted message takes that entry's place instead of appearing twice.
 */
function posted(c: Conversation, e: Extract<RoomEvent, { type: 'message.posted' }>): void {
  const id = `p:${e.messageId}`;
  if (c.index[id] !== undefined) return;
  const author = { id: e.from.id, name: e.from.name };
  const i = c.entries.findIndex((x) => x.kind === 'user' && x.local && x.author.id === e.from.id && x.text.trim() === e.text.trim());
  if (i >= 0) {
    delete c.index[c.entries[i]!.id];
    c.entries[i] = { kind: 'user', id, author, text: e.text, at: c.entries[i]!.at, local: false };
    c.index[id] = i;
    return;
  }
  put(c, { kind: 'user', id, author, text: e.text, at: e.at, local: false });
}

/** A live room event of this conversation. */
export function applyEvent(c: Conversation, e: RoomEvent, ids: Ids): void {
  switch (e.type) {
    case 'message.posted':
      return posted(c, e);
    case 'turn.started':
      liveTurn(c, e.turnId, e.at);
      setTurn(c, e.turnId, e.at, { status: 'running', model: e.model });
      if (e.model) c.model = e.model;
      return;
    case 'turn.completed':
      setTurn(c, e.turnId, e.at, { status: 'completed', usage: e.usage });
      return endStreams(c, e.turnId, false);
    case 'turn.interrupted':
      setTurn(c, e.turnId, e.at, { status: 'interrupted', error: e.reason || undefined, usage: e.usage });
      return endStreams(c, e.turnId, true);
    case 'turn.failed': {
      const turnId = e.turnId ?? c.lastTurn;
      if (turnId) {
        setTurn(c, turnId, e.at, { status: 'failed', error: e.error, usage: e.usage });
        endStreams(c, turnId, true);
      } else {
        put(c, { kind: 'notice', id: `n:${ids.next()}`, level: 'error', text: `Turn failed: ${e.error}`, at: e.at });
      }
      return;
    }
    case 'message.delta':
      return assistantDelta(c, e);
    case 'message.completed':
      return assistantCompleted(c, e);
    case 'tool.started':
    case 'tool.updated':
    case 'tool.completed':
      return tool(c, e);
    case 'approval.requested':
      return approvalRequested(c, e);
    case 'approval.resolved':
      return approvalResolved(c, e);
    case 'notice':
      put(c, { kind: 'notice', id: `n:${ids.next()}`, level: e.level, text: e.text, at: e.at });
      return;
    case 'usage':
      return;
    case 'guardian.review':
      return guardianReview(c, e);
  }
}

/** One card per review: `inProgress` first, then the same card shows the verdict. */
function guardianReview(c: Conversation, e: GuardianReview): void {
  liveTurn(c, e.turnId, e.at);
  const id = `g:${e.reviewId}`;
  const prev = get(c, id, 'guardian');
  const { reviewId, turnId, title, status, riskLevel, rationale, decisionSource } = e;
  put(c, { kind: 'guardian', id, reviewId, turnId, title, status, riskLevel, rationale, decisionSource, at: prev?.at ?? e.at });
}

/** A stored history record of this conversation (oldest first). */
export function applyRecord(c: Conversation, r: HistoryRecord): void {
  switch (r.kind) {
    case 'message': {
      if (r.role === 'user') {
        const author = { id: r.author?.id ?? 'user', name: r.author?.name };
        put(c, { kind: 'user', id: `u:${r.seq}`, author, text: r.text, at: r.at, local: false });
        return;
      }
      if (r.turnId) ensureTurn(c, r.turnId, r.at, undefined);
      const m: AssistantEntry = { kind: 'assistant', id: `mh:${r.seq}`, itemId: undefined, turnId: r.turnId, text: r.text, streaming: false, partial: r.partial === true, at: r.at };
      put(c, m);
      return;
    }
    case 'tool': {
      if (r.turnId) ensureTurn(c, r.turnId, r.at, undefined);
      const id = `t:${r.toolId}`;
      put(c, toolFromRecord(get(c, id, 'tool') as ToolEntry | undefined, id, r));
      return;
    }
    case 'approval':
      return approvalResolved(c, r);
    case 'model':
      c.model = r.model;
      put(c, { kind: 'notice', id: `n:h${r.seq}`, level: 'info', text: `Model: ${r.model}`, at: r.at });
      return;
    case 'harness':
      put(c, { kind: 'notice', id: `n:h${r.seq}`, level: 'info', text: `Harness: ${r.harness}${r.reason ? ` (${r.reason})` : ''}`, at: r.at });
      return;
    case 'notice':
      put(c, { kind: 'notice', id: `n:h${r.seq}`, level: r.level, text: r.text, at: r.at });
      return;
    case 'turn':
      setTurn(c, r.turnId, r.at, { status: turnStatusOf(r.status), error: r.error });
      c.lastTurn = r.turnId;
      return;
  }
}

/**
 * Older entries (a history page) in front of the current ones; an entry already shown keeps
 * its content, except that a turn's marker moves up to where the turn really starts.
 */
export function prepend(c: Conversation, older: Entry[]): void {
  const moved = new Set<string>();
  const fresh = older.flatMap((e) => {
    const i = c.index[e.id];
    if (i === undefined) return [e];
    if (e.kind !== 'turn') return [];
    moved.add(e.id);
    return [c.entries[i]!];
  });
  c.entries = [...fresh, ...c.entries.filter((e) => !moved.has(e.id))];
  c.index = {};
  c.entries.forEach((e, i) => (c.index[e.id] = i));
}
