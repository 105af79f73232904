// The plain-code translator: room message → turn input, notifications → room events.
import { describe, expect, it } from 'vitest';
import { classifyNotification } from '../../../src/protocol/notifications.js';
import type { RoomEvent } from '../../../src/events/room-events.js';
import { toTurnInput, TurnTranslator, type StreamSignal } from '../../../src/turn/translate.js';
import { codex } from '../../support/fake-connection.js';

const T = 'thr_1';
type Tool = Extract<RoomEvent, { toolId: string }>;
const from = { id: 'u1', name: 'Ann' };

function setup(throttleMs = 1_000_000) {
  const events: RoomEvent[] = [];
  const signals: StreamSignal[] = [];
  const tr = new TurnTranslator({ session: 'r/c/t', sink: (e) => events.push(e), signal: (s) => signals.push(s), activityThrottleMs: throttleMs });
  const feed = (method: string, params: Record<string, unknown>) => tr.handle(classifyNotification(method, params));
  return { tr, events, signals, feed };
}

describe('toTurnInput', () => {
  it('text, http(s) image URLs, uploaded bytes (as data: URLs) and resolved mentions', () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]).toString('base64');
    const { input, problems } = toTurnInput(
      {
        from,
        text: 'look at these',
        attachments: [
          { type: 'image', url: 'https://example.com/a.png' },
          { type: 'image', url: `data:image/png;base64,${png}` },
          { type: 'image', data: png, mimeType: 'image/png', name: 'shot.png' },
          { type: 'mention', name: 'Docs', path: 'app://docs' },
          { type: 'mention', name: 'a.ts', path: '/work/ws/a.ts' },
        ],
      },
      { cwd: '/work/ws' },
    );
    expect(problems).toEqual([]);
    expect(input).toEqual([
      { type: 'text', text: 'look at these', text_elements: [] },
      { type: 'image', url: 'https://example.com/a.png' },
      { type: 'image', url: `data:image/png;base64,${png}` },
      { type: 'image', url: `data:image/png;base64,${png}` },
      { type: 'mention', name: 'Docs', path: 'app://docs' },
      { type: 'mention', name: 'a.ts', path: '/work/ws/a.ts' },
    ]);
  });

  it('never sends a form that names a host file: paths, file: URLs, relative mentions, localImage, skill', () => {
    const { input, problems } = toTurnInput(
      {
        from,
        text: 'x',
        attachments: [
          { type: 'image', path: '/tmp/b.png' },
          { type: 'image', url: 'file:///tmp/c%20d.png' },
          { type: 'image', url: '/home/u/secret.png' },
          { type: 'image', url: '../../etc/passwd' },
          { type: 'image', url: 'data:image/png;base64,AAAA' },
          { type: 'mention', name: 'x', path: '../x' },
          { type: 'localImage', path: '/tmp/b.png' },
          { type: 'skill', name: 'deploy', path: '/skills/deploy/SKILL.md' },
        ] as never,
      },
      { cwd: '/work/ws' },
    );
    expect(input).toEqual([{ type: 'text', text: 'x', text_elements: [] }]);
    expect(problems).toHaveLength(8);
    expect(problems.join('\n')).toMatch(/file: URLs are refused/);
    expect(problems.join('\n')).toMatch(/wrong magic number/);
  });

  it('repairs lone surrogates and strips control characters in the text and the speaker name', () => {
    const { input } = toTurnInput({ from: { id: 'u', name: 'A\u001b]0;x\u0007nn\ud800' }, text: 'hi \ud83d there\u0000\n\tok\u001b[8m' }, { speakerPrefix: true });
    expect(input).toEqual([{ type: 'text', text: 'A]0;xnn\ufffd: hi \ufffd there\n\tok[8m', text_elements: [] }]);
  });

  it('image-only messages have no text item; unusable attachments are reported, not sent', () => {
    const { input, problems } = toTurnInput({
      from,
      text: '  ',
      attachments: [{ type: 'image', url: 'https://x/y.png' }, { type: 'video', url: 'x' } as never, { type: 'mention', name: 'x' } as never],
    });
    expect(input).toEqual([{ type: 'image', url: 'https://x/y.png' }]);
    expect(problems).toHaveLength(2);
  });

  it('optionally prefixes the speaker', () => {
    expect(toTurnInput({ from, text: 'hi' }, { speakerPrefix: true }).input[0]).toMatchObject({ text: 'Ann: hi' });
  });
});

