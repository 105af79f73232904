// The page's reducer: (state, actions) → state, pure from the outside. A batch of actions
// (everything that arrived within one animation frame) copies each touched conversation
// once and then updates that copy, so 2,000 deltas cost 2,000 string appends, not 2,000
// array copies.
import type { HistoryRecord, ServerFrame } from '../frames.js';
import { applyEvent, applyRecord, get, prepend, put, type Ids } from './conversation.js';
import { initialInspect, inspectSnapshot, inspectUpdate } from './inspector.js';
import { emptyConversation, keyOf, viewKey } from './sessions.js';
import { MAX_ERRORS, type Conversation, type LinkStatus, type RoomState } from './types.js';

export type Action =
  | { type: 'status'; status: LinkStatus; detail?: string | undefined }
  | { type: 'frame'; frame: ServerFrame }
  /** This page posted a message to the selected conversation. */
  | { type: 'sent'; text: string; at: number }
  | { type: 'deciding'; approvalId: string; decision: string }
  | { type: 'select'; key: string }
  | { type: 'thread.new'; thread: string }
  | { type: 'models.requested' }
  | { type: 'inspect.toggle'; open: boolean }
  | { type: 'inspect.select'; actor: string | undefined }
  | { type: 'older.requested' }
  | { type: 'error.dismiss'; id: number };

export function initialState(home: { channel: string; thread: string }): RoomState {
  return {
    status: 'connecting',
    statusDetail: undefined,
    room: undefined,
    me: undefined,
    participants: [],
    inspector: false,
    conversations: {},
    selected: undefined,
    historyBefore: undefined,
    loadingOlder: false,
    approvalSession: {},
    models: { state: 'idle', list: [], note: undefined },
    inspect: initialInspect(),
    errors: [],
    awaiting: [],
    counter: 0,
    home,
  };
}

/** Copy-on-write access to one batch's state. */
class Draft implements Ids {
  private readonly owned = new Set<Conversation>();
  private conversationsOwned = false;

  constructor(public s: RoomState) {}

  next(): number {
    this.s.counter += 1;
    return this.s.counter;
  }

  conv(key: string): Conversation {
    if (!this.conversationsOwned) {
      this.s.conversations = { ...this.s.conversations };
      this.conversationsOwned = true;
    }
    let c = this.s.conversations[key];
    if (c && this.owned.has(c)) return c;
    c = c ? { ...c, entries: [...c.entries], index: { ...c.index } } : emptyConversation(key);
    this.owned.add(c);
    this.s.conversations[key] = c;
    return c;
  }

  resetConversations(): void {
    this.s.conversations = {};
    this.conversationsOwned = true;
    this.s.approvalSession = {};
  }

  key(session: string): string {
    return viewKey(session, this.s.me?.id);
  }

  error(text: string): void {
    this.s.errors = [...this.s.errors, { id: this.next(), text }].slice(-MAX_ERRORS);
  }
}

function applyHistory(d: Draft, records: HistoryRecord[], older: boolean): void {
  if (!older) {
    for (const r of records) applyRecord(d.conv(d.key(r.session)), r);
    return;
  }
  // An older page: build each conversation's older part alone, then put it in front.
  const parts = new Map<string, Conversation>();
  for (const r of records) {
    const key = d.key(r.session);
    let c = parts.get(key);
    if (!c) parts.set(key, (c = emptyConversation(key)));
    applyRecord(c, r);
  }
  for (const [key, part] of parts) prepend(d.conv(key), part.entries);
}

function ensureSelected(d: Draft): void {
  const s = d.s;
  if (!s.room) return;
  if (!s.selected) s.selected = keyOf(s.room, s.home.channel, s.home.thread);
  if (!s.conversations[s.selected]) d.conv(s.selected);
}

