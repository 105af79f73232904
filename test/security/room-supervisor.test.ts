// Issue 11 #2 end to end: the room server in signed mode in front of the real Supervisor, the
// real codex app-server and the scripted model. Only verified identities reach the backend;
// an observer, a member who is not the owner, and a forged frame cannot decide the owner's approval.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSupervisor } from '../../src/supervisor/supervisor.js';
import { RoomServer } from '../../src/room/server.js';
import { createLogger } from '../../src/log/logger.js';
import { startScriptedModel, say, shell } from '../support/mock-model.js';
import { makeCodexHome } from '../../src/scripted-model/codex-home.js';
import { auth, client, cred, type Cleanup, type Frame } from './room-support.js';

const cleanup: Cleanup = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const isEvent = (type: string) => (f: Frame) => f.type === 'event' && (f.event as { type: string }).type === type;

describe('#2 decisions by verified role against the real supervisor', () => {
  it('observer and non-owner member are refused; an approver decides the owner’s approval', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'sb-room-sup-'));
    cleanup.push(() => rmSync(root, { recursive: true, force: true }));
    const workspace = path.join(root, 'ws');
    mkdirSync(workspace);
    mkdirSync(path.join(root, 'home'));
    const model = await startScriptedModel([shell('echo approved > out.txt', { escalated: true, justification: 'write out.txt' }), say('done')]);
    cleanup.push(() => model.close());
    const home = makeCodexHome({ modelUrl: model.url });
    cleanup.push(() => home.cleanup());
    const sb = createSupervisor(
      {
        appServer: { env: { CODEX_HOME: home.dir, HOME: path.join(root, 'home') }, approvalPolicy: 'on-request', sandbox: 'workspace-write' },
        approvals: { reviewer: 'user' },
        agents: { defaults: { cwd: workspace } },
        sessions: { bindingsDir: path.join(root, 'bindings') },
        storage: { kind: 'dataset', path: path.join(root, 'threads.db') },
      },
      { log: createLogger({ level: 'silent' }), baseDir: root, stateDir: root },
    );
    cleanup.push(() => sb.stop());
    await sb.start();
    const room = new RoomServer({ backend: sb, auth });
    const url = await room.start();
    cleanup.push(() => room.stop());

    const owner = client(cleanup, url);
    await owner.join({ token: await cred('lab', 'ann', 'owner') });
    await owner.send({ type: 'message', text: 'write the file' });
    const req = await owner.next(isEvent('approval.requested'), 60_000);
    const approvalId = (req.event as { approvalId: string }).approvalId;

    // A late joiner sees the open request in joined.pending.
    const observer = client(cleanup, url);
    const j = await observer.join({ token: await cred('lab', 'olga', 'observer') });
    expect((j.pending as Array<{ approvalId: string }>).map((p) => p.approvalId)).toEqual([approvalId]);
    await observer.send({ type: 'approval.decide', approvalId, decision: 'accept' });
    expect(await observer.next((f) => f.type === 'decided')).toMatchObject({ ok: false, reason: 'observers cannot decide approvals' });

    const member = client(cleanup, url);
    await member.join({ token: await cred('lab', 'bob', 'member') });
    await member.send({ type: 'approval.decide', approvalId, decision: 'accept' });
    expect(await member.next((f) => f.type === 'decided')).toMatchObject({ ok: false });

    // A forged frame claiming Ann's identity does not even get a socket joined.
    const forger = client(cleanup, url);
    await forger.send({ type: 'join', token: await cred('lab', 'mallory', 'member'), participant: { id: 'ann', role: 'owner' } });
    expect((await forger.closed).code).toBe(4400);

    expect(existsSync(path.join(workspace, 'out.txt'))).toBe(false);
    const approver = client(cleanup, url);
    await approver.join({ token: await cred('lab', 'carol', 'approver') });
    await approver.send({ type: 'approval.decide', approvalId, decision: 'accept' });
    expect(await approver.next((f) => f.type === 'decided')).toMatchObject({ ok: true });
    const resolved = await owner.next(isEvent('approval.resolved'), 30_000);
    expect(resolved.event).toMatchObject({ outcome: 'approved', by: 'carol' });
    await owner.next(isEvent('turn.completed'), 60_000);
    expect(readFileSync(path.join(workspace, 'out.txt'), 'utf8').trim()).toBe('approved');
  }, 120_000);
});
