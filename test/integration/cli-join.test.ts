// `switchboard join` and `switchboard room serve` as a user runs them: child processes,
// a WebSocket client speaking the room protocol, the real app-server, the scripted model.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { createRoomAuth, type Role } from '../../src/auth/index.js';
import { say } from '../support/mock-model.js';
import type { Script } from '../support/mock-model.js';
import { makeSandbox, type Sandbox } from '../support/sandbox.js';
import { runCli, type CliProc } from '../support/cli-proc.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function box(script: Script): Promise<Sandbox> {
  const b = await makeSandbox(script);
  cleanup.push(async () => {
    await b.assertNoProcesses();
    await b.close();
  });
  return b;
}

function cli(args: string[], b: Sandbox): CliProc {
  const p = runCli(args, { env: b.env, cwd: b.root });
  cleanup.push(async () => {
    if (p.child.exitCode === null) {
      p.child.kill('SIGTERM');
      await p.exited;
    }
  });
  return p;
}

function client(url: string) {
  const ws = new WebSocket(url);
  cleanup.push(() => ws.terminate());
  const frames: Array<Record<string, unknown>> = [];
  ws.on('message', (d) => frames.push(JSON.parse(String(d))));
  const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: String(reason) })));
  const opened = new Promise<void>((r) => ws.on('open', () => r()));
  return {
    frames,
    closed,
    send: async (f: unknown) => {
      await opened;
      ws.send(typeof f === 'string' ? f : JSON.stringify(f));
    },
    async next(pred: (f: Record<string, unknown>) => boolean, ms = 30_000) {
      const end = Date.now() + ms;
      for (;;) {
        const f = frames.find(pred);
        if (f) return f;
        if (Date.now() > end) throw new Error(`no matching frame in ${JSON.stringify(frames).slice(0, 2000)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}
/** Mints with the secret the CLI generated in its state directory (as `switchboard token` would). */
const mint = (state: string, room: string, id: string, role: Role) => createRoomAuth({ secret: readFileSync(path.join(state, 'room-secret'), 'utf8').trim() }).mint({ room, id, role });

const isEvent = (type: string) => (f: Record<string, unknown>) => f.type === 'event' && (f.event as { type: string }).type === type;

describe('switchboard join (embedded room)', () => {
  it('serves a room: refused join, bad frames, a full turn over the room protocol', async () => {
    const b = await box([say('Hi from the agent', 3)]);
    const state = path.join(b.root, 'state');
    const join = cli(['join', '--room', 'lab', '--agent-name', 'bot', '--channel', 'chat', '--backend', 'codex', '--cwd', b.workspace, '--state-dir', state, '--owner-id', 'ann'], b);
    const [, url] = await join.waitFor(/serving room lab at (ws:\/\/\S+)/);
    // One ready-to-use line with the owner's credential file (0600); the token itself is never printed.
    const [, tokenFile] = await join.waitFor(/connect: switchboard chat --url ws:\/\/\S+ --token-file (\S+)/);
    expect(tokenFile).toBe(path.join(state, 'rooms', 'lab.owner.token'));
    expect(statSync(tokenFile!).mode & 0o777).toBe(0o600);
    const ownerToken = readFileSync(tokenFile!, 'utf8').trim();
    // Not a terminal (a service log): the page link with the credential goes to a 0600 file only.
    const [, linkFile] = await join.waitFor(/open in a browser: http:\/\/\S+\/ \(the link with your credential: (\S+)\)/);
    expect(readFileSync(linkFile!, 'utf8')).toContain(`#token=${ownerToken}`);
    expect(statSync(linkFile!).mode & 0o777).toBe(0o600);
    expect(join.stdout() + join.stderr()).not.toContain(ownerToken);

    const intruder = client(url!);
    await intruder.send({ type: 'join', room: 'lab', participant: { id: 'eve' }, token: 'nope' });
    expect(await intruder.closed).toEqual({ code: 4400, reason: 'identity comes from the credential: send no "participant" in signed mode' });
    const forger = client(url!);
    await forger.send({ type: 'join', token: 'nope' });
    expect(await forger.closed).toEqual({ code: 4401, reason: 'the credential is not valid for this server' });

    const c = client(url!);
    await c.send('not json');
    expect(String((await c.next((f) => f.type === 'error')).error)).toMatch(/^frame is not valid JSON/);
    await c.send({ type: 'join', token: ownerToken });
    await c.next((f) => f.type === 'joined');
    await c.send({ type: 'message', channel: 'chat', thread: 'main', text: 'hello agent' });
    await c.next(isEvent('turn.completed'));
    const deltas = c.frames.filter(isEvent('message.delta')).map((f) => (f.event as { delta: string }).delta);
    expect(deltas.join('')).toBe('Hi from the agent');

    // A late joiner gets the history.
    const late = client(url!);
    await late.send({ type: 'join', token: await mint(state, 'lab', 'bob', 'member') });
    const joined = await late.next((f) => f.type === 'joined');
    const texts = (joined.history as Array<{ kind: string; text?: string }>).filter((h) => h.kind === 'message').map((h) => h.text);
    expect(texts).toEqual(['hello agent', 'Hi from the agent']);

    join.child.kill('SIGTERM');
    expect(await join.exited).toBe(0);
    expect(join.stdout()).toContain('SIGTERM: stopping');
  }, 90_000);

  it('SIGTERM of join mid-turn stops gracefully and leaves no process', async () => {
    const b = await box([{ ...say('never finishes'), stallMs: 60_000 }]);
    const join = cli(['join', '--room', 'lab', '--agent-name', 'bot', '--cwd', b.workspace, '--state-dir', path.join(b.root, 'state')], b);
    const [, url] = await join.waitFor(/serving room lab at (ws:\/\/\S+)/);
    const [, tokenFile] = await join.waitFor(/--token-file (\S+)/);
    const c = client(url!);
    await c.send({ type: 'join', token: readFileSync(tokenFile!, 'utf8').trim() });
    await c.next((f) => f.type === 'joined');
    await c.send({ type: 'message', text: 'take forever' });
    await c.next(isEvent('turn.started'));
    join.child.kill('SIGTERM');
    expect(await join.exited).toBe(0);
    await b.assertNoProcesses();
  }, 90_000);
});

