// One world for the browser tests: a sandbox (scripted model, CODEX_HOME), `switchboard join`
// serving the room and its page on a known port, a cut-able proxy in front of it (its origin
// allowed through a config file), and credentials minted with the room's own secret.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createRoomAuth, type Role } from '../../src/auth/index.js';
import { runCli, type CliProc } from './cli-proc.js';
import { makeSandbox, type Sandbox } from './sandbox.js';
import { startCutProxy, type CutProxy } from './tcp-proxy.js';
import { freePort } from './ws-app-server.js';
import { functionCallOutputs, type ResponsesRequest, type Script, type Step } from './mock-model.js';
import { ensureWebBuilt } from './web-build.js';

export interface WebRoom {
  box: Sandbox;
  join: CliProc;
  room: string;
  stateDir: string;
  /** http://127.0.0.1:PORT — the room server itself. */
  origin: string;
  port: number;
  proxy: CutProxy;
  /** The owner's credential (the file join wrote). */
  ownerToken: string;
  ownerId: string;
  mint(id: string, role: Role, name?: string): Promise<string>;
  /** The page URL carrying `token` in its fragment (through the proxy with `via: 'proxy'`). */
  link(token: string, opts?: { via?: 'direct' | 'proxy'; channel?: string; thread?: string }): string;
  close(): Promise<void>;
}

export interface WebRoomOptions {
  script: Script;
  /** Appended to the sandbox's CODEX_HOME config.toml (e.g. an MCP server). */
  extraToml?: string;
  room?: string;
  ownerId?: string;
  /** Merged into switchboard.config.json (appServer, approvals, …). */
  config?: Record<string, unknown>;
}

export async function startWebRoom(opts: WebRoomOptions): Promise<WebRoom> {
  await ensureWebBuilt();
  const room = opts.room ?? 'lab';
  const ownerId = opts.ownerId ?? 'ann';
  const box = await makeSandbox(opts.script, opts.extraToml);
  const proxy = await startCutProxy();
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const stateDir = path.join(box.root, 'state');
  const configFile = path.join(box.root, 'switchboard.config.json');
  const config = {
    // A user-reviewed, sandboxed agent: escalated commands and MCP calls come to the room.
    appServer: { approvalPolicy: 'untrusted', sandbox: 'workspace-write' },
    approvals: { reviewer: 'user' },
    storage: { kind: 'dataset', path: path.join(box.root, 'threads.db') },
    sessions: { bindingsDir: path.join(box.root, 'bindings') },
    ...opts.config,
    // The allow-list replaces the default own origins, so they are listed too.
    room: { allowedOrigins: [origin, `http://localhost:${port}`, proxy.origin] },
  };
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const args = ['join', '--room', room, '--agent-name', 'bot', '--cwd', box.workspace, '--state-dir', stateDir];
  args.push('--owner-id', ownerId, '--port', String(port), '--config', configFile);
  const join = runCli(args, { env: box.env, cwd: box.root });
  const stop = async () => {
    if (join.child.exitCode === null) {
      join.child.kill('SIGTERM');
      await join.exited;
    }
    await proxy.close();
  };
  let tokenFile: string;
  try {
    await join.waitFor(/serving room \S+ at ws:\/\//, 60_000);
    [, tokenFile = ''] = await join.waitFor(/--token-file (\S+)/);
  } catch (err) {
    await stop();
    await box.close();
    throw err;
  }
  proxy.target(port);
  const secret = readFileSync(path.join(stateDir, 'room-secret'), 'utf8').trim();
  const auth = createRoomAuth({ secret });
  return {
    box,
    join,
    room,
    stateDir,
    origin,
    port,
    proxy,
    ownerToken: readFileSync(tokenFile, 'utf8').trim(),
    ownerId,
    mint: (id, role, name) => auth.mint({ room, id, role, ...(name ? { name } : {}) }),
    link(token, o = {}) {
      const base = o.via === 'proxy' ? proxy.origin : origin;
      const params = new URLSearchParams({ token });
      if (o.channel) params.set('channel', o.channel);
      if (o.thread) params.set('thread', o.thread);
      return `${base}/#${params.toString()}`;
    },
    async close() {
      await stop();
      await box.assertNoProcesses();
      await box.close();
    },
  };
}

/** The last user message Codex sent the model, as JSON text (to match a keyword in). */
export function lastUserText(req: ResponsesRequest): string {
  return JSON.stringify(req.input.filter((i) => i.role === 'user').at(-1) ?? {});
}

/**
 * A script keyed by the user's message: the first key the message contains picks the
 * step; after a tool ran (its output is the last input), `afterTool` answers.
 */
export function scriptByMessage(steps: Record<string, Step>, afterTool: (callId: string) => Step): Script {
  return (req) => {
    const last = req.input.at(-1);
    if (last?.type === 'function_call_output') return afterTool(String(functionCallOutputs(req).at(-1)?.call_id ?? ''));
    const text = lastUserText(req);
    const key = Object.keys(steps).find((k) => text.includes(k));
    return key ? steps[key]! : { text: `no scripted answer for ${text.slice(0, 200)}`, chunks: 1 };
  };
}
