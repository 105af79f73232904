// `switchboard join` and `room serve` as web room servers, run as a user runs them (child
// processes, the real app-server, the scripted model): the page link with the owner
// credential (printed only with --print-link or on a terminal, never in the logs), the page
// on the room's port, and what an owner's browser-like socket gets: presence, the inspector
// following a turn, the model list. `room serve` serves the page without an inspector.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { createRoomAuth } from '../../src/auth/index.js';
import { CONTENT_SECURITY_POLICY } from '../../src/web/static.js';
import { say } from '../support/mock-model.js';
import { makeSandbox, type Sandbox } from '../support/sandbox.js';
import { runCli, type CliProc } from '../support/cli-proc.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function cli(args: string[], b: Sandbox, env: Record<string, string> = {}): CliProc {
  const p = runCli(args, { env: { ...b.env, ...env }, cwd: b.root });
  cleanup.push(async () => {
    if (p.child.exitCode === null) {
      p.child.kill('SIGTERM');
      await p.exited;
    }
  });
  return p;
}

type Frame = Record<string, unknown>;
/** A socket as the page opens it: same origin as the page. */
function browserSocket(url: string, origin: string) {
  const ws = new WebSocket(url, { origin });
  cleanup.push(() => ws.terminate());
  const frames: Frame[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Frame));
  const opened = new Promise<void>((r) => ws.on('open', () => r()));
  return {
    frames,
    send: async (f: unknown) => {
      await opened;
      ws.send(JSON.stringify(f));
    },
    async next(pred: (f: Frame) => boolean, ms = 30_000) {
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

describe('switchboard join: the web room', () => {
  it('--print-link prints the page link with the owner credential; the logs never hold it; the page and the inspector work', async () => {
    const b = await makeSandbox([say('Hello from the web room', 3)]);
    cleanup.push(async () => {
      await b.assertNoProcesses();
      await b.close();
    });
    const state = path.join(b.root, 'state');
    // Debug logs: the most the process ever logs, checked for the credential below.
    const join = cli(['join', '--room', 'lab', '--agent-name', 'bot', '--cwd', b.workspace, '--state-dir', state, '--owner-id', 'ann', '--print-link'], b, { SWITCHBOARD_LOG_LEVEL: 'debug' });
    const [, url] = await join.waitFor(/serving room lab at (ws:\/\/\S+)/);
    const [, tokenFile] = await join.waitFor(/connect: switchboard chat --url ws:\/\/\S+ --token-file (\S+)/);
    const [, link, page, encoded] = await join.waitFor(/open in a browser: ((http:\/\/\S+\/)#token=(\S+))/);
    const token = decodeURIComponent(encoded!);
    expect(token).toBe(readFileSync(tokenFile!, 'utf8').trim());
    expect(page).toBe(`${url!.replace(/^ws:/, 'http:')}/`);
    const linkFile = path.join(state, 'rooms', 'lab.owner.link');
    expect(readFileSync(linkFile, 'utf8').trim()).toBe(link);
    expect(statSync(linkFile).mode & 0o777).toBe(0o600);

    // The page (or, before a web build, the 503 that says so), with the policy either way.
    const res = await fetch(page!);
    expect([200, 503]).toContain(res.status);
    expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);

    const origin = new URL(page!).origin;
    const owner = browserSocket(url!, origin);
    await owner.send({ type: 'join', token });
    const joined = await owner.next((f) => f.type === 'joined');
    expect(joined).toMatchObject({ inspector: true, participant: { id: 'ann', role: 'owner' } });
    expect(joined.participants).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'ann', role: 'owner', connections: 1 }), expect.objectContaining({ id: 'bot', role: 'agent' })]));
    await owner.send({ type: 'inspect', on: true });
    const tree = await owner.next((f) => f.type === 'inspect');
    expect((tree.actors as Array<{ machine?: string }>).some((a) => a.machine === 'supervisor')).toBe(true);
    await owner.send({ type: 'models' });
    const models = await owner.next((f) => f.type === 'models');
    expect(['model/list', 'fallback', 'static']).toContain(models.source);

    await owner.send({ type: 'message', text: 'hello' });
    await owner.next((f) => f.type === 'event' && (f.event as { type: string }).type === 'turn.completed');
    // The inspector saw this room's turn run and finish.
    const turnDone = (f: Frame) =>
      (f.type === 'inspect.update' || f.type === 'inspect') && (f.actors as Array<{ id: string; machine?: string; status: string }>).some((a) => a.id.startsWith('session:lab/') && a.machine === 'turn' && a.status === 'done');
    await owner.next(turnDone);
    expect(owner.frames.some((f) => f.type === 'inspect.update' && (f.actors as Array<{ machine?: string; status: string }>).some((a) => a.machine === 'turn' && a.status === 'active'))).toBe(true);

    join.child.kill('SIGTERM');
    expect(await join.exited).toBe(0);
    // Logs were written (at debug), and none of them carries the credential.
    expect(join.stderr().split('\n').filter((l) => l.startsWith('{')).length).toBeGreaterThan(5);
    expect(join.stderr()).not.toContain(token);
    expect(join.stderr()).not.toContain(encoded);
  }, 120_000);
});

describe('switchboard room serve: the web room without an inspector', () => {
  it('prints the page address, serves it, and refuses the inspector as unavailable', async () => {
    const b = await makeSandbox([]);
    cleanup.push(() => b.close());
    const state = path.join(b.root, 'state');
    const server = cli(['room', 'serve', '--state-dir', state], b);
    const [, url] = await server.waitFor(/listening at (ws:\/\/[^\s;]+)/);
    const [, page] = await server.waitFor(/web room: (http:\/\/\S+\/) /);
    expect(page).toBe(`${url!.replace(/^ws:/, 'http:')}/`);
    const res = await fetch(page!, { method: 'HEAD' });
    expect([200, 503]).toContain(res.status);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');

    const token = await createRoomAuth({ secret: readFileSync(path.join(state, 'room-secret'), 'utf8').trim() }).mint({ room: 'lab', id: 'ann', role: 'owner' });
    const owner = browserSocket(url!, new URL(page!).origin);
    await owner.send({ type: 'join', token });
    expect(await owner.next((f) => f.type === 'joined')).toMatchObject({ inspector: false });
    await owner.send({ type: 'inspect', on: true });
    expect(await owner.next((f) => f.type === 'error')).toMatchObject({ code: 'unavailable' });
    await owner.send({ type: 'models' });
    await owner.next((f) => f.type === 'error' && f.code === 'unavailable' && /model list/.test(String(f.error)));
  }, 60_000);
});
