// Approvals against the REAL codex app-server with the scripted model: command and file
// change approvals both ways, who may decide, timeout, interrupt, and the policy reviewer's rules.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resolveApprovalSettings } from '../../src/approvals/settings.js';
import { applyPatch, functionCallOutputs, say, shell } from '../support/mock-model.js';
import { startHarness, stopHarnesses } from '../support/approval-harness.js';
import { APPROVER, OWNER } from '../support/approval-router.js';

afterEach(stopHarnesses);

const outputText = (req: Parameters<typeof functionCallOutputs>[0]) => functionCallOutputs(req).map((o) => JSON.stringify(o.output)).join('\n');

describe('command approvals (real codex)', () => {
  it('accepted by the owner → the command runs and the file exists', async () => {
    const h = await startHarness({
      script: [shell('echo hi > out.txt', { escalated: true, justification: 'write out.txt' }), say('done')],
      approvalPolicy: 'untrusted',
      sandbox: 'workspace-write',
    });
    const turnId = await h.startTurn();
    const prompt = await h.room.nextRequested();
    expect(prompt).toMatchObject({ kind: 'command', turnId, title: 'Run: echo hi > out.txt', detail: { reason: 'write out.txt', cwd: h.workspace } });
    expect(prompt.choices).toContain('accept');
    expect(h.router.decide({ approvalId: prompt.approvalId, by: OWNER, decision: 'accept' })).toEqual({ ok: true });

    expect((await h.turnCompleted(turnId)).turn.status).toBe('completed');
    expect(existsSync(join(h.workspace, 'out.txt'))).toBe(true);
    expect(outputText(h.mock.requests[1])).toContain('exited with code 0');
    expect(await h.room.resolvedFor(prompt.approvalId)).toMatchObject({ outcome: 'approved', by: OWNER, decision: 'accept' });
    expect(h.audits).toMatchObject([{ kind: 'command', outcome: 'approved', by: OWNER, reviewers: ['user'], failClosed: false }]);
  });

  it('an unauthorized participant is ignored; the approver declines → no file, and the model sees the denial', async () => {
    const h = await startHarness({
      script: [shell('echo hi > out.txt', { escalated: true }), say('ok, skipped')],
      approvalPolicy: 'untrusted',
      sandbox: 'workspace-write',
    });
    const turnId = await h.startTurn();
    const { approvalId } = await h.room.nextRequested();
    const sneaky = h.router.decide({ approvalId, by: 'mallory', decision: 'accept' });
    expect(sneaky.ok).toBe(false);
    expect(h.router.pending()).toMatchObject([{ approvalId, awaitingUser: true }]);
    expect(h.router.decide({ approvalId, by: APPROVER, decision: 'decline' })).toEqual({ ok: true });

    expect((await h.turnCompleted(turnId)).turn.status).toBe('completed');
    expect(existsSync(join(h.workspace, 'out.txt'))).toBe(false);
    expect(h.mock.requests).toHaveLength(2);
    expect(outputText(h.mock.requests[1])).toMatch(/rejected/);
    const exec = h.notes.find((n) => n.method === 'item/completed' && (n.params.item as { type: string }).type === 'commandExecution');
    expect((exec?.params.item as { status: string }).status).toBe('declined');
    expect(h.audits[0]).toMatchObject({ outcome: 'denied', by: APPROVER, decision: 'decline' });
  });

  it('nobody decides → timeout → denial (the command never runs)', async () => {
    const h = await startHarness({
      script: [shell('echo hi > out.txt', { escalated: true }), say('gave up')],
      approvalPolicy: 'untrusted',
      sandbox: 'workspace-write',
      router: { timeouts: { command: 1500 } },
    });
    const turnId = await h.startTurn();
    const { approvalId } = await h.room.nextRequested();
    expect((await h.turnCompleted(turnId)).turn.status).toBe('completed');
    expect(existsSync(join(h.workspace, 'out.txt'))).toBe(false);
    expect(outputText(h.mock.requests[1])).toMatch(/rejected/);
    expect(await h.room.resolvedFor(approvalId)).toMatchObject({ outcome: 'denied', by: 'timeout' });
    expect(h.router.decide({ approvalId, by: OWNER, decision: 'accept' })).toEqual({ ok: false, reason: `approval ${approvalId} is already finished (denied)` });
  });

  it('turn/interrupt while the approval is pending → withdrawn, the room prompt retracted', async () => {
    const h = await startHarness({
      script: [shell('echo hi > out.txt', { escalated: true }), say('never')],
      approvalPolicy: 'untrusted',
      sandbox: 'workspace-write',
    });
    const turnId = await h.startTurn();
    const { approvalId } = await h.room.nextRequested();
    await h.conn.request('turn/interrupt', { threadId: h.threadId, turnId });
    expect((await h.turnCompleted(turnId)).turn.status).toBe('interrupted');
    expect(await h.room.resolvedFor(approvalId)).toMatchObject({ outcome: 'withdrawn' });
    expect(h.audits).toMatchObject([{ approvalId, outcome: 'withdrawn' }]);
    expect(h.router.pending()).toEqual([]);
    expect(h.router.decide({ approvalId, by: OWNER, decision: 'accept' })).toEqual({ ok: false, reason: `approval ${approvalId} was withdrawn` });
    expect(existsSync(join(h.workspace, 'out.txt'))).toBe(false);
    // This harness has no turn machine (which withdraws at the turn's end in production): the engine's
    // entry goes when Codex's serverRequest/resolved arrives, which may trail turn/completed.
    await vi.waitFor(() => expect(h.conn.status().pendingServerRequests).toBe(0), { timeout: 5_000 });
  });
});

