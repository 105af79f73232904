// Pending approvals and forwarded decisions in PostgreSQL: rows written under the driving
// node's lease, forwarding only to a current lease, each decision taken once, stale rows closed.
import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { ClusterApprovals } from '../../../src/cluster/approvals.js';
import { FencedWriteError, type Lease } from '../../../src/storage/cluster.js';
import type { DecideInput } from '../../../src/supervisor/post.js';
import { memoryLogger } from '../../support/log.js';
import { ANSWERS_CHANNEL, DECISIONS_CHANNEL, PostgresApprovalStore } from '../../../src/storage/postgres/approvals.js';
import { PostgresStore } from '../../../src/storage/postgres/store.js';
import { postgresPerFile } from '../../support/postgres.js';

const server = postgresPerFile();

const open: PostgresStore[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
}, 60_000);

async function world() {
  const url = await server.freshDatabase();
  const [sa, sb] = [await PostgresStore.open(url), await PostgresStore.open(url)];
  open.push(sa, sb);
  const a = { cluster: sa.cluster('a'), approvals: new PostgresApprovalStore(sa.pool, sa.cluster('a')) };
  const b = { cluster: sb.cluster('b'), approvals: new PostgresApprovalStore(sb.pool, sb.cluster('b')) };
  return { url, a, b, pool: sa.pool };
}

const asked = (approvalId: string) => ({
  approvalId,
  session: 'lab/chat/main',
  kind: 'command',
  body: { type: 'approval.requested', approvalId, title: 'echo hi' },
  owner: 'ann',
  approvers: ['bob'],
  expiresAt: Date.now() + 60_000,
});

