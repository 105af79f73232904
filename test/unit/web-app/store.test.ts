// The web page's store: server frames (parsed by the page's own frame parser) and local
// actions → the view model. Drives the real reducer with the frames the room server sends.
import { describe, expect, it } from 'vitest';
import { parseFrame, type ServerFrame } from '../../../src/web/app/frames.js';
import { initialState, reduce, type Action } from '../../../src/web/app/state/reduce.js';
import type { Conversation, Entry, RoomState } from '../../../src/web/app/state/types.js';

const S = 'lab/chat/main';
let at = 1_000;

function frame(f: Record<string, unknown>): Action {
  const parsed = parseFrame(JSON.stringify(f));
  if (!parsed) throw new Error(`frame did not parse: ${JSON.stringify(f)}`);
  return { type: 'frame', frame: parsed };
}
const ev = (seq: number, e: Record<string, unknown>) => frame({ type: 'event', seq, event: { session: S, at: at++, ...e } });
const joined = (extra: Record<string, unknown> = {}) =>
  frame({ type: 'joined', room: 'lab', participant: { id: 'ann', name: 'Ann', role: 'member' }, epoch: 'ep1', seq: 0, resumed: false, history: [], pending: [], ...extra });
const rec = (seq: number, r: Record<string, unknown>, session = S) => ({ seq, session, at: at++, ...r });

const start = () => reduce(initialState({ channel: 'chat', thread: 'main' }), [joined()]);
const conv = (s: RoomState, key = S): Conversation => {
  const c = s.conversations[key];
  if (!c) throw new Error(`no conversation ${key}`);
  return c;
};
const kinds = (c: Conversation) => c.entries.map((e) => e.kind);
const find = <K extends Entry['kind']>(c: Conversation, id: string, kind: K) => c.entries.find((e) => e.id === id && e.kind === kind) as Extract<Entry, { kind: K }> | undefined;

describe('web store: streaming', () => {
  it('concatenates deltas per item, replaces them with message.completed and keeps turn state', () => {
    let s = start();
    s = reduce(s, [ev(1, { type: 'turn.started', turnId: 't1', threadId: 'th', model: 'gpt-5.5' })]);
    s = reduce(s, [ev(2, { type: 'message.delta', turnId: 't1', itemId: 'm1', delta: 'Hel' }), ev(3, { type: 'message.delta', turnId: 't1', itemId: 'm1', delta: 'lo' })]);
    const streaming = find(conv(s), 'm:m1', 'assistant')!;
    expect(streaming).toMatchObject({ text: 'Hello', streaming: true, itemId: 'm1' });
    expect(find(conv(s), 'turn:t1', 'turn')).toMatchObject({ status: 'running', model: 'gpt-5.5' });
    s = reduce(s, [ev(4, { type: 'message.completed', turnId: 't1', itemId: 'm1', text: 'Hello!' }), ev(5, { type: 'turn.completed', turnId: 't1', threadId: 'th' })]);
    expect(find(conv(s), 'm:m1', 'assistant')).toMatchObject({ text: 'Hello!', streaming: false });
    expect(find(conv(s), 'turn:t1', 'turn')!.status).toBe('completed');
    expect(kinds(conv(s))).toEqual(['turn', 'assistant']);
  });

  it('applies 2,000 deltas in one batch without losing or doubling text, and leaves earlier state untouched', () => {
    const s0 = reduce(start(), [ev(1, { type: 'turn.started', turnId: 't1', threadId: 'th' })]);
    const before = conv(s0).entries;
    const batch = Array.from({ length: 2000 }, (_, i) => ev(i + 2, { type: 'message.delta', turnId: 't1', itemId: 'm1', delta: `${i},` }));
    const s1 = reduce(s0, batch);
    expect(find(conv(s1), 'm:m1', 'assistant')!.text).toBe(Array.from({ length: 2000 }, (_, i) => `${i},`).join(''));
    expect(conv(s0).entries).toBe(before);
    expect(before).toHaveLength(1);
  });

  it('updates a tool card in place: output deltas appended, the turn diff replaced under one id', () => {
    let s = start();
    const tool = (seq: number, type: string, data: Record<string, unknown>, status = 'inProgress') =>
      ev(seq, { type, turnId: 't1', toolId: 'c1', kind: 'command', title: 'ls', status, data });
    s = reduce(s, [tool(1, 'tool.started', { command: 'ls', cwd: '/w' }), tool(2, 'tool.updated', { outputDelta: 'a\n' }), tool(3, 'tool.updated', { outputDelta: 'b\n' })]);
    expect(find(conv(s), 't:c1', 'tool')).toMatchObject({ done: false, data: { command: 'ls' }, live: { output: 'a\nb\n' } });
    s = reduce(s, [tool(4, 'tool.completed', { command: 'ls', aggregatedOutput: 'a\nb\n', exitCode: 0 }, 'completed')]);
    expect(find(conv(s), 't:c1', 'tool')).toMatchObject({ done: true, status: 'completed', data: { exitCode: 0 } });
    const diff = (seq: number, type: string, d: string) => ev(seq, { type, turnId: 't1', toolId: 'diff:t1', kind: 'diff', title: 'Changes', status: 'inProgress', data: { diff: d } });
    s = reduce(s, [diff(5, 'tool.started', 'one'), diff(6, 'tool.updated', 'two')]);
    const diffs = conv(s).entries.filter((e) => e.kind === 'tool' && e.toolKind === 'diff');
    expect(diffs).toHaveLength(1);
    expect(diffs[0]).toMatchObject({ data: { diff: 'two' } });
  });
});

