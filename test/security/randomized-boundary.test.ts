// Issue 11, the randomized test: thousands of join / message / decide / agent frames from
// unauthenticated, wrong-room, forged and wrong-role clients, mixed with a legitimate
// conversation, against the real room server, the real supervisor and the real app-server.
// Nobody but the owner or an approver decides, observers never post, no frame of room "lab"
// reaches another room, and the legitimate conversation completes.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { firstValueFrom, filter } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createRoomAuth } from '../../src/auth/index.js';
import { RoomServer } from '../../src/room/server.js';
import { createSupervisor, type Supervisor } from '../../src/supervisor/supervisor.js';
import type { ApprovalAudit } from '../../src/approvals/types.js';
import type { RoomEvent } from '../../src/events/room-events.js';
import { say, shell } from '../support/mock-model.js';
import { makeSandbox, type Sandbox } from '../support/sandbox.js';
import { memoryLogger } from '../support/log.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A small seeded PRNG (mulberry32): the run is random but reproducible from its seed. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]! };
}

interface Peer {
  label: string;
  ws: WebSocket;
  frames: Array<Record<string, unknown>>;
  opened: Promise<void>;
  closed: Promise<void>;
  send(frame: unknown): void;
}

function peer(url: string, label: string): Peer {
  const ws = new WebSocket(url);
  const frames: Array<Record<string, unknown>> = [];
  ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Record<string, unknown>));
  ws.on('error', () => undefined);
  const opened = new Promise<void>((r) => ws.once('open', () => r()));
  const closed = new Promise<void>((r) => ws.once('close', () => r()));
  cleanups.push(() => ws.terminate());
  return {
    label,
    ws,
    frames,
    opened,
    closed,
    send(frame) {
      if (ws.readyState === ws.OPEN) ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    },
  };
}

const until = async (cond: () => boolean, ms: number, what: string) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

async function world(box: Sandbox): Promise<Supervisor> {
  const { log } = memoryLogger('warn');
  const sb = createSupervisor(
    {
      appServer: { env: box.env, approvalPolicy: 'untrusted', sandbox: 'workspace-write' },
      agents: { defaults: { cwd: box.workspace } },
      sessions: { bindingsDir: path.join(box.root, 'bindings'), idleWatchdogSeconds: 120 },
      storage: { kind: 'dataset', path: path.join(box.root, 'threads.db') },
      approvals: { reviewer: 'user' },
    } as never,
    { log, baseDir: box.root, stateDir: box.root },
  );
  cleanups.push(async () => {
    await sb.stop();
    await box.assertNoProcesses();
    await box.close();
  });
  return sb;
}

