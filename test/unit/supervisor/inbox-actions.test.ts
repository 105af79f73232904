// The durable inbox and `/codex review|compact` turns: such a turn takes no posted message, so
// a message waiting behind it is acked only when its own turn ends (a host restart in between
// runs it again).
import { describe, expect, it } from 'vitest';
import { InboxTracker } from '../../../src/supervisor/inbox.js';
import type { ThreadStore } from '../../../src/storage/types.js';
import { createLogger } from '../../../src/log/logger.js';

function tracker(steer: boolean) {
  const ops: string[] = [];
  const store = {
    take: async (id: string, turnId: string) => void ops.push(`take ${id} ${turnId}`),
    ack: async (id: string) => void ops.push(`ack ${id}`),
  } as unknown as ThreadStore;
  let now = 0;
  const inbox = new InboxTracker(() => store, createLogger({ level: 'silent' }), () => steer, { now: () => now });
  return { inbox, ops, at: (t: number) => (now = t) };
}

const s = 'lab/chat/main';
const base = { session: s, threadId: 'thr' };

describe('inbox and action turns', () => {
  it.each([true, false])('steer=%s: a message waiting behind a review is taken and acked by its own turn', async (steer) => {
    const { inbox, ops, at } = tracker(steer);
    at(10);
    inbox.handed(s, 'm1');
    inbox.onEvent({ ...base, type: 'turn.started', at: 20, turnId: 'rev', model: undefined, action: 'review' });
    inbox.onEvent({ ...base, type: 'turn.completed', at: 30, turnId: 'rev', action: 'review' });
    inbox.onEvent({ ...base, type: 'turn.failed', at: 31, turnId: undefined, threadId: undefined, error: 'x', action: 'compact' });
    await Promise.resolve();
    expect(ops).toEqual([]);
    inbox.onEvent({ ...base, type: 'turn.started', at: 40, turnId: 't2', model: undefined });
    inbox.onEvent({ ...base, type: 'turn.completed', at: 50, turnId: 't2' });
    await Promise.resolve();
    expect(ops).toEqual(['take m1 t2', 'ack m1']);
  });
});