describe('web store: joins and history', () => {
  const history = [
    rec(1, { kind: 'message', role: 'user', author: { id: 'bob', name: 'Bob' }, text: 'hi' }),
    rec(2, { kind: 'tool', toolId: 'c1', toolKind: 'command', title: 'ls', status: 'completed', turnId: 't1', data: { command: 'ls' } }),
    rec(3, { kind: 'message', role: 'assistant', text: 'done', turnId: 't1' }),
    rec(4, { kind: 'turn', turnId: 't1', status: 'completed' }),
    rec(5, { kind: 'message', role: 'user', author: { id: 'cy' }, text: 'other thread' }, 'lab/chat/side'),
  ];

  it('builds conversations per session key with a turn marker where the turn starts', () => {
    const s = reduce(initialState({ channel: 'chat', thread: 'main' }), [joined({ history })]);
    expect(Object.keys(s.conversations).sort()).toEqual(['lab/chat/main', 'lab/chat/side']);
    expect(kinds(conv(s))).toEqual(['user', 'turn', 'tool', 'assistant']);
    expect(find(conv(s), 'turn:t1', 'turn')!.status).toBe('completed');
    expect(s.selected).toBe(S);
  });

  it('a rejoin that was not resumed rebuilds from history: nothing doubles', () => {
    let s = reduce(initialState({ channel: 'chat', thread: 'main' }), [joined({ history })]);
    s = reduce(s, [{ type: 'sent', text: 'local echo', at: 5 }]);
    s = reduce(s, [joined({ history, epoch: 'ep2' })]);
    expect(kinds(conv(s))).toEqual(['user', 'turn', 'tool', 'assistant']);
  });

  it('a resumed rejoin keeps what was shown and adds the missed events once', () => {
    let s = reduce(initialState({ channel: 'chat', thread: 'main' }), [joined({ history }), ev(1, { type: 'message.delta', turnId: 't2', itemId: 'm2', delta: 'ab' })]);
    s = reduce(s, [joined({ resumed: true, history: [] }), ev(2, { type: 'message.delta', turnId: 't2', itemId: 'm2', delta: 'cd' })]);
    expect(find(conv(s), 'm:m2', 'assistant')!.text).toBe('abcd');
    expect(conv(s).entries.filter((e) => e.kind === 'user')).toHaveLength(1);
  });

  it('a live completion already in the joined history is not shown twice', () => {
    let s = reduce(initialState({ channel: 'chat', thread: 'main' }), [joined({ history })]);
    s = reduce(s, [ev(1, { type: 'message.completed', turnId: 't1', itemId: 'x', text: 'done' })]);
    expect(conv(s).entries.filter((e) => e.kind === 'assistant')).toHaveLength(1);
  });

  it('puts an older history page in front of the current entries', () => {
    let s = reduce(initialState({ channel: 'chat', thread: 'main' }), [joined({ history: history.slice(2), historyBefore: 3 })]);
    expect(s.historyBefore).toBe(3);
    s = reduce(s, [{ type: 'older.requested' }, frame({ type: 'history', records: history.slice(0, 2) })]);
    expect(kinds(conv(s))).toEqual(['user', 'turn', 'tool', 'assistant']);
    expect(s.historyBefore).toBeUndefined();
    expect(s.loadingOlder).toBe(false);
  });

  it("files this participant's own per-participant session under the shared thread", () => {
    const s = reduce(start(), [frame({ type: 'event', seq: 1, event: { session: `${S}/@ann`, at: 1, type: 'notice', level: 'info', text: 'mine' } })]);
    expect(conv(s).entries.map((e) => (e.kind === 'notice' ? e.text : ''))).toEqual(['mine']);
    const other = reduce(s, [frame({ type: 'event', seq: 2, event: { session: `${S}/@bob`, at: 1, type: 'notice', level: 'info', text: 'his' } })]);
    expect(other.conversations[`${S}/@bob`]).toBeDefined();
  });
});

