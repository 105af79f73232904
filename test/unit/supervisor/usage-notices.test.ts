// The usage ledger (turn usage from Codex's running thread totals, /usage) and the server-wide
// notices (routing by thread, else to every live conversation; deduplicated, bounded).
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { classifyNotification, type InboundNotification } from '../../../src/protocol/notifications.js';
import type { RoomEvent } from '../../../src/events/room-events.js';
import { UsageLedger } from '../../../src/supervisor/usage-ledger.js';
import { CodexNotices, type NoticeSubscribable } from '../../../src/supervisor/codex-notices.js';

const b = (input: number, output: number) => ({ inputTokens: input, cachedInputTokens: 0, outputTokens: output, reasoningOutputTokens: 0, totalTokens: input + output });
const usage = (session: string, turnId: string, last: ReturnType<typeof b>, total: ReturnType<typeof b>): RoomEvent => ({ type: 'usage', session, at: 1, turnId, usage: { last, total, modelContextWindow: 1000 } });
const end = (session: string, turnId: string): RoomEvent => ({ type: 'turn.completed', session, at: 2, turnId, threadId: 't' });

describe('UsageLedger', () => {
  it('a turn uses the growth of the thread total (several reports per turn), the conversation sums its turns', () => {
    const l = new UsageLedger();
    l.observe(usage('s', 'a', b(10, 5), b(10, 5)));
    l.observe(usage('s', 'a', b(20, 5), b(30, 10)));
    l.observe(usage('s', 'a', b(20, 5), b(30, 10))); // the same report again
    expect(l.observe(end('s', 'a'))).toMatchObject({ usage: b(30, 10) });
    l.observe(usage('s', 'b', b(40, 2), b(70, 12)));
    expect(l.observe(end('s', 'b'))).toMatchObject({ usage: b(40, 2) });
    expect(l.observe(end('s', 'c'))).toEqual(end('s', 'c')); // no usage reported for it
    expect(l.text('s')).toBe(['Token usage:', '  last turn: 42 tokens — 40 in, 2 out', '  this conversation (2 turns): 82 tokens — 70 in, 12 out', '  Codex thread total: 82 tokens — 70 in, 12 out · context window 1,000'].join('\n'));
    expect(l.text('other')).toBe('Token usage: none reported yet in this conversation.');
  });

  it('forgets the least recently used conversation beyond its bound', () => {
    const l = new UsageLedger({ maxConversations: 2 });
    for (const s of ['x', 'y', 'z']) l.observe(usage(s, 'a', b(1, 1), b(1, 1)));
    expect(l.usageOf('x')).toBeUndefined();
    expect(l.usageOf('z')).toBeDefined();
  });
});

function notices(live: string[], threads: Record<string, string> = {}) {
  const events: RoomEvent[] = [];
  let listener: ((n: InboundNotification) => void) | undefined;
  const client: NoticeSubscribable = { subscribe: (_id, l) => ((listener = l), () => {}) };
  const n = new CodexNotices({ sink: (e) => events.push(e), liveSessions: (c) => (c === client ? live : []), sessionOfThread: (t) => threads[t], log: pino({ level: 'silent' }), now: () => 9, maxTexts: 2 });
  n.attach(client);
  const send = (method: string, params: Record<string, unknown>) => listener!(classifyNotification(method, params));
  const texts = () => events.map((e) => (e.type === 'notice' ? `${e.session} ${e.level} ${e.text}` : e.type));
  return { n, send, texts };
}

describe('CodexNotices', () => {
  it('server-wide notices reach every live conversation once; a thread notice only its own', () => {
    const { send, texts } = notices(['r1', 'r2'], { thr_9: 'r3' });
    send('configWarning', { summary: 'unknown key\u0007 foo', path: '/h/config.toml', range: { start: { line: 3, column: 1 }, end: { line: 3, column: 4 } }, details: null });
    send('configWarning', { summary: 'unknown key\u0007 foo', path: '/h/config.toml', range: { start: { line: 3, column: 1 }, end: { line: 3, column: 4 } }, details: null });
    send('warning', { message: 'disk nearly full', threadId: 'thr_9' });
    send('warning', { message: 'orphan', threadId: 'thr_unknown' });
    send('deprecationNotice', { summary: 'old flag', details: 'use the new one' });
    expect(texts()).toEqual([
      'r1 warning Codex config: unknown key  foo (/h/config.toml:3)',
      'r2 warning Codex config: unknown key  foo (/h/config.toml:3)',
      'r3 warning Codex warning: disk nearly full',
      'r1 info Codex deprecation: old flag — use the new one',
      'r2 info Codex deprecation: old flag — use the new one',
    ]);
  });

  it('MCP servers: only failures; rate limits: only when high or reached, kept for /usage; memory bounded', () => {
    const { n, send, texts } = notices(['r1']);
    send('mcpServer/startupStatus/updated', { name: 'docs', status: 'starting', error: null });
    send('mcpServer/startupStatus/updated', { name: 'docs', status: 'failed', error: 'spawn ENOENT' });
    send('account/rateLimits/updated', { rateLimits: { limitId: 'codex', primary: { usedPercent: 20, windowDurationMins: 300 } } });
    expect(n.rateLimitsText()).toContain('20%');
    send('account/rateLimits/updated', { rateLimits: { limitId: 'codex', primary: { usedPercent: 100, windowDurationMins: 300 }, rateLimitReachedType: 'primary' } });
    expect(texts()).toEqual(['r1 warning MCP server docs failed to start: spawn ENOENT', expect.stringMatching(/^r1 error Codex rate limits: codex: .*100%.*reached \(primary\)/)]);
    send('mcpServer/startupStatus/updated', { name: 'docs', status: 'failed', error: 'spawn ENOENT' });
    expect(texts()).toHaveLength(2);
    // maxTexts 2: a third text makes the oldest forgotten, so it shows again.
    send('warning', { message: 'third' });
    send('mcpServer/startupStatus/updated', { name: 'docs', status: 'failed', error: 'spawn ENOENT' });
    expect(texts()).toHaveLength(4);
  });
});
