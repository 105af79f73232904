// `join --scripted`: a new user tries Switchboard with no account. The real app-server runs
// against the built-in scripted model in a Codex home of its own; over the room a person gets an
// answer, a command that asks for approval, and its result; nothing is left behind.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { runCli } from '../support/cli-proc.js';
import { waitFor } from '../support/procs.js';
import { lastUserText, tryItStep } from '../../src/scripted-model/try-it.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

type Frame = Record<string, unknown>;
const ev = (f: Frame) => (f.type === 'event' ? (f.event as Frame & { type: string }) : undefined);

describe('join --scripted', () => {
  it('answers, asks before running a command, runs it once accepted; no account, nothing left running', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'sb-scripted-'));
    cleanup.push(() => rmSync(root, { recursive: true, force: true }));
    const workspace = path.join(root, 'ws');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(workspace);
    const state = path.join(root, 'state');
    // No CODEX_HOME, no login: --scripted brings its own.
    const join = runCli(['join', '--scripted', '--room', 'try', '--agent-name', 'bot', '--cwd', workspace, '--state-dir', state, '--owner-id', 'ann'], {
      env: { CODEX_HOME: path.join(root, 'no-such-codex-home'), HOME: root },
      cwd: root,
    });
    cleanup.push(async () => {
      if (join.child.exitCode === null) {
        join.child.kill('SIGTERM');
        await join.exited;
      }
    });
    const [, url] = await join.waitFor(/serving room try at (ws:\/\/\S+)/, 60_000);
    await join.waitFor(/offline scripted model/);
    expect(join.stderr()).not.toMatch(/warning: .*account|login/i);

    const ws = new WebSocket(url!);
    cleanup.push(() => ws.terminate());
    const frames: Frame[] = [];
    ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Frame));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'join', token: readFileSync(path.join(state, 'rooms', 'try.owner.token'), 'utf8').trim() }));
    expect(await waitFor(() => frames.some((f) => f.type === 'joined'), 15_000)).toBe(true);
    const completed = (n: number) => frames.filter((f) => ev(f)?.type === 'turn.completed').length >= n;

    ws.send(JSON.stringify({ type: 'message', text: 'hello there' }));
    expect(await waitFor(() => completed(1), 60_000)).toBe(true);
    const answer = frames.map(ev).find((e) => e?.type === 'message.completed');
    expect(answer?.text).toMatch(/^You said: "hello there"\. I am Switchboard's offline scripted model/);

    ws.send(JSON.stringify({ type: 'message', text: 'please run `echo tried > tried.txt`' }));
    expect(await waitFor(() => frames.some((f) => ev(f)?.type === 'approval.requested'), 60_000)).toBe(true);
    const request = frames.map(ev).find((e) => e?.type === 'approval.requested')!;
    expect(request.detail).toMatchObject({ command: expect.stringContaining('echo tried > tried.txt') });
    expect(existsSync(path.join(workspace, 'tried.txt'))).toBe(false);
    ws.send(JSON.stringify({ type: 'approval.decide', approvalId: request.approvalId, decision: 'accept' }));
    expect(await waitFor(() => completed(2), 60_000)).toBe(true);
    expect(readFileSync(path.join(workspace, 'tried.txt'), 'utf8')).toBe('tried\n');
    const last = frames.map(ev).filter((e) => e?.type === 'message.completed').at(-1);
    expect(last?.text).toMatch(/^The command finished/);

    join.child.kill('SIGTERM');
    expect(await join.exited).toBe(0);
    expect(join.stderr()).not.toMatch(/"level":(40|50)/);
  }, 180_000);

  it('reads the person\'s words from a Responses request and picks the step', () => {
    const req = { model: 'm', input: [{ role: 'user', content: [{ type: 'input_text', text: '<environment_context>…</environment_context>' }, { type: 'input_text', text: 'run `ls`' }] }] };
    expect(lastUserText(req)).toBe('run `ls`');
    expect(tryItStep(req)).toMatchObject({ call: { name: 'exec_command', arguments: { cmd: 'ls', sandbox_permissions: 'require_escalated' } } });
    expect(tryItStep({ model: 'm', input: [{ role: 'user', content: [{ type: 'input_text', text: 'hi' }] }] })).toMatchObject({ text: expect.stringMatching(/^You said: "hi"/) });
    expect(tryItStep({ model: 'm', input: [{ type: 'function_call_output', output: 'a.txt' }] })).toMatchObject({ text: expect.stringContaining('a.txt') });
    // `/codex review` and `/codex compact` get answers in the form Codex expects.
    const review = tryItStep({ model: 'm', input: [{ role: 'developer', content: [{ type: 'input_text', text: '# Review guidelines:\n…' }] }] }) as { text: string };
    expect(JSON.parse(review.text)).toMatchObject({ findings: [], overall_correctness: 'patch is correct' });
    const compact = { model: 'm', input: [{ role: 'user', content: [{ type: 'input_text', text: 'You are performing a CONTEXT CHECKPOINT COMPACTION. …' }] }] };
    expect(tryItStep(compact)).toMatchObject({ text: expect.stringMatching(/^Summary: /) });
    // --mode guardian: Codex's reviewer subagent asks too, and gets a verdict in its schema.
    const verdict = tryItStep({ model: 'm', input: req.input, client_metadata: { 'x-openai-subagent': 'guardian' } });
    expect(JSON.parse((verdict as { text: string }).text)).toMatchObject({ outcome: 'allow', risk_level: 'low' });
  });
});