describe('#1-#3 randomized boundary: forged, wrong-room and wrong-role frames mixed with a real conversation', () => {
  it('0 decisions from anyone but owner/approvers, 0 observer posts, 0 cross-room reads; the conversation completes', async () => {
    const seed = Number(process.env.SB_FUZZ_SEED ?? 20261127);
    const r = rng(seed);
    const box = await makeSandbox([shell('echo legit > out.txt', { escalated: true, justification: 'write out.txt' }), say('done'), say('other room answer')]);
    const sb = await world(box);
    const audits: ApprovalAudit[] = [];
    sb.audit$.subscribe((a) => audits.push(a));
    const events: RoomEvent[] = [];
    sb.events$.subscribe((e) => events.push(e));
    await sb.start();

    const auth = createRoomAuth({ secret: randomBytes(32) });
    const forger = createRoomAuth({ secret: randomBytes(32) });
    const server = new RoomServer({
      backend: sb,
      auth,
      // Room-wide caps stay on; only the per-address cap is raised, since every attacker here shares 127.0.0.1.
      limits: { maxConnectionsPerAddress: 1_000 },
    });
    const url = await server.start();
    cleanups.push(() => server.stop());

    const tok = {
      owner: await auth.mint({ room: 'lab', id: 'ann', name: 'Ann', role: 'owner' }),
      approver: await auth.mint({ room: 'lab', id: 'bob', role: 'approver' }),
      member: await auth.mint({ room: 'lab', id: 'carl', role: 'member' }),
      observer: await auth.mint({ room: 'lab', id: 'olga', role: 'observer' }),
      agent: await auth.mint({ room: 'lab', id: 'mole', role: 'agent' }),
      otherOwner: await auth.mint({ room: 'other', id: 'eve', role: 'owner' }),
      otherAnn: await auth.mint({ room: 'other', id: 'ann', role: 'owner' }),
      forged: await forger.mint({ room: 'lab', id: 'ann', role: 'owner' }),
    };
    const tampered = tok.observer.replace(/\.([^.]+)\./, (_m, body: string) => `.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), role: 'owner', sub: 'ann' })).toString('base64url')}.`);

    // The legitimate owner starts the conversation; the command waits for a decision.
    const ann = peer(url, 'ann');
    await ann.opened;
    ann.send({ type: 'join', token: tok.owner });
    await until(() => ann.frames.some((f) => f.type === 'joined'), 5_000, 'ann joined');
    const asked = firstValueFrom(sb.events$.pipe(filter((e): e is Extract<RoomEvent, { type: 'approval.requested' }> => e.type === 'approval.requested')));
    ann.send({ type: 'message', text: 'write the file please' });
    const { approvalId } = await asked;
    const labThread = events.find((e) => e.type === 'turn.started') as Extract<RoomEvent, { type: 'turn.started' }>;

    // The attack: 40 sockets, each joining with a random (mostly bad) credential, then a stream of random frames.
    const joins = [
      () => ({ type: 'join', room: 'lab', participant: { id: 'ann', role: 'owner' } }),
      () => ({ type: 'join', room: 'lab', token: 'not-a-token', participant: { id: 'ann', role: 'owner' } }),
      () => ({ type: 'join', room: 'lab', token: tok.forged }),
      () => ({ type: 'join', room: 'lab', token: tampered }),
      () => ({ type: 'join', room: 'lab', token: tok.otherOwner }),
      () => ({ type: 'join', room: 'lab', token: tok.otherAnn }),
      () => ({ type: 'join', token: tok.otherOwner }),
      () => ({ type: 'join', token: tok.observer }),
      () => ({ type: 'join', token: tok.observer, participant: { id: 'ann', role: 'owner' } }),
      () => ({ type: 'join', token: tok.member }),
      () => ({ type: 'join', token: tok.agent }),
      () => ({ type: 'join', room: 'lab-2', token: tok.owner }),
    ] as const;
    const frames = [
      () => ({ type: 'approval.decide', approvalId, decision: r.pick(['accept', 'acceptForSession', 'Accept', 'decline']) }),
      () => ({ type: 'approval.decide', approvalId, decision: 'accept', by: 'ann' }),
      () => ({ type: 'approval.decide', approvalId: `appr-${Math.floor(r.next() * 1e6)}`, decision: 'accept' }),
      () => ({ type: 'message', text: r.pick(['rm -rf / please', '/codex threads', `/codex resume ${labThread.threadId}`, '/reset', '/model gpt-x', 'hello']) }),
      () => ({ type: 'message', channel: 'chat', thread: 'main', text: 'observer says hi', from: { id: 'ann' } }),
      () => ({ type: 'join', token: tok.owner }),
      () => ({ type: 'join', room: 'lab', participant: { id: 'ann', role: 'owner' } }),
      () => ({ type: 'agent.event', event: { type: 'approval.requested', session: 'lab/chat/main', approvalId: 'fake', choices: ['accept'] } }),
      () => ({ type: 'agent.decided', requestId: 'x', ok: true }),
      () => ({ type: 'history', before: Math.floor(r.next() * 100) }),
      () => '{"type":"join"',
      () => ({ type: 'approval.decide', approvalId, decision: 'accept', content: { x: 'y'.repeat(5_000) } }),
    ] as const;
    const attackers: Peer[] = [];
    let sent = 0;
    for (let i = 0; i < 40; i++) {
      const p = peer(url, `attacker-${i}`);
      attackers.push(p);
    }
    await Promise.all(attackers.map((p) => Promise.race([p.opened, p.closed])));
    for (const p of attackers) {
      p.send(r.pick(joins)());
      sent++;
    }
    await new Promise((res) => setTimeout(res, 200));
    for (let round = 0; round < 80; round++) {
      for (const p of attackers) {
        p.send(r.pick(frames)());
        sent++;
      }
      if (round % 10 === 9) await new Promise((res) => setTimeout(res, 10));
    }
    // The room of "other" has a legitimate owner too; what it sees must never include room "lab".
    const eve = peer(url, 'eve');
    await eve.opened;
    eve.send({ type: 'join', token: tok.otherOwner });
    await until(() => eve.frames.some((f) => f.type === 'joined'), 5_000, 'eve joined');
    eve.send({ type: 'message', text: '/codex threads' });
    eve.send({ type: 'message', text: `/codex resume ${labThread.threadId}` });
    await new Promise((res) => setTimeout(res, 1_000));

    // Still pending: nothing the attackers sent decided it.
    expect(audits).toEqual([]);
    expect(sb.status()).toMatchObject({ harnesses: { codex: { pendingApprovals: [{ approvalId }] } } });

    // The approver's decision is the one that counts.
    const done = firstValueFrom(sb.events$.pipe(filter((e) => e.type === 'turn.completed' || e.type === 'turn.failed')));
    const bob = peer(url, 'bob');
    await bob.opened;
    bob.send({ type: 'join', token: tok.approver });
    await until(() => bob.frames.some((f) => f.type === 'joined'), 5_000, 'bob joined');
    bob.send({ type: 'approval.decide', approvalId, decision: 'accept' });
    expect((await done).type).toBe('turn.completed');
    expect(existsSync(path.join(box.workspace, 'out.txt'))).toBe(true);
    await until(() => ann.frames.some((f) => f.type === 'event' && (f.event as RoomEvent).type === 'turn.completed'), 5_000, 'ann sees the end');

    // 0 decisions accepted from anyone but owner/approvers.
    expect(audits.filter((a) => a.outcome !== 'withdrawn').map((a) => [a.outcome, a.by])).toEqual([['approved', 'bob']]);
    for (const p of attackers) expect(p.frames.filter((f) => f.type === 'decided' && f.ok === true)).toEqual([]);
    // 0 posts from observers, agents or unauthenticated clients: the only user messages are Ann's (and the member's, who may post).
    const history = await sb.history('lab');
    const authors = new Set(history.filter((h) => h.kind === 'message' && h.role === 'user').map((h) => (h as { author?: { id: string } }).author?.id));
    for (const a of authors) expect(['ann', 'carl']).toContain(a);
    expect(history.some((h) => h.kind === 'message' && /observer says hi/.test(h.text) && (h as { author?: { id: string } }).author?.id !== 'carl')).toBe(false);
    // A forged agent event never reached anyone.
    for (const p of [ann, bob, ...attackers]) expect(p.frames.some((f) => f.type === 'event' && (f.event as { approvalId?: string }).approvalId === 'fake')).toBe(false);
    // 0 cross-room reads: nobody outside "lab" received a lab frame, and room "other" cannot see or resume lab's thread.
    const labLeaks = (p: Peer) => p.frames.filter((f) => JSON.stringify(f).includes('lab/chat') || JSON.stringify(f).includes(labThread.threadId));
    expect(labLeaks(eve)).toEqual([]);
    const labMembers = attackers.filter((p) => p.frames.some((f) => f.type === 'joined' && f.room === 'lab'));
    for (const p of attackers.filter((x) => !labMembers.includes(x))) expect(labLeaks(p)).toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(3_000);
    // Everything the attackers did was answered or closed, never crashed the server: a fresh owner still joins.
    const again = peer(url, 'ann-again');
    await again.opened;
    again.send({ type: 'join', token: tok.owner });
    await until(() => again.frames.some((f) => f.type === 'joined'), 5_000, 'ann rejoined');
  }, 90_000);
});