function onFrame(d: Draft, f: ServerFrame): void {
  const s = d.s;
  switch (f.type) {
    case 'joined': {
      const fresh = !f.resumed || s.room !== f.room;
      s.room = f.room;
      s.me = { id: f.participant.id, name: f.participant.name, role: f.participant.role };
      s.participants = f.participants ?? s.participants;
      s.inspector = f.inspector;
      s.status = 'online';
      s.statusDetail = undefined;
      s.awaiting = [];
      s.loadingOlder = false;
      if (fresh) {
        // A new server epoch (or a drop too long to replay): rebuild from history, so nothing doubles.
        d.resetConversations();
        s.historyBefore = f.historyBefore;
        applyHistory(d, f.history, false);
      }
      for (const e of f.pending) {
        const key = d.key(e.session);
        s.approvalSession = { ...s.approvalSession, [e.approvalId]: key };
        applyEvent(d.conv(key), e, d);
      }
      ensureSelected(d);
      return;
    }
    case 'event': {
      const e = f.event;
      if (!e) return;
      const key = d.key(e.session);
      if (e.type === 'approval.requested') s.approvalSession = { ...s.approvalSession, [e.approvalId]: key };
      applyEvent(d.conv(key), e, d);
      return;
    }
    case 'history':
      applyHistory(d, f.records, true);
      s.historyBefore = f.before;
      s.loadingOlder = false;
      return;
    case 'decided': {
      const key = s.approvalSession[f.approvalId];
      const c = key !== undefined ? d.conv(key) : undefined;
      const a = c ? get(c, `a:${f.approvalId}`, 'approval') : undefined;
      if (c && a) put(c, { ...a, sent: { decision: a.sent?.decision ?? '', ok: f.ok, reason: f.reason } });
      else if (!f.ok) d.error(`Decision refused: ${f.reason ?? 'no reason given'}`);
      return;
    }
    case 'error': {
      const head = s.awaiting[0];
      if (head && (f.code === 'unavailable' || f.code === 'forbidden')) {
        s.awaiting = s.awaiting.slice(1);
        if (head === 'models') s.models = { state: 'unavailable', list: [], note: f.error };
        else s.inspect = { ...s.inspect, error: f.error };
        return;
      }
      d.error(f.error);
      return;
    }
    case 'models':
      s.awaiting = dropFirst(s.awaiting, 'models');
      s.models = { state: 'ready', list: f.models, note: f.note };
      return;
    case 'presence':
      s.participants = f.participants;
      return;
    case 'inspect':
      s.awaiting = dropFirst(s.awaiting, 'inspect');
      s.inspect = inspectSnapshot(s.inspect, f.actors, f.events);
      return;
    case 'inspect.update':
      s.inspect = inspectUpdate(s.inspect, f.actors, f.removed, f.events, f.dropped);
      return;
  }
}

function dropFirst<T>(list: T[], item: T): T[] {
  const i = list.indexOf(item);
  return i < 0 ? list : [...list.slice(0, i), ...list.slice(i + 1)];
}

function onAction(d: Draft, a: Action): void {
  const s = d.s;
  switch (a.type) {
    case 'status':
      s.status = a.status;
      s.statusDetail = a.detail;
      return;
    case 'frame':
      return onFrame(d, a.frame);
    case 'sent': {
      if (!s.selected || !s.me) return;
      const c = d.conv(s.selected);
      put(c, { kind: 'user', id: `l:${d.next()}`, author: { id: s.me.id, name: s.me.name }, text: a.text, at: a.at, local: true });
      return;
    }
    case 'deciding': {
      const key = s.approvalSession[a.approvalId];
      if (key === undefined) return;
      const c = d.conv(key);
      const e = get(c, `a:${a.approvalId}`, 'approval');
      if (e) put(c, { ...e, sent: { decision: a.decision, ok: undefined, reason: undefined } });
      return;
    }
    case 'select':
      s.selected = a.key;
      d.conv(a.key);
      return;
    case 'thread.new': {
      if (!s.room) return;
      const key = keyOf(s.room, s.home.channel, a.thread);
      d.conv(key);
      s.selected = key;
      return;
    }
    case 'models.requested':
      s.awaiting = [...s.awaiting, 'models'];
      s.models = { ...s.models, state: s.models.state === 'ready' ? 'ready' : 'loading' };
      return;
    case 'inspect.toggle':
      s.inspect = a.open ? { ...s.inspect, open: true, error: undefined } : { ...initialInspect() };
      if (a.open) s.awaiting = [...s.awaiting, 'inspect'];
      return;
    case 'inspect.select':
      s.inspect = { ...s.inspect, selected: a.actor };
      return;
    case 'older.requested':
      s.loadingOlder = true;
      return;
    case 'error.dismiss':
      s.errors = s.errors.filter((e) => e.id !== a.id);
      return;
  }
}

export function reduce(state: RoomState, actions: readonly Action[]): RoomState {
  if (!actions.length) return state;
  const d = new Draft({ ...state });
  for (const a of actions) onAction(d, a);
  return d.s;
}