describe('pending approvals in postgres', () => {
  it('the driving node writes and closes a row under its lease; another node reads it', async () => {
    const { a, b, pool } = await world();
    const lease = (await a.cluster.acquire('lab/chat/main', 10_000))!;
    await a.approvals.open(lease, asked('ap-1'));
    await a.approvals.open(lease, asked('ap-1'));
    expect(await b.approvals.find('ap-1')).toEqual({
      approval_id: 'ap-1', session: 'lab/chat/main', node: 'a', epoch: 1, kind: 'command', owner: 'ann', approvers: ['bob'], closed: false, outcome: null,
    });
    await a.approvals.close(lease, 'ap-1', 'approved', 'ann');
    expect(await b.approvals.find('ap-1')).toMatchObject({ closed: true, outcome: 'approved' });
    expect(await b.approvals.find('nope')).toBeUndefined();
    // Closed rows are kept a day (to answer "already finished"), then pruned.
    await b.approvals.prune();
    expect(await b.approvals.find('ap-1')).toMatchObject({ closed: true });
    await a.approvals.open(lease, asked('ap-2'));
    await pool.query(`UPDATE approval_pending SET closed_at = now() - interval '25 hours' WHERE approval_id = 'ap-1'`);
    await b.approvals.prune();
    expect(await b.approvals.find('ap-1')).toBeUndefined();
    expect(await b.approvals.find('ap-2')).toMatchObject({ closed: false });
  });

  it('a node whose lease was taken over writes no row; the new driver closes the old epoch’s rows as denied', async () => {
    const { a, b } = await world();
    const old = (await a.cluster.acquire('lab/chat/main', 200))!;
    await a.approvals.open(old, asked('ap-1'));
    await new Promise((r) => setTimeout(r, 300));
    const lease = (await b.cluster.acquire('lab/chat/main', 10_000))!;
    expect(lease.epoch).toBe(2);
    await expect(a.approvals.open(old, asked('ap-2'))).rejects.toBeInstanceOf(FencedWriteError);
    await expect(a.approvals.close(old, 'ap-1', 'approved', 'ann')).rejects.toBeInstanceOf(FencedWriteError);
    await b.approvals.open(lease, asked('ap-3'));
    expect(await b.approvals.closeStale(lease)).toEqual([{ approvalId: 'ap-1', node: 'a' }]);
    expect(await b.approvals.find('ap-1')).toMatchObject({ closed: true, outcome: 'denied' });
    expect(await b.approvals.find('ap-2')).toBeUndefined();
    // The new driver's own approval stays open; closing again finds nothing.
    expect(await b.approvals.find('ap-3')).toMatchObject({ closed: false, epoch: 2 });
    expect(await b.approvals.closeStale(lease)).toEqual([]);
  });

  it("a room's open approvals, whichever node asked: only under a current lease, only that room's, as the room saw them", async () => {
    const { a, b, pool } = await world();
    // The approval.requested event as the room saw it (what `joined.pending` lists).
    const seen = (approvalId: string, session: string) => ({
      type: 'approval.requested', session, at: 1, approvalId, turnId: 't1', kind: 'command', title: `run ${approvalId}`,
      detail: { command: 'echo hi' }, choices: ['accept', 'decline'], reviewer: 'user', expiresAt: undefined, deciders: { owner: 'ann', approvers: ['bob'] },
    });
    const ask = async (store: PostgresApprovalStore, lease: Lease, approvalId: string, body: unknown = seen(approvalId, lease.session)) =>
      store.open(lease, { ...asked(approvalId), session: lease.session, body });
    const [main, side] = [(await a.cluster.acquire('lab/chat/main', 10_000))!, (await b.cluster.acquire('lab/chat/side', 10_000))!];
    await ask(a.approvals, main, 'ap-1');
    await ask(b.approvals, side, 'ap-2');
    await ask(a.approvals, main, 'ap-3');
    await ask(a.approvals, main, 'ap-closed');
    await a.approvals.close(main, 'ap-closed', 'approved', 'ann');
    // A body that names another approval or another conversation is not listed.
    await ask(a.approvals, main, 'ap-forged', seen('ap-1', 'lab/chat/main'));
    await ask(a.approvals, main, 'ap-moved', seen('ap-moved', 'other/chat/main'));
    // Other rooms: one whose name only LIKE wildcards would match, one whose name starts the same.
    await ask(b.approvals, (await b.cluster.acquire('lab-2/chat/main', 10_000))!, 'ap-4');
    await ask(b.approvals, (await b.cluster.acquire('lxb/chat/main', 10_000))!, 'ap-5');
    await pool.query(`UPDATE approval_pending SET created_at = now() + (approval_id = 'ap-1')::int * interval '1 second'`);
    const ids = async (room: string, limit = 10) => (await a.approvals.openInRoom(room, limit)).map((e) => (e as { approvalId: string }).approvalId);
    expect(await b.approvals.openInRoom('lab', 10)).toEqual([seen('ap-2', 'lab/chat/side'), seen('ap-3', 'lab/chat/main'), seen('ap-1', 'lab/chat/main')]);
    expect(await ids('lab', 2)).toEqual(['ap-2', 'ap-3']);
    expect(await ids('l_b')).toEqual([]);
    expect(await ids('lab-2')).toEqual(['ap-4']);
    // The driver's lease ran out (it died): its rows are about to be closed as denied, not listed.
    await pool.query("UPDATE session_leases SET expires_at = now() WHERE session = 'lab/chat/main'");
    expect(await ids('lab')).toEqual(['ap-2']);
    // Taken over (a newer epoch) before the old rows were closed: the old driver's rows are not listed either.
    const again = (await b.cluster.acquire('lab/chat/main', 10_000))!;
    expect(again.epoch).toBe(2);
    expect(await ids('lab')).toEqual(['ap-2']);
    await ask(b.approvals, again, 'ap-6');
    expect(await ids('lab')).toEqual(['ap-2', 'ap-6']);
  });

  it('a decision is forwarded only to a current lease, NOTIFYs the driver, is taken once and answered', async () => {
    const { url, a, b, pool } = await world();
    const listener = new pg.Client({ connectionString: url });
    await listener.connect();
    const notes: Array<{ channel: string; payload: string | undefined }> = [];
    listener.on('notification', (n) => notes.push({ channel: n.channel, payload: n.payload }));
    await listener.query(`LISTEN ${DECISIONS_CHANNEL}; LISTEN ${ANSWERS_CHANNEL}`);
    try {
      const lease = (await b.cluster.acquire('lab/chat/main', 10_000))!;
      await b.approvals.open(lease, asked('ap-1'));
      const id = '00000000-0000-4000-8000-000000000001';
      expect(await a.approvals.forward(id, 'ap-1', 'a', { by: 'ann', decision: 'accept' })).toBe(true);
      expect(await a.approvals.forward('00000000-0000-4000-8000-000000000009', 'nope', 'a', { by: 'ann', decision: 'accept' })).toBe(false);
      const taken = await b.approvals.take('b');
      expect(taken).toEqual([{ id, approval_id: 'ap-1', session: 'lab/chat/main', epoch: 1, from_node: 'a', body: { by: 'ann', decision: 'accept' } }]);
      expect(await b.approvals.take('b')).toEqual([]);
      // Taken by the driver: the deciding node can no longer withdraw it.
      expect(await a.approvals.withdraw(id, 'a', 'gave up')).toBe(false);
      expect(await a.approvals.answerOf(id)).toBeUndefined();
      await b.approvals.answer(id, { ok: false, reason: 'nope\u0007 not offered' });
      expect(await a.approvals.answerOf(id)).toEqual({ ok: false, reason: 'nope  not offered' });
      await expect.poll(() => notes).toEqual([
        { channel: DECISIONS_CHANNEL, payload: 'b' },
        { channel: ANSWERS_CHANNEL, payload: id },
      ]);

      // Not taken yet: the deciding node withdraws it, and the driver never sees it.
      const id2 = '00000000-0000-4000-8000-000000000002';
      expect(await a.approvals.forward(id2, 'ap-1', 'a', { by: 'ann', decision: 'accept' })).toBe(true);
      expect(await a.approvals.withdraw(id2, 'a', 'gave up')).toBe(true);
      expect(await b.approvals.take('b')).toEqual([]);
      expect(await a.approvals.answerOf(id2)).toEqual({ ok: false, reason: 'gave up' });

      // The driver's lease expired (it died, or paused): nothing is forwarded to it.
      await pool.query("UPDATE session_leases SET expires_at = now() WHERE session = 'lab/chat/main'");
      expect(await a.approvals.forward('00000000-0000-4000-8000-000000000003', 'ap-1', 'a', { by: 'ann', decision: 'accept' })).toBe(false);
      // A closed approval neither.
      const again = (await b.cluster.acquire('lab/chat/main', 10_000))!;
      await b.approvals.open(again, asked('ap-2'));
      await b.approvals.close(again, 'ap-2', 'withdrawn', 'switchboard');
      expect(await a.approvals.forward('00000000-0000-4000-8000-000000000004', 'ap-2', 'a', { by: 'ann', decision: 'accept' })).toBe(false);
    } finally {
      await listener.end();
    }
  });
});

