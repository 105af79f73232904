// The state directory end to end: `switchboard join` run in a workspace leaves it untouched —
// the dataset, bindings, secret and credentials go to the state directory — and a restart on
// the same state directory brings the room's history back. Real CLI, app-server, scripted model.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { say } from '../support/mock-model.js';
import { makeSandbox, type Sandbox } from '../support/sandbox.js';
import { runCli, type CliProc } from '../support/cli-proc.js';
import { waitFor } from '../support/procs.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function cli(args: string[], env: Record<string, string>, cwd: string): CliProc {
  const p = runCli(args, { env, cwd });
  cleanup.push(async () => {
    if (p.child.exitCode === null) {
      p.child.kill('SIGTERM');
      await p.exited;
    }
  });
  return p;
}

type Frame = Record<string, unknown> & { type: string };

/** Joins the room as its owner with the credential `join` wrote into the state directory. */
async function owner(url: string, state: string): Promise<{ frames: Frame[]; send: (f: unknown) => void }> {
  const ws = new WebSocket(url);
  cleanup.push(() => ws.terminate());
  const frames: Frame[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Frame));
  await new Promise((r) => ws.once('open', r));
  ws.send(JSON.stringify({ type: 'join', token: readFileSync(path.join(state, 'rooms', 'lab.owner.token'), 'utf8').trim() }));
  expect(await waitFor(() => frames.some((f) => f.type === 'joined'), 15_000)).toBe(true);
  return { frames, send: (f) => ws.send(JSON.stringify(f)) };
}

async function stop(p: CliProc): Promise<void> {
  p.child.kill('SIGTERM');
  expect(await p.exited).toBe(0);
}

describe('the state directory (switchboard join)', () => {
  it('nothing in the cwd; the state under $XDG_STATE_HOME, then --state-dir, survives a restart', async () => {
    const b: Sandbox = await makeSandbox([say('first answer')]);
    cleanup.push(async () => {
      await b.assertNoProcesses();
      await b.close();
    });
    // The agent's workspace is the process's cwd too: the case that used to collect `.switchboard/`.
    const cwd = path.join(b.root, 'project');
    mkdirSync(cwd);
    const xdg = path.join(b.root, 'xdg-state');
    const state = path.join(xdg, 'switchboard');
    const args = ['join', '--room', 'lab', '--agent-name', 'bot', '--cwd', cwd, '--owner-id', 'ann'];

    const first = cli(args, { ...b.env, XDG_STATE_HOME: xdg }, cwd);
    const [, url1] = await first.waitFor(/serving room lab at (ws:\/\/\S+)/, 60_000);
    const c1 = await owner(url1!, state);
    c1.send({ type: 'message', text: 'remember this' });
    expect(await waitFor(() => c1.frames.some((f) => f.type === 'event' && (f.event as Frame).type === 'turn.completed'), 60_000)).toBe(true);
    await stop(first);

    expect(readdirSync(cwd)).toEqual([]);
    expect(statSync(state).mode & 0o777).toBe(0o700);
    expect(readdirSync(state)).toEqual(expect.arrayContaining(['bindings', 'room-secret', 'rooms', 'threads.db']));
    expect(readdirSync(path.join(state, 'bindings', 'bot'))).toHaveLength(1);

    // --state-dir wins over XDG_STATE_HOME (which now points at an empty place).
    const elsewhere = path.join(b.root, 'other-xdg');
    const second = cli([...args, '--state-dir', state], { ...b.env, XDG_STATE_HOME: elsewhere }, cwd);
    const [, url2] = await second.waitFor(/serving room lab at (ws:\/\/\S+)/, 60_000);
    const c2 = await owner(url2!, state);
    const history = (c2.frames.find((f) => f.type === 'joined')!.history as Array<{ type: string; text?: string }>).map((r) => r.text);
    expect(history).toEqual(expect.arrayContaining(['remember this', 'first answer']));
    await stop(second);
    expect(existsSync(elsewhere)).toBe(false);
    expect(readdirSync(cwd)).toEqual([]);
  }, 180_000);

  it('an unusable --state-dir: exit 2 with a message naming it, before anything starts', async () => {
    const b: Sandbox = await makeSandbox([]);
    cleanup.push(() => b.close());
    const aFile = path.join(b.root, 'not-a-dir');
    writeFileSync(aFile, 'x');
    const bad = path.join(aFile, 'state');
    const status = cli(['status', '--state-dir', bad], b.env, b.root);
    expect(await status.exited).toBe(2);
    expect(status.stderr()).toContain(`cannot create the state directory ${bad} (ENOTDIR); choose another with --state-dir`);
    // join in shared-token mode reaches the supervisor without a room secret to write first.
    const join = cli(['join', '--room', 'lab', '--agent-name', 'bot', '--cwd', b.workspace, '--shared-token', 'tok', '--state-dir', bad], b.env, b.root);
    expect(await join.exited).toBe(2);
    expect(join.stderr()).toContain(`cannot create the state directory ${bad} (ENOTDIR)`);
    expect(readdirSync(b.workspace)).toEqual([]);
  }, 60_000);
});
