// Issue 11 #12: a decision that was not offered (or content that does not fit) is refused with
// the offered choices, and the approval stays pending until a valid decision or its timeout.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { say, shell } from '../support/mock-model.js';
import { next, turnEnd, world, type World } from './backend-world.js';

let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const pending = (status: Record<string, unknown>) =>
  ((status.harnesses as { codex: { pendingApprovals: Array<{ approvalId: string; awaitingUser: boolean }> } }).codex.pendingApprovals);

describe('#12 decisions that were not offered', () => {
  it('"Accept" and an unknown choice are refused naming the choices; the prompt stays open and a valid decision then runs the command', async () => {
    w = await world([shell('echo hi > out.txt', { escalated: true }), say('done')]);
    const { sb, events } = await w.supervisor();
    const asked = next(sb, 'approval.requested');
    const done = turnEnd(sb);
    await sb.post({ room: 'lab', from: { id: 'ann' }, text: 'write it' });
    const req = await asked;
    const offered = req.choices.join(', ');
    expect(req.choices).toContain('accept');
    for (const bad of ['Accept', 'acceptAlways', 'yes please']) {
      expect(sb.decide({ approvalId: req.approvalId, by: 'ann', decision: bad })).toEqual({
        ok: false,
        reason: `decision "${bad}" was not offered (offered: ${offered}); approval ${req.approvalId} is still open`,
      });
    }
    expect(pending(sb.status())).toMatchObject([{ approvalId: req.approvalId, awaitingUser: true }]);
    expect(events.some((e) => e.type === 'approval.resolved')).toBe(false);
    expect(sb.decide({ approvalId: req.approvalId, by: 'ann', decision: 'accept' })).toEqual({ ok: true });
    expect((await done).type).toBe('turn.completed');
    expect(existsSync(path.join(w.box.workspace, 'out.txt'))).toBe(true);
    expect(events.find((e) => e.type === 'approval.resolved')).toMatchObject({ outcome: 'approved', decision: 'accept', by: 'ann' });
  }, 120_000);

  it('an approval left with only invalid decisions still ends at its timeout as a denial', async () => {
    w = await world([shell('echo hi > out.txt', { escalated: true }), say('done')]);
    const { sb } = await w.supervisor({ approvals: { reviewer: 'user', timeouts: { command: 1500 } } });
    const asked = next(sb, 'approval.requested');
    const resolved = next(sb, 'approval.resolved');
    await sb.post({ room: 'lab', from: { id: 'ann' }, text: 'write it' });
    const req = await asked;
    expect((await sb.decide({ approvalId: req.approvalId, by: 'ann', decision: 'ACCEPT' })).ok).toBe(false);
    expect(await resolved).toMatchObject({ approvalId: req.approvalId, outcome: 'denied', by: 'timeout' });
    expect(existsSync(path.join(w.box.workspace, 'out.txt'))).toBe(false);
  }, 120_000);
});
