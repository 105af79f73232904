// A client joining on a node after an approval was asked: two in-process supervisors on one real
// PostgreSQL, each with its own real codex app-server. A room server started after the request
// (as after a restart) never saw it asked, yet its `joined.pending` lists it (the driving node's
// row in the shared database), once, as the room saw it; its client decides it there, and after
// the decision no join on any node lists it.
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
const requested = (events: RoomEvent[]) => events.filter((e): e is Requested => e.type === 'approval.requested');
const resolved = (events: RoomEvent[], id: string) => events.some((e) => e.type === 'approval.resolved' && e.approvalId === id);
const drives = (sb: Supervisor) => (sb as unknown as { cluster: { driver: { drives(s: string): boolean } } }).cluster.driver.drives('lab/chat/main');

async function roomServer(sb: Supervisor): Promise<string> {
  const s = new RoomServer({ backend: sb, auth, web: false });
  const url = await s.start();
  cleanup.push(() => s.stop());
  return url;
}
let joins = 0;
/** A new client's `joined.pending` (each join another participant: joins are rate-limited per participant). */
async function pendingOnJoin(url: string, as = `p${++joins}`): Promise<unknown[]> {
  const c = client(cleanup, url);
  return (await c.join({ token: await cred('lab', as, 'member') })).pending as unknown[];
}

describe('joining on a node after an approval was asked', () => {
  it('lists it in joined.pending once, its client decides it there, then no join lists it', async () => {
    const url = await server.freshDatabase();
    const nodes = await t.nodes(url, ['a', 'b'], writeFileNamedAfterPost, { appServer: { approvalPolicy: 'untrusted', sandbox: 'workspace-write' }, approvals: { reviewer: 'user' } });
    // Room servers running from the start: they see the request live.
    const early = await Promise.all(nodes.map((n) => roomServer(n.sb)));
    await nodes[0]!.sb.post({ room: 'lab', from: { id: 'ann', name: 'Ann' }, text: 'one' });
    const driver = await until(() => nodes.find((n) => drives(n.sb) && requested(n.events).length === 1));
    const other = nodes.find((n) => n !== driver)!;
    const asked = await until(() => requested(other.events)[0]);
    const seen = JSON.parse(JSON.stringify(asked)) as Requested;
    expect(seen).toMatchObject({ kind: 'command', deciders: { owner: 'ann' }, choices: expect.arrayContaining(['accept']) });

    // Room servers started only now, as after a restart: their event logs never saw it asked.
    const late = await Promise.all(nodes.map((n) => roomServer(n.sb)));
    for (const u of [...late, ...early]) expect(await pendingOnJoin(u)).toEqual([seen]);

    // Ann, on the late server of the node that does not drive the conversation, decides it there.
    const lateOther = late[nodes.indexOf(other)]!;
    const ann = client(cleanup, lateOther);
    expect((await ann.join({ token: await cred('lab', 'ann', 'member') })).pending).toEqual([seen]);
    await ann.send({ type: 'approval.decide', approvalId: seen.approvalId, decision: 'accept' });
    expect(await ann.next((f) => f.type === 'decided', 20_000)).toEqual({ type: 'decided', approvalId: seen.approvalId, ok: true });
    await until(() => resolved(driver.events, seen.approvalId) && resolved(other.events, seen.approvalId));
    await until(() => driver.events.some((e) => e.type === 'turn.completed'));
    expect(existsSync(path.join(t.box!.workspace, 'one.txt'))).toBe(true);

    // Its row closed: no join lists it, not even on a server that never saw it asked nor decided.
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      await until(async () => (await db.query('SELECT 1 FROM approval_pending WHERE approval_id = $1 AND closed_at IS NOT NULL', [seen.approvalId])).rows.length === 1);
    } finally {
      await db.end();
    }
    const after = await Promise.all(nodes.map((n) => roomServer(n.sb)));
    for (const u of [...after, ...late, ...early]) expect(await pendingOnJoin(u)).toEqual([]);
  }, 240_000);
});
