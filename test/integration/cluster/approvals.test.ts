// Approvals across nodes, end to end: two in-process supervisors on one real PostgreSQL, each with
// its own real codex app-server. A turn one node drives asks for a command approval; a client of
// the other node sees it (event feed) and decides it there: the same identity rule, forwarded to
// the driving node, applied once. A driver that lost its lease gets no decision, and the node
// that takes the conversation over closes what it left open as denied.
import { existsSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { Supervisor } from '../../../src/supervisor/supervisor.js';
import type { RoomEvent } from '../../../src/events/room-events.js';
import { postgresPerFile } from '../../support/postgres.js';
import { RoomServer } from '../../../src/room/server.js';
import { auth, client, cred } from '../../security/room-support.js';
import { ClusterTeardown, until, writeFileNamedAfterPost } from '../../support/cluster-test.js';

const server = postgresPerFile();

const t = new ClusterTeardown();
const { supervisors: open, closers: cleanup } = t;
afterEach(() => t.run(), 60_000);

type Requested = Extract<RoomEvent, { type: 'approval.requested' }>;
type Resolved = Extract<RoomEvent, { type: 'approval.resolved' }>;
const requested = (events: RoomEvent[]) => events.filter((e): e is Requested => e.type === 'approval.requested');
const resolved = (events: RoomEvent[], id: string) => events.filter((e): e is Resolved => e.type === 'approval.resolved' && e.approvalId === id);
const drives = (sb: Supervisor) => (sb as unknown as { cluster: { driver: { drives(s: string): boolean } } }).cluster.driver.drives('lab/chat/main');

describe('approvals across nodes', () => {
  it('a client of another node decides: same identity rule, applied once on the driver; a lost lease refuses; a takeover denies', async () => {
    const url = await server.freshDatabase();
    const nodes = await t.nodes(url, ['a', 'b'], writeFileNamedAfterPost, { appServer: { approvalPolicy: 'untrusted', sandbox: 'workspace-write' }, approvals: { reviewer: 'user' } });
    // A room server on each node, with Ann (the first poster: the session owner) and Mallory joined.
    const rooms = await Promise.all(
      nodes.map(async (n) => {
        const server = new RoomServer({ backend: n.sb, auth, web: false });
        const url = await server.start();
        cleanup.push(() => server.stop());
        const [ann, mallory] = [client(cleanup, url), client(cleanup, url)];
        await ann.join({ token: await cred('lab', 'ann', 'member') });
        await mallory.join({ token: await cred('lab', 'mallory', 'member') });
        return { ann, mallory };
      }),
    );
    await nodes[0]!.sb.post({ room: 'lab', from: { id: 'ann', name: 'Ann' }, text: 'one' });
    // Whichever node took the conversation drives it; the client is on the other one.
    const driver = await until(() => nodes.find((n) => drives(n.sb) && requested(n.events).length === 1));
    const other = nodes.find((n) => n !== driver)!;
    const room = rooms[nodes.indexOf(other)]!;
    const first = await until(() => requested(other.events)[0]);
    expect(first).toMatchObject({ kind: 'command', deciders: { owner: 'ann' } });
    // Ann's client on the other node sees the request live (the event feed).
    await room.ann.next((f) => f.type === 'event' && (f.event as RoomEvent).type === 'approval.requested');

    // Refused on the other node exactly as on the driver; an observer before anything is looked up.
    const mallory = { approvalId: first.approvalId, by: 'mallory', decision: 'accept' };
    const there = await driver.sb.decide(mallory);
    expect(there).toMatchObject({ ok: false, reason: expect.stringContaining('mallory may not decide approval') });
    expect(await other.sb.decide(mallory)).toEqual(there);
    await room.mallory.send({ type: 'approval.decide', approvalId: first.approvalId, decision: 'accept' });
    expect(await room.mallory.next((f) => f.type === 'decided')).toEqual({ type: 'decided', approvalId: first.approvalId, ...(there as object) });
    expect(await other.sb.decide({ ...mallory, role: 'observer' })).toMatchObject({ ok: false, reason: expect.stringContaining('observers cannot decide') });
    expect(await other.sb.decide({ ...mallory, by: 'ann', room: 'elsewhere' })).toEqual({ ok: false, reason: `approval ${first.approvalId} is not in room elsewhere` });
    expect(await other.sb.decide({ ...mallory, approvalId: 'no-such-approval' })).toEqual({ ok: false, reason: 'unknown approval "no-such-approval"' });

    // The owner decides on the other node: answered once the driver applied it.
    await room.ann.send({ type: 'approval.decide', approvalId: first.approvalId, decision: 'accept' });
    expect(await room.ann.next((f) => f.type === 'decided', 20_000)).toEqual({ type: 'decided', approvalId: first.approvalId, ok: true });
    await until(() => resolved(driver.events, first.approvalId).length === 1);
    expect(resolved(driver.events, first.approvalId)).toMatchObject([{ outcome: 'approved', by: 'ann', decision: 'accept' }]);
    await until(() => driver.events.some((e) => e.type === 'turn.completed'));
    expect(existsSync(path.join(t.box!.workspace, 'one.txt'))).toBe(true);
    await until(() => resolved(other.events, first.approvalId).length === 1);
    expect(await other.sb.decide({ approvalId: first.approvalId, by: 'ann', decision: 'accept' })).toEqual({ ok: false, reason: `approval ${first.approvalId} is already finished (approved)` });
    // One shared history: the decision recorded once, whichever node reads it.
    for (const n of nodes) {
      const decided = (await n.sb.history('lab')).filter((r) => r.kind === 'approval' && r.approvalId === first.approvalId);
      expect(decided).toMatchObject([{ outcome: 'approved', by: 'ann' }]);
    }

    // The next approval; then the driver loses its lease (another node "z" takes it and dies).
    await other.sb.post({ room: 'lab', from: { id: 'ann', name: 'Ann' }, text: 'two' });
    const second = await until(() => requested(other.events)[1]);
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      await db.query(`UPDATE session_leases SET node = 'z', epoch = epoch + 1, expires_at = now() + interval '1 hour' WHERE session = 'lab/chat/main'`);
      // The old driver has not noticed yet (its next renewal): its own decide path checks the lease first.
      expect(await driver.sb.decide({ approvalId: second.approvalId, by: 'ann', decision: 'accept' })).toMatchObject({ ok: false });
      expect(await other.sb.decide({ approvalId: second.approvalId, by: 'ann', decision: 'accept' })).toEqual({
        ok: false,
        reason: `approval ${second.approvalId} cannot be decided: node ${driver.node}, which asked, no longer drives the conversation (it is denied)`,
      });
      // "z" is gone: its lease runs out, a live node takes the conversation over (its message is
      // still queued) and closes the approval the old driver left open, as denied, telling the room.
      await db.query(`UPDATE session_leases SET expires_at = now() WHERE session = 'lab/chat/main'`);
      // (The old driver withdrew it on its own when it found its lease gone: that stays on that node.)
      for (const n of nodes) {
        const closed = await until(() => resolved(n.events, second.approvalId).find((e) => e.by === 'switchboard'), 30_000);
        expect(closed).toMatchObject({ outcome: 'denied', reason: expect.stringContaining(`node ${driver.node}, which asked, stopped driving`) });
      }
      expect(resolved(other.events, second.approvalId).filter((e) => e.outcome !== 'withdrawn')).toHaveLength(1);
      const row = await db.query('SELECT closed_at IS NOT NULL AS closed, outcome FROM approval_pending WHERE approval_id = $1', [second.approvalId]);
      expect(row.rows).toEqual([{ closed: true, outcome: 'denied' }]);
      expect(existsSync(path.join(t.box!.workspace, 'two.txt'))).toBe(false);
    } finally {
      await db.end();
    }
  }, 240_000);
});
