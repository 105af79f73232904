// `joined.pending` with several nodes: besides the approvals this room server saw asked, those
// the backend lists from the shared database (another node asked before this server started),
// each once, none this server saw resolved. A slow or failing lookup never holds a join: after
// `pendingLookupMs` (or at once on a failure) the local list is sent and a warning logged.
import { afterEach, describe, expect, it } from 'vitest';
import type { RoomEvent } from '../../src/events/room-events.js';
import { memoryLogger } from '../support/log.js';
import { client, cred, startServer, until, type Cleanup } from './room-support.js';

const cleanup: Cleanup = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const requested = (approvalId: string, session = 'lab/chat/main') =>
  ({ type: 'approval.requested', session, at: 1, approvalId, turnId: 't', kind: 'command', title: `Run ${approvalId}`, detail: {}, choices: ['accept', 'decline'], reviewer: 'user', deciders: { owner: 'ann', approvers: [] } }) as unknown as RoomEvent;
const resolvedEvent = (approvalId: string) => ({ type: 'approval.resolved', session: 'lab/chat/main', at: 2, approvalId, outcome: 'approved', decision: 'accept', by: 'ann', reason: '' }) as unknown as RoomEvent;
const ids = (pending: unknown) => (pending as Array<{ approvalId: string }>).map((p) => p.approvalId);

describe('joined.pending with approvals held on other nodes', () => {
  it('lists the stored ones this server lacks after its own, each once, none it saw resolved', async () => {
    const { url, b, events$ } = await startServer(cleanup);
    const asked: Array<[string, number]> = [];
    b.openApprovals = async (room, limit) => (asked.push([room, limit]), [requested('ap-local'), requested('ap-remote'), requested('ap-decided'), requested('ap-remote')]);
    // Seen live here: one still open, one asked and decided (its row not yet closed when read).
    events$.next(requested('ap-local'));
    events$.next(requested('ap-decided'));
    events$.next(resolvedEvent('ap-decided'));
    const j = await client(cleanup, url).join({ token: await cred('lab', 'ann') });
    expect(ids(j.pending)).toEqual(['ap-local', 'ap-remote']);
    expect((j.pending as unknown[])[1]).toEqual(requested('ap-remote'));
    expect(asked).toEqual([['lab', 200]]);
    // On a resume as well.
    const again = await client(cleanup, url).join({ token: await cred('lab', 'ann'), resume: { epoch: j.epoch as string, seq: j.seq as number } });
    expect(again).toMatchObject({ resumed: true });
    expect(ids(again.pending)).toEqual(['ap-local', 'ap-remote']);
  });

  it('a lookup that hangs or fails sends the local list (bounded, logged); so does a backend with nothing to look up', async () => {
    const { log, records } = memoryLogger('warn');
    const { url, b, events$ } = await startServer(cleanup, { log, limits: { pendingLookupMs: 300 } });
    events$.next(requested('ap-local'));
    const asked: string[] = [];
    b.openApprovals = (room) => (asked.push(room), new Promise<RoomEvent[]>(() => undefined));
    const started = Date.now();
    const slow = await client(cleanup, url).join({ token: await cred('lab', 'ann') });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(ids(slow.pending)).toEqual(['ap-local']);
    expect(asked).toEqual(['lab']);
    await until(() => records().some((r) => r.msg === 'join sent with only the approvals this server saw asked: the shared database did not answer in time'), 'a timeout warning');
    b.openApprovals = async () => {
      throw new Error('connection refused');
    };
    const failed = await client(cleanup, url).join({ token: await cred('lab', 'bob') });
    expect(ids(failed.pending)).toEqual(['ap-local']);
    expect(records().find((r) => r.err === 'connection refused')).toMatchObject({ room: 'lab', msg: 'join sent with only the approvals this server saw asked: the shared database could not be asked' });
    // A single node: nothing to look up.
    b.openApprovals = () => undefined;
    expect(ids((await client(cleanup, url).join({ token: await cred('lab', 'cy') })).pending)).toEqual(['ap-local']);
  });
});