describe('TurnTranslator', () => {
  it('buffers until the turn id is known, then replays only this turn, in order', () => {
    const { tr, events, signals, feed } = setup();
    feed('thread/tokenUsage/updated', { threadId: T, turnId: 'old', tokenUsage: { total: {} } }); // a previous turn's
    feed('turn/started', codex.turnStarted(T, 'turn_1'));
    feed('item/agentMessage/delta', codex.delta(T, 'turn_1', 'm1', 'Hel'));
    expect(events).toEqual([]);
    expect(tr.buffered).toBe(3);
    tr.bind('turn_1');
    feed('item/agentMessage/delta', codex.delta(T, 'turn_1', 'm1', 'lo'));
    expect(events.map((e) => (e.type === 'message.delta' ? e.delta : e.type))).toEqual(['Hel', 'lo']);
    expect(signals[0]).toEqual({ type: 'TURN.STARTED', turnId: 'turn_1' });
  });

  it('deltas go straight to the sink in order; the completed message carries the full text', () => {
    const { tr, events, feed } = setup();
    tr.bind('turn_1');
    const parts = ['The ', 'quick ', 'brown ', 'fox'];
    feed('item/started', codex.item(T, 'turn_1', { type: 'agentMessage', id: 'm1', text: '' }));
    for (const p of parts) feed('item/agentMessage/delta', codex.delta(T, 'turn_1', 'm1', p));
    feed('item/agentMessage/delta', codex.delta(T, 'turn_other', 'm9', 'stray')); // not ours
    feed('item/completed', codex.item(T, 'turn_1', { type: 'agentMessage', id: 'm1', text: parts.join('') }));
    const deltas = events.filter((e) => e.type === 'message.delta').map((e) => (e as { delta: string }).delta);
    expect(deltas.join('')).toBe('The quick brown fox');
    expect(events.at(-1)).toMatchObject({ type: 'message.completed', itemId: 'm1', text: 'The quick brown fox', session: 'r/c/t' });
  });

  it('image items (imageView, imageGeneration) are image tools a client can show: path, saved file, prompt', () => {
    const { tr, events, feed } = setup();
    tr.bind('turn_1');
    const view = { type: 'imageView', id: 'iv1', path: '/w/chart.png' };
    const gen = { type: 'imageGeneration', id: 'ig1', status: 'completed', revisedPrompt: 'A red\u0007 square', savedPath: '/home/u/.codex/generated/ig1.png', result: '' };
    for (const item of [view, gen]) {
      feed('item/started', codex.item(T, 'turn_1', item));
      feed('item/completed', codex.item(T, 'turn_1', item));
    }
    const tools = events.filter((e) => e.type.startsWith('tool.')) as Tool[];
    expect(tools.map((e) => [e.type, e.toolId, e.kind, e.title])).toEqual([
      ['tool.started', 'iv1', 'image', 'View image /w/chart.png'],
      ['tool.completed', 'iv1', 'image', 'View image /w/chart.png'],
      ['tool.started', 'ig1', 'image', 'Generate image: A red square'],
      ['tool.completed', 'ig1', 'image', 'Generate image: A red square'],
    ]);
    expect(tools[3]!.data).toMatchObject({ savedPath: '/home/u/.codex/generated/ig1.png', revisedPrompt: 'A red\u0007 square' });
  });

  it('tool items become started/updated/completed with the item data', () => {
    const { tr, events, signals, feed } = setup(0);
    tr.bind('turn_1');
    const cmd = { type: 'commandExecution', id: 'c1', command: 'ls -la', cwd: '/w', status: 'inProgress', aggregatedOutput: null, exitCode: null };
    feed('item/started', codex.item(T, 'turn_1', cmd));
    feed('item/commandExecution/outputDelta', { threadId: T, turnId: 'turn_1', itemId: 'c1', delta: 'total 0\n' });
    feed('item/completed', codex.item(T, 'turn_1', { ...cmd, status: 'completed', exitCode: 0, aggregatedOutput: 'total 0\n' }));
    for (const [type, item] of [
      ['fileChange', { changes: [{ path: 'a.txt', kind: { type: 'add' }, diff: '+x' }], status: 'completed' }],
      ['mcpToolCall', { server: 'test', tool: 'ask', status: 'completed', arguments: {} }],
      ['dynamicToolCall', { namespace: 'host', tool: 'lookup', status: 'completed', arguments: {} }],
      ['reasoning', { summary: ['thinking'], content: [] }],
      ['plan', { text: '1. do it' }],
    ] as const) {
      feed('item/started', codex.item(T, 'turn_1', { type, id: `${type}-1`, ...item }));
      feed('item/completed', codex.item(T, 'turn_1', { type, id: `${type}-1`, ...item }));
    }
    const tools = events.filter((e) => e.type.startsWith('tool.')) as Tool[];
    expect(tools.slice(0, 3).map((e) => [e.type, e.toolId, e.kind, e.status])).toEqual([
      ['tool.started', 'c1', 'command', 'inProgress'],
      ['tool.updated', 'c1', 'command', 'inProgress'],
      ['tool.completed', 'c1', 'command', 'completed'],
    ]);
    expect(tools[0]).toMatchObject({ title: 'ls -la', data: { command: 'ls -la', cwd: '/w' } });
    expect(tools[1]!.data).toEqual({ outputDelta: 'total 0\n' });
    expect(tools[2]!.data).toMatchObject({ exitCode: 0, aggregatedOutput: 'total 0\n' });
    expect(tools.slice(3).map((e) => `${e.type}:${e.kind}`)).toEqual([
      'tool.started:fileChange',
      'tool.completed:fileChange',
      'tool.started:mcpToolCall',
      'tool.completed:mcpToolCall',
      'tool.started:dynamicToolCall',
      'tool.completed:dynamicToolCall',
      'tool.started:reasoning',
      'tool.completed:reasoning',
      'tool.started:plan',
      'tool.completed:plan',
    ]);
    expect(tools[3]).toMatchObject({ title: 'Edit a.txt' });
    expect(tools[5]).toMatchObject({ title: 'test.ask' });
    expect(tools[7]).toMatchObject({ title: 'host.lookup' });
    // Item lifecycle reaches the machine; user messages are not tools.
    expect(signals.filter((s) => s.type === 'ITEM')).toHaveLength(12);
  });

  it('turn/diff/updated is one tool per turn, updated in place and closed at the end', () => {
    const { tr, events, feed } = setup();
    tr.bind('turn_1');
    feed('turn/diff/updated', { threadId: T, turnId: 'turn_1', diff: 'd1' });
    feed('turn/diff/updated', { threadId: T, turnId: 'turn_1', diff: 'd1' }); // unchanged: no event
    feed('turn/diff/updated', { threadId: T, turnId: 'turn_1', diff: 'd2' });
    feed('turn/completed', codex.turnCompleted(T, 'turn_1'));
    const diffs = events.filter((e) => e.type.startsWith('tool.')) as Tool[];
    expect(diffs.map((e) => [e.type, e.toolId, e.kind, e.data.diff])).toEqual([
      ['tool.started', 'diff:turn_1', 'diff', 'd1'],
      ['tool.updated', 'diff:turn_1', 'diff', 'd2'],
      ['tool.completed', 'diff:turn_1', 'diff', 'd2'],
    ]);
  });

  it('usage, retry notices, Codex error text on failure, and the end of the turn', () => {
    const { tr, events, signals, feed } = setup();
    tr.bind('turn_1');
    feed('thread/tokenUsage/updated', { threadId: T, turnId: 'turn_1', tokenUsage: { total: { totalTokens: 15 } } });
    feed('error', { threadId: T, turnId: 'turn_1', willRetry: true, error: { message: 'Reconnecting... 1/5' } });
    feed('error', { threadId: T, turnId: 'turn_1', willRetry: false, error: { message: 'stream disconnected' } });
    feed('turn/completed', { threadId: T, turn: { id: 'turn_1', status: 'failed', items: [], error: null } });
    expect(events[0]).toMatchObject({ type: 'usage', turnId: 'turn_1', usage: { total: { totalTokens: 15 } } });
    expect(events[1]).toMatchObject({ type: 'notice', level: 'warning', text: 'Codex: Reconnecting... 1/5' });
    expect(events).toHaveLength(2);
    expect(signals.at(-1)).toEqual({ type: 'TURN.COMPLETED', turnId: 'turn_1', status: 'failed', error: 'stream disconnected' });
    feed('item/agentMessage/delta', codex.delta(T, 'turn_1', 'm', 'late'));
    expect(events).toHaveLength(2);
  });

  it('signals waiting on a person, throttles activity, and closes open tools when abandoned', () => {
    const { tr, events, signals, feed } = setup(0);
    tr.bind('turn_1');
    feed('thread/status/changed', codex.status(T, 'active', ['waitingOnApproval']));
    feed('thread/status/changed', codex.status(T, 'active', []));
    expect(signals.filter((s) => s.type === 'WAITING')).toEqual([
      { type: 'WAITING', waiting: true },
      { type: 'WAITING', waiting: false },
    ]);
    feed('item/started', codex.item(T, 'turn_1', { type: 'commandExecution', id: 'c1', command: 'sleep 100', status: 'inProgress' }));
    feed('turn/plan/updated', { threadId: T, turnId: 'turn_1', explanation: null, plan: [{ step: 'a', status: 'pending' }] });
    tr.finish('interrupted', 'stopped');
    tr.finish('interrupted', 'again'); // idempotent
    const ends = events.filter((e) => e.type === 'tool.completed') as Tool[];
    expect(ends.map((e) => [e.toolId, e.status])).toEqual([
      ['c1', 'interrupted'],
      ['plan:turn_1', 'completed'],
    ]);
    expect(ends[0]!.data.reason).toBe('stopped');

    const slow = setup(60_000);
    slow.tr.bind('turn_1');
    for (let i = 0; i < 100; i++) slow.feed('item/agentMessage/delta', codex.delta(T, 'turn_1', 'm', 'x'));
    expect(slow.signals.filter((s) => s.type === 'ACTIVITY')).toHaveLength(1);
    expect(slow.events).toHaveLength(100);
    // Items restart the watchdog like activity: a burst of them is one signal.
    for (let i = 0; i < 5; i++) {
      slow.feed('item/started', codex.item(T, 'turn_1', { type: 'reasoning', id: `r${i}` }));
      slow.feed('item/completed', codex.item(T, 'turn_1', { type: 'reasoning', id: `r${i}` }));
    }
    expect(slow.signals.filter((s) => s.type === 'ITEM' || s.type === 'ACTIVITY')).toHaveLength(1);
    expect(slow.events.filter((e) => e.type === 'tool.completed')).toHaveLength(5);
  });
});