describe('file change approvals (real codex, read-only sandbox, untrusted)', () => {
  it('accepted → the patch is applied; declined → it is not, and the model sees the denial', async () => {
    const patch = (name: string) => `*** Begin Patch\n*** Add File: ${name}\n+hi\n*** End Patch`;
    const h = await startHarness({
      script: [applyPatch(patch('yes.txt')), say('applied'), applyPatch(patch('no.txt')), say('skipped')],
      approvalPolicy: 'untrusted',
      sandbox: 'read-only',
    });
    const first = await h.startTurn('add yes.txt');
    const p1 = await h.room.nextRequested(0);
    expect(p1).toMatchObject({ kind: 'fileChange', choices: ['accept', 'acceptForSession', 'decline', 'cancel'] });
    // The prompt shows the change itself, learnt from the fileChange item.
    expect(p1.detail.changes).toEqual([{ path: join(h.workspace, 'yes.txt'), kind: 'add', diff: 'hi\n' }]);
    h.router.decide({ approvalId: p1.approvalId, by: OWNER, decision: 'accept' });
    expect((await h.turnCompleted(first)).turn.status).toBe('completed');
    expect(existsSync(join(h.workspace, 'yes.txt'))).toBe(true);
    expect(outputText(h.mock.requests[1])).toContain('Success');

    const second = await h.startTurn('add no.txt');
    const p2 = await h.room.nextRequested(1);
    h.router.decide({ approvalId: p2.approvalId, by: OWNER, decision: 'decline' });
    expect((await h.turnCompleted(second)).turn.status).toBe('completed');
    expect(existsSync(join(h.workspace, 'no.txt'))).toBe(false);
    expect(outputText(h.mock.requests[3])).toMatch(/rejected/);
    expect(h.audits.map((a) => [a.kind, a.outcome])).toEqual([
      ['fileChange', 'approved'],
      ['fileChange', 'denied'],
    ]);
  });
});

describe('policy reviewer (real codex)', () => {
  it('allows one command and denies another in the same turn, without asking the room', async () => {
    const settings = resolveApprovalSettings('policy');
    const h = await startHarness({
      script: [
        shell('touch allowed.txt', { escalated: true, callId: 'call_touch' }),
        shell('rm -f keep.txt', { escalated: true, callId: 'call_rm' }),
        say('done'),
      ],
      approvalPolicy: settings.approvalPolicy,
      sandbox: settings.sandbox,
      router: {
        reviewer: settings.reviewer,
        policy: {
          rules: [
            { effect: 'allow', command: 'touch' },
            { effect: 'deny', command: 'rm', reason: 'deleting files needs a person' },
          ],
          fallback: 'deny',
        },
      },
    });
    writeFileSync(join(h.workspace, 'keep.txt'), 'precious');
    const turnId = await h.startTurn();
    expect((await h.turnCompleted(turnId)).turn.status).toBe('completed');

    expect(existsSync(join(h.workspace, 'allowed.txt'))).toBe(true);
    expect(existsSync(join(h.workspace, 'keep.txt'))).toBe(true);
    expect(h.room.requested()).toEqual([]);
    expect(h.audits.map((a) => [a.title, a.by, a.outcome, a.reason])).toEqual([
      ['Run: touch allowed.txt', 'policy', 'approved', 'policy: allow rule (command "touch")'],
      ['Run: rm -f keep.txt', 'policy', 'denied', 'policy: deleting files needs a person'],
    ]);
    const outputs = functionCallOutputs(h.mock.requests.at(-1));
    expect(String(JSON.stringify(outputs.find((o) => o.call_id === 'call_touch')?.output))).toContain('exited with code 0');
    expect(String(JSON.stringify(outputs.find((o) => o.call_id === 'call_rm')?.output))).toMatch(/rejected/);
    expect(h.room.notices().map((n) => n.level)).toEqual(['info', 'warning']);
  });
});
