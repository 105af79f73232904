// The translator's usage-and-limits side: model reroutes and limit errors as notices, the
// partial answer of a turn that did not complete.
import { describe, expect, it } from 'vitest';
import { classifyNotification } from '../../../src/protocol/notifications.js';
import type { RoomEvent } from '../../../src/events/room-events.js';
import { TurnTranslator } from '../../../src/turn/translate.js';

const T = 'thr_1';
function setup() {
  const events: RoomEvent[] = [];
  const tr = new TurnTranslator({ session: 'r/c/t', sink: (e) => events.push(e), signal: () => {}, activityThrottleMs: 1_000_000, now: () => 5 });
  tr.bind('turn_1');
  const feed = (method: string, params: Record<string, unknown>) => tr.handle(classifyNotification(method, { threadId: T, turnId: 'turn_1', ...params }));
  const notices = () => events.filter((e): e is Extract<RoomEvent, { type: 'notice' }> => e.type === 'notice').map((e) => [e.level, e.text]);
  return { tr, events, feed, notices };
}

describe('TurnTranslator: usage and limits', () => {
  it('model/rerouted is a warning notice (control characters stripped)', () => {
    const { feed, notices } = setup();
    feed('model/rerouted', { fromModel: 'gpt-5.5', toModel: 'gpt-5.5-safe\u001b[31m', reason: 'highRiskCyberActivity' });
    expect(notices()).toEqual([['warning', 'Codex switched this turn from model gpt-5.5 to gpt-5.5-safe [31m (highRiskCyberActivity).']]);
  });

  it('a usage or rate limit error is said plainly, once per turn; retried errors and other kinds are not', () => {
    const { feed, notices } = setup();
    feed('error', { willRetry: true, error: { message: 'slow down', codexErrorInfo: 'rateLimitExceeded' } });
    feed('error', { willRetry: false, error: { message: 'quota', codexErrorInfo: 'usageLimitExceeded' } });
    feed('turn/completed', { turn: { id: 'turn_1', status: 'failed', items: [], error: { message: 'quota', codexErrorInfo: 'usageLimitExceeded' } } });
    expect(notices()).toEqual([
      ['warning', 'Codex: slow down'],
      ['error', 'Codex usage limit reached: no more turns until the limit resets (see /usage).'],
    ]);
    const other = setup();
    other.feed('turn/completed', { turn: { id: 'turn_1', status: 'failed', items: [], error: { message: 'bad', codexErrorInfo: 'badRequest' } } });
    expect(other.notices()).toEqual([]);
  });

  it('an interrupted turn keeps what streamed of an unfinished message, marked partial; completed messages are not repeated', () => {
    const { feed, events } = setup();
    feed('item/agentMessage/delta', { itemId: 'm1', delta: 'done ' });
    feed('item/completed', { item: { type: 'agentMessage', id: 'm1', text: 'done answer' } });
    feed('item/agentMessage/delta', { itemId: 'm2', delta: 'half ' });
    feed('item/agentMessage/delta', { itemId: 'm2', delta: 'an answer' });
    feed('turn/completed', { turn: { id: 'turn_1', status: 'interrupted', items: [] } });
    const done = events.filter((e) => e.type === 'message.completed');
    expect(done).toEqual([
      { type: 'message.completed', session: 'r/c/t', at: 5, turnId: 'turn_1', itemId: 'm1', text: 'done answer' },
      { type: 'message.completed', session: 'r/c/t', at: 5, turnId: 'turn_1', itemId: 'm2', text: 'half an answer', partial: true },
    ]);
  });

  it('a completed turn adds no partial message', () => {
    const { feed, events } = setup();
    feed('item/agentMessage/delta', { itemId: 'm1', delta: 'x' });
    feed('turn/completed', { turn: { id: 'turn_1', status: 'completed', items: [] } });
    expect(events.filter((e) => e.type === 'message.completed')).toEqual([]);
  });
});

describe('TurnTranslator: a provider 429', () => {
  it('an HTTP failure with status 429 is a rate limit notice', () => {
    const { feed, notices } = setup();
    feed('error', { willRetry: false, error: { message: 'exceeded retry limit', codexErrorInfo: { responseTooManyFailedAttempts: { httpStatusCode: 429 } } } });
    expect(notices()).toEqual([['error', 'Codex rate limit exceeded: the provider refused the request; try again shortly (see /usage).']]);
  });
});
