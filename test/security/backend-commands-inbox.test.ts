// Issue 11 #10: a slash command handed to a session is acked from the durable inbox like a
// message, so a restart does not run `/model` or `/reset` again.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DatasetStore } from '../../src/storage/dataset.js';
import { say } from '../support/mock-model.js';
import { notices, turnEnd, world, type World } from './backend-world.js';

let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

describe('#10 commands are acked from the inbox', () => {
  it('/model and /reset run once; after a restart the inbox is empty and neither runs again', async () => {
    w = await world([say('first'), say('second')]);
    const first = await w.supervisor();
    const ended = turnEnd(first.sb);
    await first.sb.post({ room: 'lab', from: { id: 'ann' }, text: 'hi' });
    await ended;
    await first.sb.post({ room: 'lab', from: { id: 'ann' }, text: '/model gpt-b' });
    await expect.poll(() => notices(first.events).filter((t) => t.startsWith('Model set to gpt-b')).length, { timeout: 10_000 }).toBe(1);
    await first.sb.post({ room: 'lab', from: { id: 'ann' }, text: '/reset' });
    await first.sb.flush();
    await first.sb.stop();

    const store = await DatasetStore.open(path.join(w.box.root, 'threads.db'));
    try {
      expect(await store.pending()).toEqual([]);
    } finally {
      await store.close();
    }

    const { sb, events } = await w.supervisor();
    await sb.flush();
    expect(notices(events).filter((t) => t.startsWith('Model set to'))).toEqual([]);
    const unpinned = (await sb.history('lab')).filter((r) => r.kind === 'harness' && r.harness === '(unpinned)');
    expect(unpinned).toHaveLength(1); // the one /reset, not a second one from a replay
  }, 120_000);
});
