// After a takeover: a reclaimed message is found in the Codex thread's last turn by its client
// id or its exact text (a speaker prefix allowed), and only there.
import { describe, expect, it } from 'vitest';
import { clientUserMessageIdOf, sentAlready } from '../../../src/cluster/thread-check.js';
import type { QueuedMessage } from '../../../src/storage/cluster.js';

const entry = (text: string): QueuedMessage => ({
  id: 'inbox-1',
  session: 'r/chat/main',
  at: 1,
  message: { room: 'r', channel: 'chat', thread: 'main', from: { id: 'ann' }, text },
  clientUserMessageId: 'cu-1',
  reclaimed: true,
});
const user = (text: string, clientId?: string) => ({ type: 'userMessage', id: 'u', ...(clientId ? { clientId } : {}), content: [{ type: 'text', text }] });
const thread = (...turns: unknown[][]) => async () => ({ thread: { id: 'th', turns: turns.map((items, i) => ({ id: `t${i}`, items })) } });

describe('sentAlready', () => {
  it('finds the message in the last turn by client id, by exact text, or after a speaker prefix', async () => {
    expect(clientUserMessageIdOf(entry('x'))).toBe('inbox-1');
    expect(await sentAlready(thread([user('other text', 'inbox-1')]), 'th', entry('hello'))).toBe(true);
    expect(await sentAlready(thread([user('  hello ')]), 'th', entry('hello'))).toBe(true);
    expect(await sentAlready(thread([user('Ann: hello')]), 'th', entry('hello'))).toBe(true);
  });

  it('an earlier turn with the same text, another text, or no turn at all: not sent', async () => {
    expect(await sentAlready(thread([user('hello')], [user('bye')]), 'th', entry('hello'))).toBe(false);
    expect(await sentAlready(thread([user('hello there')]), 'th', entry('hello'))).toBe(false);
    expect(await sentAlready(thread(), 'th', entry('hello'))).toBe(false);
    expect(await sentAlready(thread([{ type: 'agentMessage', id: 'a', text: 'hello' }]), 'th', entry('hello'))).toBe(false);
  });

  it('an answer of an unexpected shape is an error, not a guess', async () => {
    await expect(sentAlready(async () => ({ nope: 1 }), 'th', entry('hello'))).rejects.toThrow(/unexpected shape/);
  });
});
