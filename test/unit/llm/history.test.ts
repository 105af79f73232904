// The room thread's records as a Responses-API input (llm turns) and as what Codex missed
// (a conversation coming back to it); the endpoint's usage and errors in the room's words.
import { describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { historyInput, MAX_HISTORY_CHARS } from '../../../src/llm/history.js';
import { injectItems, missedByCodex } from '../../../src/supervisor/codex-catch-up.js';
import { describeError, usageOf } from '../../../src/llm/stream.js';
import type { HistoryRecord, StoredRecord } from '../../../src/storage/types.js';

let seq = 0;
const rec = (r: HistoryRecord): StoredRecord => ({ ...r, seq: ++seq, session: 'lab/chat/main', at: seq });
const user = (text: string, id = 'ann') => rec({ kind: 'message', role: 'user', author: { id }, text });
const bot = (text: string) => rec({ kind: 'message', role: 'assistant', text, turnId: 't' });
const harness = (h: string) => rec({ kind: 'harness', harness: h, reason: 'test' });

describe('history as llm input', () => {
  it('messages since the last /new or /reset; commands, tools and notices left out; the batch not repeated', () => {
    const records = [
      user('before the reset'),
      harness('(unpinned)'),
      harness('codex'),
      user('q1'),
      rec({ kind: 'tool', toolId: 'x', toolKind: 'command', title: 'ls', data: {} }),
      bot('a1'),
      user('/model gpt-5.5'),
      rec({ kind: 'notice', level: 'info', text: 'Model set' }),
      harness('llm'),
      bot('partial answ'),
      user('q2'),
    ];
    expect(historyInput(records, [{ from: { id: 'ann' }, text: 'q2' }], 200)).toEqual([
      { role: 'user', content: 'q1' },
      { role: 'assistant', content: 'a1' },
      { role: 'assistant', content: 'partial answ' },
    ]);
  });

  it('a batch message whose prompt a hook rewrote still leaves out its author\'s newest record', () => {
    const records = [user('hello', 'bob'), user('hi', 'ann'), user('later', 'bob')];
    expect(historyInput(records, [{ from: { id: 'ann' }, text: '[rewritten] hi' }], 200)).toEqual([
      { role: 'user', content: 'hello' },
      { role: 'user', content: 'later' },
    ]);
  });

  it('bounded: the newest messages, by count and by characters; control characters removed', () => {
    const records = [user('one'), bot('two'), user('three\u0007')];
    expect(historyInput(records, [], 2)).toEqual([
      { role: 'assistant', content: 'two' },
      { role: 'user', content: 'three' },
    ]);
    const big = 'x'.repeat(MAX_HISTORY_CHARS - 10);
    expect(historyInput([user('old and long'), user(big)], [], 200)).toEqual([{ role: 'user', content: big }]);
  });
});

describe('what Codex missed', () => {
  it('after Codex left the conversation; nothing while Codex runs it', () => {
    const records = [harness('codex'), user('q1'), bot('a1'), harness('llm'), user('/model gpt-5.5'), user('q2'), bot('a2')];
    expect(missedByCodex(records)).toEqual({
      messages: [
        { role: 'user', text: 'q2' },
        { role: 'assistant', text: 'a2' },
      ],
      codexRanBefore: true,
    });
    expect(missedByCodex([...records, harness('codex'), user('q3')]).messages).toEqual([]);
  });

  it('a conversation that began on the llm backend: everything since the last reset', () => {
    const records = [user('old'), harness('(unpinned)'), harness('llm'), user('q1'), bot('a1')];
    expect(missedByCodex(records)).toEqual({ messages: [{ role: 'user', text: 'q1' }, { role: 'assistant', text: 'a1' }], codexRanBefore: false });
  });

  it('as raw Responses-API items', () => {
    expect(injectItems([{ role: 'user', text: 'q' }, { role: 'assistant', text: 'a' }])).toEqual([
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'q' }] },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'a' }] },
    ]);
  });
});

describe('the endpoint in the room\'s words', () => {
  it('usage as token counts; a malformed usage is none', () => {
    expect(usageOf({ input_tokens: 10, output_tokens: 5, total_tokens: 15, input_tokens_details: { cached_tokens: 2 }, output_tokens_details: null })).toEqual({
      inputTokens: 10,
      cachedInputTokens: 2,
      outputTokens: 5,
      reasoningOutputTokens: 0,
      totalTokens: 15,
    });
    expect(usageOf({ input_tokens: 'many' })).toBeUndefined();
    expect(usageOf(undefined)).toBeUndefined();
  });

  it('HTTP errors name the status; a network error names the endpoint; remote text is one bounded line', () => {
    const e500 = describeError(OpenAI.APIError.generate(500, { error: { message: 'boom\n\u001b[31mred' } }, undefined, new Headers()), 'http://x/v1');
    expect(e500.message).toBe('the model endpoint answered HTTP 500 (server error): 500 boom[31mred');
    expect(e500.status).toBe(500);
    const e429 = describeError(OpenAI.APIError.generate(429, { error: { message: 'x'.repeat(1000) } }, undefined, new Headers()), 'http://x/v1');
    expect(e429.message).toMatch(/^the model endpoint answered HTTP 429 \(rate limit or quota exceeded\): 429 x+$/);
    expect(e429.message.length).toBeLessThan(400);
    const net = describeError(new OpenAI.APIConnectionError({ message: 'Connection error.' }), 'http://127.0.0.1:9/v1');
    expect(net.message).toBe('cannot reach the model endpoint http://127.0.0.1:9/v1: Connection error.');
    expect(describeError(new OpenAI.APIUserAbortError(), 'u')).toMatchObject({ aborted: true, message: 'stopped' });
  });
});