describe('TurnTranslator: reviews and compactions', () => {
  it('a review is one card from enteredReviewMode to exitedReviewMode; its sub-turn start counts as the turn start', () => {
    const { tr, events, signals, feed } = setup();
    tr.bind('rev_1');
    // The review's model runs in a sub-turn named by `rootTurnId` (as 0.169.0 sends it).
    feed('turn/started', { threadId: T, turn: { id: 'sub_1', rootTurnId: 'rev_1', status: 'inProgress', items: [], error: null } });
    expect(signals).toContainEqual({ type: 'TURN.STARTED', turnId: 'rev_1' });
    feed('item/started', codex.item(T, 'rev_1', { type: 'enteredReviewMode', id: 'e1', review: "changes against 'main'" }));
    feed('item/completed', codex.item(T, 'rev_1', { type: 'enteredReviewMode', id: 'e1', review: "changes against 'main'" }));
    feed('item/started', codex.item(T, 'rev_1', { type: 'exitedReviewMode', id: 'x1', review: 'One bug.' }));
    feed('item/completed', codex.item(T, 'rev_1', { type: 'exitedReviewMode', id: 'x1', review: 'One bug.' }));
    feed('item/completed', codex.item(T, 'rev_1', { type: 'agentMessage', id: 'm1', text: 'One bug.' }));
    const tools = events.filter((e) => e.type.startsWith('tool.')) as Tool[];
    expect(tools.map((e) => [e.type, e.toolId, e.kind, e.title, e.status, e.data])).toEqual([
      ['tool.started', 'review:rev_1', 'review', "Review: changes against 'main'", 'inProgress', { target: "changes against 'main'" }],
      ['tool.completed', 'review:rev_1', 'review', "Review: changes against 'main'", 'completed', { target: "changes against 'main'", review: 'One bug.' }],
    ]);
    expect(events.find((e) => e.type === 'message.completed')).toMatchObject({ text: 'One bug.' });
  });

  it('an interrupted review closes its card; a compaction is a card of its own kind', () => {
    const { tr, events, feed } = setup();
    tr.bind('t1');
    feed('item/started', codex.item(T, 't1', { type: 'enteredReviewMode', id: 'e1', review: 'current changes' }));
    feed('item/started', codex.item(T, 't1', { type: 'contextCompaction', id: 'cc' }));
    feed('item/completed', codex.item(T, 't1', { type: 'contextCompaction', id: 'cc' }));
    tr.finish('interrupted', '/stop');
    const done = events.filter((e) => e.type === 'tool.completed') as Tool[];
    expect(done.map((e) => [e.toolId, e.kind, e.title, e.status])).toEqual([
      ['cc', 'compaction', 'Context compaction', 'completed'],
      ['review:t1', 'review', 'Review: current changes', 'interrupted'],
    ]);
  });
});
