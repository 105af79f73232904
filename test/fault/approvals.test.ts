// Fault suite, part 2: approvals under faults, against the REAL `codex app-server` through
// the host path (SessionManager + ApprovalRouter on a tapped stdio Connection). Every
// command asks for escalation (it would run outside the sandbox once accepted), so the
// side effect — a file in the workspace — appears if and only if something said yes.
//
// Invariant: no fault ever produces an accept. For every fault: the file never appears,
// the audit says denied or withdrawn, and no accept answer is ever written to any app-server
// (the wire tap sees every frame). A control host shows the same command does run when the
// owner really accepts, so the zero is not vacuous.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ApprovalAudit, Reviewer } from '../../src/approvals/types.js';
import { say, shell } from '../support/mock-model.js';
import { requestText } from '../support/fault-model.js';
import {
  acceptsOnWire,
  cleanupAll,
  faultHost,
  faultWorld,
  finishFaultFile,
  inject,
  OWNER,
  type FaultHost,
  type World,
} from '../support/fault-harness.js';

afterEach(cleanupAll);
afterAll(() => finishFaultFile('fault.approvals'), 30_000);

const BOB = { id: 'u-bob', name: 'Bob' };
const MALLORY = { id: 'u-mallory', name: 'Mallory' };
const untrusted = { approvalPolicy: 'untrusted' as const, busyMode: 'queue' as const };

/** Script: for each name, an escalated `touch NAME` then a closing message. */
const touches = (...names: string[]) => names.flatMap((n) => [shell(`touch ${n}`, { escalated: true, callId: `call_${n.replace(/\W/g, '_')}` }), say(`done with ${n}`)]);

const file = (w: World, name: string) => path.join(w.cwd, name);

/** Post, wait for the turn to end completed, and check the command never ran. */
async function expectNoSideEffect(h: FaultHost, w: World, name: string, end: Promise<{ type: string }>): Promise<void> {
  expect((await end).type).toBe('turn.completed');
  expect(existsSync(file(w, name)), `${name} must not exist`).toBe(false);
  expect(acceptsOnWire(h.tap.sent)).toEqual([]);
}

const lastAudit = (h: FaultHost): ApprovalAudit => h.audits.at(-1)!;

describe('control (not a fault): the owner accepts, the command runs', () => {
  it('accepted by the owner → the file exists (so "never exists" below is meaningful)', async () => {
    const w = await faultWorld(touches('control.txt'));
    const h = await faultHost(w, { control: true, settings: untrusted, approvals: { reviewer: 'user' } });
    h.post('Create control.txt');
    const prompt = await h.room.next('approval.requested');
    expect(h.router!.decide({ approvalId: prompt.approvalId, by: OWNER.id, decision: 'accept' })).toEqual({ ok: true });
    expect((await h.room.end()).type).toBe('turn.completed');
    expect(existsSync(file(w, 'control.txt'))).toBe(true);
    expect(acceptsOnWire(h.tap.sent)).toHaveLength(1);
  });
});

describe('faults of people: 0 accepted', () => {
  it('unauthorized participant, timeout, late decision, conflicting duplicate decisions', async () => {
    const w = await faultWorld(touches('t1.txt', 't2.txt'));
    const h = await faultHost(w, { settings: untrusted, approvals: { reviewer: 'user', approvers: [BOB.id], timeouts: { command: 1_500 } } });

    h.post('Create t1.txt');
    const p1 = await h.room.next('approval.requested');
    const unauthorized = inject('approval: unauthorized participant');
    expect(h.router!.decide({ approvalId: p1.approvalId, by: MALLORY.id, decision: 'accept' })).toMatchObject({ ok: false });
    expect(h.router!.decide({ approvalId: p1.approvalId, by: MALLORY.id, decision: 'acceptForSession' })).toMatchObject({ ok: false });
    expect(h.room.notices()).toContain(`${MALLORY.id} may not decide this approval.`);
    expect(h.router!.pending()).toMatchObject([{ approvalId: p1.approvalId, awaitingUser: true }]);
    const timeout = inject('approval: timeout (nobody decides)');
    expect(await h.room.next('approval.resolved')).toMatchObject({ approvalId: p1.approvalId, outcome: 'denied', by: 'timeout' });
    const late = inject('approval: late decision by a person');
    expect(h.router!.decide({ approvalId: p1.approvalId, by: OWNER.id, decision: 'accept' })).toEqual({
      ok: false,
      reason: `approval ${p1.approvalId} is already finished (denied)`,
    });
    await expectNoSideEffect(h, w, 't1.txt', h.room.end());
    expect(lastAudit(h)).toMatchObject({ approvalId: p1.approvalId, outcome: 'denied', by: 'timeout', failClosed: true });
    expect(requestText(w.model.requests[1])).toMatch(/rejected/);
    unauthorized();
    timeout();
    late();

    h.post('Create t2.txt');
    const p2 = await h.room.next('approval.requested');
    const duplicate = inject('approval: conflicting duplicate decisions');
    // Two people answer in the same tick, then the owner changes their mind: first one wins.
    expect(h.router!.decide({ approvalId: p2.approvalId, by: OWNER.id, decision: 'decline' })).toEqual({ ok: true });
    expect(h.router!.decide({ approvalId: p2.approvalId, by: BOB.id, decision: 'accept' })).toMatchObject({ ok: false });
    expect(h.router!.decide({ approvalId: p2.approvalId, by: OWNER.id, decision: 'accept' })).toMatchObject({ ok: false });
    await expectNoSideEffect(h, w, 't2.txt', h.room.end());
    expect(lastAudit(h)).toMatchObject({ approvalId: p2.approvalId, outcome: 'denied', by: OWNER.id, decision: 'decline' });
    duplicate();
  });
});