describe('web store: approvals', () => {
  const request = (extra: Record<string, unknown> = {}) => ({
    type: 'approval.requested',
    session: S,
    at: 5,
    approvalId: 'apr_1',
    turnId: 't1',
    kind: 'command',
    title: 'Run: ls',
    detail: { command: 'ls' },
    choices: ['accept', 'decline'],
    reviewer: 'user',
    expiresAt: 99_999,
    deciders: { owner: 'bob', approvers: [] },
    ...extra,
  });

  it('a late joiner gets the pending approval as a pending card', () => {
    const s = reduce(initialState({ channel: 'chat', thread: 'main' }), [joined({ pending: [request()] })]);
    expect(find(conv(s), 'a:apr_1', 'approval')).toMatchObject({ state: 'pending', request: { choices: ['accept', 'decline'], deciders: { owner: 'bob' } } });
  });

  it('marks the card deciding, refused with the reason, then resolved (the card stays)', () => {
    let s = reduce(start(), [frame({ type: 'event', seq: 1, event: request() })]);
    s = reduce(s, [{ type: 'deciding', approvalId: 'apr_1', decision: 'accept' }]);
    expect(find(conv(s), 'a:apr_1', 'approval')!.sent).toEqual({ decision: 'accept', ok: undefined, reason: undefined });
    s = reduce(s, [frame({ type: 'decided', approvalId: 'apr_1', ok: false, reason: 'ann is neither the session owner nor an approver' })]);
    expect(find(conv(s), 'a:apr_1', 'approval')!.sent).toMatchObject({ ok: false, reason: 'ann is neither the session owner nor an approver' });
    s = reduce(s, [ev(2, { type: 'approval.resolved', approvalId: 'apr_1', outcome: 'withdrawn', by: 'switchboard', reason: 'the turn ended' })]);
    expect(find(conv(s), 'a:apr_1', 'approval')).toMatchObject({ state: 'withdrawn', resolution: { by: 'switchboard', reason: 'the turn ended' } });
  });

  it('the approval record of history marks a card it never saw the request of', () => {
    const s = reduce(initialState({ channel: 'chat', thread: 'main' }), [
      joined({ history: [rec(1, { kind: 'approval', approvalId: 'apr_9', approvalKind: 'fileChange', outcome: 'denied', decision: 'decline', by: 'ann', reason: 'no' })] }),
    ]);
    expect(find(conv(s), 'a:apr_9', 'approval')).toMatchObject({ state: 'denied', request: undefined, approvalKind: 'fileChange' });
  });
});

describe('web store: requests answered by error frames', () => {
  it('an unavailable reply goes to the oldest open request (models, then inspect)', () => {
    let s = reduce(start(), [{ type: 'models.requested' }, { type: 'inspect.toggle', open: true }]);
    s = reduce(s, [frame({ type: 'error', code: 'unavailable', error: 'no model catalog' })]);
    expect(s.models).toMatchObject({ state: 'unavailable', note: 'no model catalog' });
    s = reduce(s, [frame({ type: 'error', code: 'forbidden', error: 'the inspector is for room owners and approvers' })]);
    expect(s.inspect.error).toBe('the inspector is for room owners and approvers');
    s = reduce(s, [frame({ type: 'error', code: 'rate_limited', error: 'too many messages' })]);
    expect(s.errors.map((e) => e.text)).toEqual(['too many messages']);
  });
});

describe('web frames', () => {
  it('cleans control characters and bidi overrides out of remote strings', () => {
    const f = parseFrame(JSON.stringify({ type: 'event', seq: 1, event: { session: S, at: 1, type: 'notice', level: 'info', text: 'a\u001b[31mb\u202ec\nd' } })) as Extract<ServerFrame, { type: 'event' }>;
    expect(f.event).toMatchObject({ text: 'a[31mbc\nd' });
  });

  it('keeps the seq of an event it does not understand (resume must not ask for it again)', () => {
    expect(parseFrame(JSON.stringify({ type: 'event', seq: 7, event: { type: 'future.thing', session: S, at: 1 } }))).toEqual({ type: 'event', seq: 7, event: undefined });
    expect(parseFrame('not json')).toBeUndefined();
    expect(parseFrame(JSON.stringify({ type: 'joined' }))).toBeUndefined();
  });
});