describe('forwarded decisions (ClusterApprovals on the SQL store, notifications by hand)', () => {
  async function pair() {
    const w = await world();
    const lease = (await w.b.cluster.acquire('lab/chat/main', 10_000))!;
    await w.b.approvals.open(lease, asked('ap-1'));
    const applied: DecideInput[] = [];
    const { log } = memoryLogger('silent');
    let driverLease: Lease | undefined = lease;
    const driver = new ClusterApprovals({ store: w.b.approvals, node: 'b', leaseOf: () => driverLease, decideHere: (d) => (applied.push(d), { ok: true }), emit: () => undefined, log });
    const decider = new ClusterApprovals({ store: w.a.approvals, node: 'a', leaseOf: () => undefined, decideHere: () => ({ ok: false, reason: 'not here' }), emit: () => undefined, log, answerMs: 300 });
    const forwarded = async () => {
      for (;;) {
        const r = await w.pool.query('SELECT count(*)::int AS n FROM approval_decisions');
        if (r.rows[0].n > 0) return;
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    return { ...w, lease, driver, decider, applied, forwarded, setLease: (l: Lease | undefined) => (driverLease = l) };
  }

  it('the driver applies exactly the approval it was forwarded, through its local decide', async () => {
    const w = await pair();
    const answer = w.decider.decide({ approvalId: 'ap-1', by: 'ann', decision: 'accept', room: 'lab' });
    await w.forwarded();
    w.driver.onDecisionsNotice('a'); // another node's notice: not for this driver
    w.driver.onDecisionsNotice('b');
    expect(await answer).toEqual({ ok: true });
    expect(w.applied).toEqual([{ approvalId: 'ap-1', by: 'ann', decision: 'accept', room: 'lab' }]);
  });

  it('a driver whose lease changed since the decision was forwarded refuses it; one that never takes it leaves it undecided', async () => {
    const w = await pair();
    const answer = w.decider.decide({ approvalId: 'ap-1', by: 'bob', decision: 'accept' });
    await w.forwarded();
    w.setLease({ ...w.lease, epoch: w.lease.epoch + 1 });
    w.driver.onDecisionsNotice(undefined);
    expect(await answer).toEqual({ ok: false, reason: 'approval ap-1 cannot be decided: node b no longer drives it at the epoch it was asked under' });
    w.setLease(w.lease);
    expect(await w.decider.decide({ approvalId: 'ap-1', by: 'bob', decision: 'accept' })).toEqual({ ok: false, reason: 'node b, which drives the conversation, did not take the decision in time: not decided' });
    // Withdrawn by the decider: a late look by the driver finds nothing to apply.
    expect(await w.b.approvals.take('b')).toEqual([]);
    expect(w.applied).toEqual([]);
    expect(await w.decider.decide({ approvalId: 'ap-1', by: 'mallory', decision: 'accept' })).toEqual({
      ok: false,
      reason: 'mallory may not decide approval ap-1: only the session owner (ann), approvers (bob) and room owners/approvers can (mallory is neither the session owner nor an approver)',
    });
  });
});
