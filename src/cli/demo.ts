// `switchboard demo`: the whole product in one command, offline. It starts the embedded room
// server, the real codex app-server and a built-in scripted model, then plays a short
// conversation as a room participant over the room protocol: a question, a command that
// needs approval (approved by the demo's user), a patch with its diff, a final answer.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { createSupervisor } from '../supervisor/supervisor.js';
import { RoomServer } from '../room/server.js';
import { createLogger } from '../log/logger.js';
import { createRoomAuth } from '../auth/token.js';
import { startScriptedModel, say, shell, applyPatch } from '../scripted-model/server.js';
import { makeCodexHome } from '../scripted-model/codex-home.js';
import type { RoomEvent } from '../events/room-events.js';
import type { Output } from './output.js';
import type { InspectionEvent } from 'xstate';

export interface DemoOptions {
  keep?: boolean;
  timeoutMs?: number;
  inspect?: (ev: InspectionEvent) => void;
}

const CONVERSATION = [
  'What is in this workspace?',
  'Please create hello.txt with a greeting, and add a README.',
];

const README_PATCH = ['*** Begin Patch', '*** Add File: README.md', '+# Demo workspace', '+', '+Created by the Switchboard demo.', '*** End Patch'].join('\n');

export async function demo(opts: DemoOptions, out: Output): Promise<number> {
  const root = mkdtempSync(path.join(tmpdir(), 'switchboard-demo-'));
  const workspace = path.join(root, 'workspace');
  const home = path.join(root, 'home');
  mkdirSync(workspace);
  mkdirSync(home);
  const model = await startScriptedModel([
    say('This workspace is empty so far. Ask me to create something and I will show you every step.', 6),
    shell('echo "Hello from Switchboard" > hello.txt', { escalated: true, justification: 'Write hello.txt into the workspace' }),
    applyPatch(README_PATCH),
    say('Done: hello.txt holds the greeting and README.md describes the workspace.', 6),
  ]);
  const codexHome = makeCodexHome({ modelUrl: model.url });
  const log = createLogger({ level: process.env.SWITCHBOARD_LOG_LEVEL ?? 'silent' });
  const sb = createSupervisor(
    {
      // HOME is the demo's own: Codex runs commands in a login shell, which must not read the
      // machine's ~/.bashrc.
      appServer: { env: { CODEX_HOME: codexHome.dir, HOME: home }, approvalPolicy: 'on-request', sandbox: 'workspace-write' },
      approvals: { reviewer: 'user' },
      agents: { defaults: { cwd: workspace } },
    },
    // Its conversation state is the demo's too: bindings and threads.db in its temporary directory.
    { log, baseDir: root, stateDir: root, inspect: opts.inspect },
  );
  // A throwaway secret: the demo's room lives as long as this process.
  const auth = createRoomAuth({ secret: randomBytes(32) });
  const room = new RoomServer({ backend: sb, auth, log });
  let code = 1;
  let ws: WebSocket | undefined;
  const deadline = setTimeout(() => ws?.terminate(), opts.timeoutMs ?? 120_000);
  try {
    const spin = out.progress('starting codex app-server and the room');
    try {
      await sb.start();
    } finally {
      spin.done();
    }
    const url = await room.start();
    const version = sb.codex.connection.status().serverVersion;
    out.line(out.bold(`Switchboard demo · codex app-server ${version} · offline scripted model`));
    out.line(`room ${url} · workspace ${workspace}`);
    out.line('');
    const token = await auth.mint({ room: 'demo', id: 'demo-user', name: 'You', role: 'owner', ttlSeconds: 3600 });
    ws = new WebSocket(url);
    const client = ws;
    const stats = { turns: 0, approvals: 0, tools: 0 };
    const finished = await new Promise<boolean>((resolve) => {
      let next = 0;
      let streaming = false;
      const send = (frame: unknown) => client.send(JSON.stringify(frame));
      const say = () => {
        const text = CONVERSATION[next++];
        if (text === undefined) return resolve(true);
        out.line(`${out.bold('you ›')} ${text}`);
        send({ type: 'message', channel: 'chat', thread: 'main', text });
      };
      client.on('open', () => send({ type: 'join', token }));
      client.on('close', () => resolve(false));
      client.on('message', (data) => {
        const frame = JSON.parse(String(data)) as { type: string; event?: RoomEvent; ok?: boolean; reason?: string; error?: string };
        if (frame.type === 'joined') return say();
        if (frame.type === 'error') out.error(`room error: ${frame.error}`);
        if (frame.type === 'decided' && !frame.ok) {
          out.error(`decision refused: ${frame.reason}`);
          return resolve(false);
        }
        if (frame.type !== 'event' || !frame.event) return;
        const e = frame.event;
        switch (e.type) {
          case 'message.delta':
            if (!streaming) out.write(`${out.bold('codex ›')} `);
            streaming = true;
            out.write(e.delta);
            return;
          case 'message.completed':
            if (streaming) out.line('');
            else out.line(`${out.bold('codex ›')} ${e.text}`);
            streaming = false;
            return;
          case 'tool.started':
            if (e.kind === 'command' || e.kind === 'fileChange') out.line(`  ⚙ ${e.kind}: ${e.title}`);
            return;
          case 'tool.completed':
            stats.tools++;
            if (e.kind === 'diff') out.line(`  ± diff of the turn:\n${indent(String(e.data.diff ?? ''))}`);
            else if (e.kind === 'command' || e.kind === 'fileChange') out.line(`  ✓ ${e.kind}: ${e.title} (${e.status ?? 'done'})`);
            return;
          case 'approval.requested':
            stats.approvals++;
            out.line(`  ? approval needed (${e.kind}): ${e.title}`);
            out.line(`    choices: ${e.choices.join(', ')} → the demo user answers: accept`);
            send({ type: 'approval.decide', approvalId: e.approvalId, decision: 'accept' });
            return;
          case 'approval.resolved':
            out.line(`  ✓ approval ${e.outcome} by ${e.by}`);
            return;
          case 'notice':
            out.line(`  · ${e.text}`);
            return;
          case 'turn.completed':
            stats.turns++;
            out.line('');
            return say();
          case 'turn.failed':
          case 'turn.interrupted':
            out.error(`turn ${e.type.slice(5)}: ${'error' in e ? e.error : e.reason}`);
            return resolve(false);
        }
      });
    });
    const files = readdirSync(workspace).sort();
    const hello = files.includes('hello.txt') ? readFileSync(path.join(workspace, 'hello.txt'), 'utf8').trim() : undefined;
    out.line(out.bold('Summary'));
    out.line(`  turns completed: ${stats.turns}, approvals: ${stats.approvals}, tool events: ${stats.tools}`);
    out.line(`  workspace files: ${files.join(', ') || '(none)'}`);
    if (hello) out.line(`  hello.txt: ${hello}`);
    const ok = finished && stats.turns === CONVERSATION.length && stats.approvals === 1 && hello === 'Hello from Switchboard' && files.includes('README.md');
    if (!ok) out.error('the demo did not complete as scripted');
    code = ok ? 0 : 1;
  } catch (err) {
    out.error(`demo failed: ${(err as Error).message}`);
    code = 1;
  } finally {
    clearTimeout(deadline);
    ws?.close();
    await room.stop();
    await sb.stop();
    await model.close();
    codexHome.cleanup();
    if (!opts.keep) rmSync(root, { recursive: true, force: true });
    else out.line(`kept ${root}`);
  }
  return code;
}

const indent = (s: string) =>
  s
    .trimEnd()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