describe('web store: posted messages', () => {
  it("shows another participant's accepted message, and replaces my own echo instead of doubling it", () => {
    let s = start();
    s = reduce(s, [{ type: 'sent', text: 'hello room', at: at++ } as Action]);
    expect(conv(s).entries.filter((e) => e.kind === 'user')).toMatchObject([{ local: true, text: 'hello room' }]);
    s = reduce(s, [ev(1, { type: 'message.posted', messageId: 'm-1', from: { id: 'ann', name: 'Ann', role: 'member' }, text: 'hello room', attachments: 0 })]);
    s = reduce(s, [ev(2, { type: 'message.posted', messageId: 'm-2', from: { id: 'bob', name: 'Bob', role: 'member' }, text: 'hi ann', attachments: 0 })]);
    // The same event again (a replay after a reconnect) changes nothing.
    s = reduce(s, [ev(2, { type: 'message.posted', messageId: 'm-2', from: { id: 'bob', name: 'Bob', role: 'member' }, text: 'hi ann', attachments: 0 })]);
    const users = conv(s).entries.filter((e) => e.kind === 'user');
    expect(users).toMatchObject([
      { id: 'p:m-1', local: false, text: 'hello room', author: { id: 'ann' } },
      { id: 'p:m-2', local: false, text: 'hi ann', author: { id: 'bob', name: 'Bob' } },
    ]);
  });
});

describe('web store: partial answers, usage and guardian reviews', () => {
  const usage = { inputTokens: 1200, cachedInputTokens: 200, outputTokens: 30, reasoningOutputTokens: 5, totalTokens: 1230 };

  it('an interrupted turn leaves its streamed text marked partial; a completed one does not', () => {
    let s = start();
    s = reduce(s, [ev(1, { type: 'turn.started', turnId: 't1', threadId: 'th' }), ev(2, { type: 'message.delta', turnId: 't1', itemId: 'm1', delta: 'Half an' })]);
    s = reduce(s, [ev(3, { type: 'turn.interrupted', turnId: 't1', threadId: 'th', reason: 'stopped by ann', usage })]);
    expect(find(conv(s), 'm:m1', 'assistant')).toMatchObject({ text: 'Half an', streaming: false, partial: true });
    expect(find(conv(s), 'turn:t1', 'turn')).toMatchObject({ status: 'interrupted', usage });
    s = reduce(s, [ev(4, { type: 'turn.started', turnId: 't2', threadId: 'th' }), ev(5, { type: 'message.completed', turnId: 't2', itemId: 'm2', text: 'Whole' })]);
    s = reduce(s, [ev(6, { type: 'turn.completed', turnId: 't2', threadId: 'th' })]);
    expect(find(conv(s), 'm:m2', 'assistant')).toMatchObject({ partial: false });
    expect(find(conv(s), 'turn:t2', 'turn')!.usage).toBeUndefined();
  });

  it('a stored partial answer and a partial message.completed are marked partial', () => {
    let s = reduce(start(), [joined({ history: [rec(1, { kind: 'message', role: 'assistant', text: 'cut', turnId: 't0', partial: true })] })]);
    expect(conv(s).entries.find((e) => e.kind === 'assistant')).toMatchObject({ text: 'cut', partial: true });
    s = reduce(s, [ev(2, { type: 'message.completed', turnId: 't1', itemId: 'm9', text: 'so far', partial: true })]);
    expect(find(conv(s), 'm:m9', 'assistant')).toMatchObject({ partial: true });
  });

  it('bad usage counts are not trusted: negative or non-numeric become 0', () => {
    const s = reduce(start(), [ev(1, { type: 'turn.completed', turnId: 't1', threadId: 'th', usage: { ...usage, inputTokens: -5, outputTokens: 'many' } })]);
    expect(find(conv(s), 'turn:t1', 'turn')!.usage).toMatchObject({ inputTokens: 0, outputTokens: 0, totalTokens: 1230 });
  });

  it("Codex guardian's review is one card: in progress, then its verdict with risk and rationale", () => {
    const review = (seq: number, status: string, extra: Record<string, unknown> = {}) =>
      ev(seq, { type: 'guardian.review', threadId: 'th', turnId: 't1', reviewId: 'r1', status, title: 'Run: rm -rf build', action: { type: 'command' }, startedAtMs: 1, ...extra });
    let s = reduce(start(), [review(1, 'inProgress')]);
    expect(find(conv(s), 'g:r1', 'guardian')).toMatchObject({ status: 'inProgress', title: 'Run: rm -rf build' });
    s = reduce(s, [review(2, 'denied', { riskLevel: 'high', rationale: 'Deletes files\u202e outside the task', decisionSource: 'agent' })]);
    const card = find(conv(s), 'g:r1', 'guardian')!;
    expect(card).toMatchObject({ status: 'denied', riskLevel: 'high', decisionSource: 'agent' });
    expect(card.rationale).not.toContain('\u202e');
    expect(kinds(conv(s))).toEqual(['turn', 'guardian']);
  });
});
