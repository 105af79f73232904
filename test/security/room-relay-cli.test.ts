// Issue 11 #8 as a user runs it: `switchboard join --url` (the real app-server, the scripted
// model) survives a restart of the `switchboard room serve` process, receives the message
// queued while it was away exactly once, and gives up with exit 1 when the server stays away.
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRoomAuth } from '../../src/auth/index.js';
import { loadRoomSecret } from '../../src/auth/secret.js';
import { say } from '../support/mock-model.js';
import { makeSandbox } from '../support/sandbox.js';
import { runCli, type CliProc } from '../support/cli-proc.js';
import { client, type Cleanup, type Frame } from './room-support.js';

const cleanup: Cleanup = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
const isEvent = (type: string) => (f: Frame) => f.type === 'event' && (f.event as { type: string }).type === type;

describe('#8 relay agent and room serve restarts (CLI)', () => {
  it('reconnects after room serve restarts, gets the queued message once, gives up with exit 1 later', async () => {
    const b = await makeSandbox([say('first answer'), say('second answer')]);
    cleanup.push(async () => {
      await b.assertNoProcesses();
      await b.close();
    });
    const procs: CliProc[] = [];
    cleanup.push(async () => {
      for (const p of procs) if (p.child.exitCode === null) (p.child.kill('SIGTERM'), await p.exited);
    });
    const cli = (args: string[], env: Record<string, string> = {}) => {
      const p = runCli(args, { env: { ...b.env, ...env }, cwd: b.root });
      procs.push(p);
      return p;
    };
    const state = path.join(b.root, 'state');
    const auth = createRoomAuth({ secret: loadRoomSecret({ stateDir: state, env: {} }).secret });
    const port = await freePort();
    const serve = () => cli(['room', 'serve', '--state-dir', state, '--port', String(port)]);
    const s1 = serve();
    const [, url] = await s1.waitFor(/listening at (ws:\/\/[^\s;]+)/);
    const agentFile = path.join(b.root, 'agent.token');
    writeFileSync(agentFile, await auth.mint({ room: 'lab', id: 'bot', role: 'agent' }), { mode: 0o600 });
    const agent = cli(['join', '--room', 'lab', '--agent-name', 'bot', '--url', url!, '--cwd', b.workspace, '--give-up-after', '25s'], { SWITCHBOARD_ROOM_TOKEN_FILE: agentFile });
    await agent.waitFor(/agent bot joined room lab/, 60_000);
    const owner = await auth.mint({ room: 'lab', id: 'ann', role: 'owner' });
    const u1 = client(cleanup, url!);
    await u1.join({ token: owner });
    await u1.send({ type: 'message', text: 'one' });
    expect((await u1.next(isEvent('message.completed'), 60_000)).event).toMatchObject({ text: 'first answer' });

    s1.child.kill('SIGTERM');
    expect(await s1.exited).toBe(0);
    const s2 = serve();
    await s2.waitFor(/listening at/);
    const u2 = client(cleanup, url!);
    await u2.join({ token: owner });
    await u2.send({ type: 'message', text: 'two' });
    const done = await u2.next(isEvent('message.completed'), 60_000);
    expect(done.event).toMatchObject({ text: 'second answer' });
    await u2.next(isEvent('turn.completed'), 30_000);
    expect(u2.frames.filter(isEvent('message.completed'))).toHaveLength(1);
    expect(u2.frames.filter(isEvent('turn.started'))).toHaveLength(1);

    s2.child.kill('SIGTERM');
    expect(await s2.exited).toBe(0);
    expect(await agent.exited).toBe(1);
    expect(agent.stderr()).toMatch(/gave up reconnecting to ws:\/\/127\.0\.0\.1:\d+ after 25 s/);
  }, 150_000);
});
