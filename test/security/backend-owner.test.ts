// Issue 11 #2 (backend half): the session owner is the first poster, persisted with the
// session; decide() is allowed by verified role, by the persisted owner, or by a configured
// approver — never by an observer or agent, never by a member who is not the owner.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DatasetStore } from '../../src/storage/dataset.js';
import { say, shell } from '../support/mock-model.js';
import { next, turnEnd, world, type World } from './backend-world.js';

let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

describe('#2 session owner and decide() by role', () => {
  it('the owner survives a restart; observer refused, non-owner member refused, owner and approver role allowed', async () => {
    w = await world([say('hello'), shell('echo a > a.txt', { escalated: true }), shell('echo b > b.txt', { escalated: true }), say('done')]);
    const first = await w.supervisor();
    const ended = turnEnd(first.sb);
    await first.sb.post({ room: 'lab', from: { id: 'ann', name: 'Ann', role: 'member' }, text: 'hi' });
    expect((await ended).type).toBe('turn.completed');
    await first.sb.stop();

    // After a restart, mallory posts first: she does not become the owner.
    const { sb, events } = await w.supervisor();
    const asked = next(sb, 'approval.requested');
    const done = turnEnd(sb);
    await sb.post({ room: 'lab', from: { id: 'mallory', role: 'member' }, text: 'write the files' });
    const a = await asked;
    expect(sb.decide({ approvalId: a.approvalId, by: 'mallory', role: 'member', decision: 'accept' })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/mallory may not decide .*session owner \(ann\)/),
    });
    expect(sb.decide({ approvalId: a.approvalId, by: 'olga', role: 'observer', decision: 'accept' })).toMatchObject({ ok: false, reason: expect.stringMatching(/observers cannot decide/) });
    // The owner's id with an observer credential is still an observer.
    expect(sb.decide({ approvalId: a.approvalId, by: 'ann', role: 'observer', decision: 'accept' })).toMatchObject({ ok: false });
    expect(sb.decide({ approvalId: a.approvalId, by: 'bot', role: 'agent', decision: 'accept' })).toMatchObject({ ok: false });
    // An approval of room "lab" cannot be decided from another room, whatever the role there.
    expect(sb.decide({ approvalId: a.approvalId, by: 'pat', role: 'approver', room: 'other', decision: 'accept' })).toMatchObject({ ok: false, reason: expect.stringMatching(/not in room other/) });
    const b = next(sb, 'approval.requested');
    expect(sb.decide({ approvalId: a.approvalId, by: 'ann', role: 'member', decision: 'accept' })).toEqual({ ok: true });
    const second = await b;
    expect(sb.decide({ approvalId: second.approvalId, by: 'pat', role: 'approver', room: 'lab', decision: 'accept' })).toEqual({ ok: true });
    expect((await done).type).toBe('turn.completed');
    expect(existsSync(path.join(w.box.workspace, 'a.txt'))).toBe(true);
    expect(existsSync(path.join(w.box.workspace, 'b.txt'))).toBe(true);
    expect(events.filter((e) => e.type === 'approval.resolved').map((e) => (e as { by: string }).by)).toEqual(['ann', 'pat']);
    await sb.stop();

    const store = await DatasetStore.open(path.join(w.box.root, 'threads.db'));
    try {
      expect((await store.owners()).map((o) => [o.session, o.owner])).toEqual([['lab/chat/main', 'ann']]);
    } finally {
      await store.close();
    }
  }, 120_000);

  it('observers and agents may not post; nothing of theirs is stored and they own nothing', async () => {
    w = await world([]);
    const { sb } = await w.supervisor();
    await expect(sb.post({ room: 'lab', from: { id: 'olga', role: 'observer' }, text: 'hi' })).rejects.toThrow(/olga may not post: observers cannot post/);
    await expect(sb.post({ room: 'lab', from: { id: 'bot', role: 'agent' }, text: 'hi' })).rejects.toThrow(/bot may not post: agents cannot post/);
    expect(await sb.history('lab')).toEqual([]);
    await sb.stop();
    const store = await DatasetStore.open(path.join(w.box.root, 'threads.db'));
    try {
      expect(await store.owners()).toEqual([]);
      expect(await store.pending()).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('memory storage keeps the owner beside the bindings across a restart', async () => {
    w = await world([say('hello')]);
    const first = await w.supervisor({ storage: { kind: 'none' } });
    const ended = turnEnd(first.sb);
    await first.sb.post({ room: 'lab', from: { id: 'ann' }, text: 'hi' });
    await ended;
    await first.sb.stop();
    const { sb, events } = await w.supervisor({ storage: { kind: 'none' } });
    // mallory is not the owner after the restart: a restricted command is refused.
    await sb.post({ room: 'lab', from: { id: 'mallory' }, text: '/new' });
    expect(events.some((e) => e.type === 'notice' && /\/new was not run: only the session owner \(ann\)/.test(e.text))).toBe(true);
  });
});