describe('faults of reviewers: 0 accepted', () => {
  it('a reviewer that throws, rejects, answers garbage or an unoffered choice, and a crashing session lookup', async () => {
    const modes = ['throws', 'rejects', 'unoffered choice', 'malformed result', 'session lookup throws'] as const;
    let call = 0;
    const flaky: Reviewer = {
      name: 'flaky',
      review: (() => {
        const mode = modes[call++];
        if (mode === 'throws') throw new Error('reviewer exploded');
        if (mode === 'rejects') return Promise.reject(new Error('reviewer backend is down'));
        if (mode === 'unoffered choice') return Promise.resolve({ choice: 'definitely', by: 'flaky' });
        return Promise.resolve(42 as never);
      }) as Reviewer['review'],
    };
    const reasons: Record<(typeof modes)[number], RegExp> = {
      throws: /flaky failed: reviewer exploded/,
      rejects: /flaky failed: reviewer backend is down/,
      'unoffered choice': /decision "definitely" was not offered/,
      'malformed result': /flaky returned an invalid decision/,
      'session lookup throws': /user failed: no room session for thread/,
    };
    let lookupCrashes = false;
    const w = await faultWorld(touches(...modes.map((_, i) => `r${i}.txt`)));
    const h = await faultHost(w, {
      settings: untrusted,
      approvals: {
        reviewer: 'flaky',
        defaultReviewer: 'user',
        reviewers: [flaky],
        escalateTo: 'user',
        resolveContext: (_thread, normal) => {
          if (lookupCrashes) throw new Error('session store unavailable');
          return normal();
        },
      },
    });
    for (const [i, mode] of modes.entries()) {
      const survived = inject(`approval: reviewer fault (${mode})`);
      lookupCrashes = mode === 'session lookup throws';
      h.post(`Create r${i}.txt`);
      await expectNoSideEffect(h, w, `r${i}.txt`, h.room.end());
      const audit = lastAudit(h);
      expect(audit.outcome, `${mode}: ${audit.reason}`).toBe('denied');
      expect(audit.reason).toMatch(reasons[mode]);
      expect(audit.failClosed).toBe(true);
      // Without its session the request goes to the router's default (the room), which has
      // no room to ask in: denied, never guessed.
      expect(audit.reviewers).toEqual([mode === 'session lookup throws' ? 'user' : 'flaky']);
      survived();
    }
    expect(h.audits).toHaveLength(modes.length);
    expect(h.room.all('approval.requested')).toEqual([]); // a crash never falls through to asking anyone
  });
});

describe('a reviewer that would say yes, too late or after a disconnect: 0 accepted', () => {
  it('its accept after the timeout, after the app-server died, and after /stop is never sent', async () => {
    // It deliberates, ignores its abort signal, then says yes.
    const pending: Array<Promise<void>> = [];
    const slowYes: Reviewer = {
      name: 'slow-yes',
      review: () => {
        let resolve!: (v: { choice: string; by: string }) => void;
        const p = new Promise<{ choice: string; by: string }>((r) => (resolve = r));
        pending.push(new Promise((done) => setTimeout(() => (resolve({ choice: 'accept', by: 'slow-yes' }), done()), 2_000)));
        return p;
      },
    };
    const w = await faultWorld([...touches('late.txt'), shell('touch gone.txt', { escalated: true }), shell('touch stop.txt', { escalated: true })]);
    const h = await faultHost(w, { settings: untrusted, approvals: { reviewer: 'slow-yes', reviewers: [slowYes], timeouts: { command: 400 } } });

    const late = inject('approval: reviewer accepts after the timeout');
    h.post('Create late.txt');
    await expectNoSideEffect(h, w, 'late.txt', h.room.end());
    expect(lastAudit(h)).toMatchObject({ outcome: 'denied', by: 'timeout' });
    await Promise.all(pending.splice(0)); // its accept came, and went nowhere
    expect(acceptsOnWire(h.tap.sent)).toEqual([]);
    late();

    // Longer timeout for the rest: the reviewer is still deliberating when the fault hits.
    const disconnect = inject('approval: app-server dies while the reviewer deliberates');
    h.router!.dispose();
    await h.stop();
    const h2 = await faultHost(w, { settings: untrusted, approvals: { reviewer: 'slow-yes', reviewers: [slowYes], timeouts: { command: 60_000 } } });
    h2.post('Create gone.txt');
    await expect.poll(() => h2.router!.pending().length, { timeout: 15_000 }).toBe(1);
    const killed = h2.kill();
    const failed = await h2.room.end();
    expect(failed).toMatchObject({ type: 'turn.failed' });
    expect(failed.receivedAt - killed.at).toBeLessThan(1_000);
    expect(h2.audits).toMatchObject([{ outcome: 'withdrawn' }]);
    await Promise.all(pending.splice(0));
    await h2.conn.waitForReady(undefined, 10_000);
    expect(existsSync(file(w, 'gone.txt'))).toBe(false);
    expect(acceptsOnWire(h2.tap.sent)).toEqual([]);
    disconnect();

    const stopped = inject('approval: turn interrupted while the reviewer deliberates');
    h2.post('Create stop.txt');
    await expect.poll(() => h2.router!.pending().length, { timeout: 15_000 }).toBe(1);
    h2.post('/stop');
    const end = await h2.room.end();
    expect(end.type).toBe('turn.interrupted');
    expect(h2.audits.at(-1)).toMatchObject({ outcome: 'withdrawn' });
    await Promise.all(pending.splice(0));
    await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(file(w, 'stop.txt'))).toBe(false);
    expect(acceptsOnWire(h2.tap.sent)).toEqual([]);
    stopped();
  });
});
