// What an idle conversation leaves in the supervisor: no empty inbox queue, and the harness
// choice it shares with every other session of its agent (not a copy per session).
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { loadConfig } from '../../../src/config/load.js';
import { MemoryStore } from '../../../src/storage/memory.js';
import { AgentSessions } from '../../../src/supervisor/sessions.js';
import { InboxTracker } from '../../../src/supervisor/inbox.js';
import type { Harness } from '../../../src/supervisor/harness.js';

const log = pino({ level: 'silent' });

describe('idle conversations in the supervisor', () => {
  it('sessions of one agent share one harness choice', async () => {
    const store = new MemoryStore();
    const codex = { id: 'codex', available: () => ({ ok: true }), supports: () => ({ ok: true, reason: 'any model' }) } as unknown as Harness;
    const sessions = new AgentSessions({
      config: loadConfig({ env: {}, file: false, flags: {} }).config,
      baseDir: '/tmp',
      harnesses: new Map([['codex', codex]]),
      store: () => store,
      write: () => {},
      log,
    });
    const agent = sessions.agentFor(undefined);
    const a = await sessions.resolve('r1/chat/main', agent);
    const b = await sessions.resolve('r2/chat/main', sessions.agentFor(undefined));
    expect(b).toBe(a);
    expect(sessions.list().map((s) => s.session)).toEqual(['r1/chat/main', 'r2/chat/main']);
  });

  it('an inbox queue is dropped once its turn took the messages', async () => {
    const store = new MemoryStore();
    let now = 1;
    const inbox = new InboxTracker(() => store, log, () => false, { now: () => now });
    const entry = await store.enqueue('r/chat/main', { room: 'r', channel: 'chat', thread: 'main', from: { id: 'u' }, text: 'hi' });
    inbox.handed('r/chat/main', entry.id);
    now = 2;
    inbox.onEvent({ type: 'turn.started', session: 'r/chat/main', at: now, turnId: 't1', threadId: 'th', model: undefined });
    inbox.onEvent({ type: 'turn.completed', session: 'r/chat/main', at: now, turnId: 't1', threadId: 'th' } as never);
    expect(inbox.depth()).toBe(0);
    expect((inbox as unknown as { waiting: Map<string, unknown> }).waiting.size).toBe(0);
  });
});