describe('switchboard room serve + join --url', () => {
  it('an agent joins a standalone room server and answers a participant', async () => {
    const b = await box([say('relayed answer')]);
    const state = path.join(b.root, 'state');
    const server = cli(['room', 'serve', '--state-dir', state], b);
    const [, url] = await server.waitFor(/listening at (ws:\/\/[^\s;]+)/);
    // The agent's own conversation state, apart from the server's secret.
    const agentState = ['--state-dir', path.join(b.root, 'agent-state')];
    const refused = cli(['join', '--room', 'lab', '--agent-name', 'bot', '--url', url!, '--token', 'wrong', '--cwd', b.workspace, ...agentState], b);
    const refusedCode = await refused.exited;
    expect(refused.stderr()).toMatch(/room refused the join \(4401\): the credential is not valid for this server/);
    expect(refusedCode).toBe(3);
    // A member credential is not an agent credential.
    const member = cli(['join', '--room', 'lab', '--agent-name', 'bot', '--url', url!, '--token', await mint(state, 'lab', 'bot', 'member'), '--cwd', b.workspace, ...agentState], b);
    expect(await member.exited).toBe(3);
    expect(member.stderr()).toMatch(/not an agent credential \(role member\)/);
    // The preferred form: the credential in a file named by the environment, not on the command line.
    const agentFile = path.join(b.root, 'agent.token');
    writeFileSync(agentFile, await mint(state, 'lab', 'bot', 'agent'), { mode: 0o600 });
    const agent = runCli(['join', '--room', 'lab', '--agent-name', 'bot', '--url', url!, '--cwd', b.workspace, ...agentState], { env: { ...b.env, SWITCHBOARD_ROOM_TOKEN_FILE: agentFile }, cwd: b.root });
    cleanup.push(async () => {
      if (agent.child.exitCode === null) {
        agent.child.kill('SIGTERM');
        await agent.exited;
      }
    });
    await agent.waitFor(/agent bot joined room lab/);
    const c = client(url!);
    await c.send({ type: 'join', token: await mint(state, 'lab', 'ann', 'owner') });
    await c.next((f) => f.type === 'joined');
    await c.send({ type: 'message', text: 'over the relay' });
    const done = await c.next(isEvent('message.completed'));
    expect((done.event as { text: string }).text).toBe('relayed answer');
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
  }, 90_000);
});
