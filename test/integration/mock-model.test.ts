// Proves the scripted model provider against the real `codex app-server`: streamed text,
// a shell tool call, a declined approval, a provider HTTP error and an interrupted stall.
// The client here is deliberately raw (child_process + NDJSON) so it tests the mock, not src/.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { codexBin, makeCodexHome, type CodexHome } from '../support/codex-home.js';
import { functionCallOutputs, say, shell, startMockModel, type MockModel, type Script } from '../support/mock-model.js';
import { killAllWithEnv, processesWithEnv, waitFor } from '../support/procs.js';

type Json = Record<string, any>;
interface Msg {
  id?: number | string;
  method?: string;
  params?: Json;
  result?: Json;
  error?: Json;
}

const WAIT_MS = 10_000;

/** Minimal app-server client: requests, a log of every notification, server-request answers. */
class AppServer {
  readonly notifications: Msg[] = [];
  readonly serverRequests: Msg[] = [];
  stderr = '';
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (m: Msg) => void; reject: (e: Error) => void }>();
  private readonly waiters = new Set<() => void>();
  /** Answer for each server request (e.g. approvals); an unanswered one would block the turn. */
  onServerRequest: (msg: Msg) => unknown = () => ({});

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    createInterface({ input: child.stdout }).on('line', (line) => this.receive(JSON.parse(line) as Msg));
    child.on('exit', () => {
      for (const p of this.pending.values()) p.reject(new Error(`codex exited\n${this.stderr}`));
      this.pending.clear();
    });
  }

  private receive(msg: Msg): void {
    if (msg.method === undefined) {
      const p = this.pending.get(Number(msg.id));
      this.pending.delete(Number(msg.id));
      if (msg.error) p?.reject(new Error(JSON.stringify(msg.error)));
      else p?.resolve(msg);
      return;
    }
    if (msg.id !== undefined) {
      this.serverRequests.push(msg);
      this.send({ id: msg.id, result: this.onServerRequest(msg) });
    } else {
      this.notifications.push(msg);
    }
    for (const wake of this.waiters) wake();
  }

  private send(msg: Record<string, unknown>): void {
    this.child.stdin.write(`${JSON.stringify(msg)}\n`);
  }

  notify(method: string, params?: Json): void {
    this.send(params === undefined ? { method } : { method, params });
  }

  async request(method: string, params: Json): Promise<Json> {
    const id = this.nextId++;
    const reply = new Promise<Msg>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.send({ id, method, params });
    return (await withTimeout(reply, `${method} reply`)).result ?? {};
  }

  /** Resolves with the first notification (already received or future) matching. */
  async next(method: string, pred: (params: Json) => boolean = () => true): Promise<Json> {
    const find = () => this.notifications.find((n) => n.method === method && pred(n.params ?? {}))?.params;
    let wake = () => {};
    const found = new Promise<Json>((resolve) => {
      wake = () => {
        const hit = find();
        if (hit) resolve(hit);
      };
      this.waiters.add(wake);
      wake();
    });
    try {
      return await withTimeout(found, `notification ${method}`);
    } finally {
      this.waiters.delete(wake);
    }
  }

  of(method: string): Json[] {
    return this.notifications.filter((n) => n.method === method).map((n) => n.params ?? {});
  }
}

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT_MS);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

// Per-test resources, torn down in afterEach whatever happened.
let mock: MockModel | undefined;
let home: CodexHome | undefined;
let workspace: string | undefined;
let server: AppServer | undefined;

async function startSession(script: Script, opts: { approvalPolicy?: string } = {}) {
  mock = await startMockModel(script);
  home = makeCodexHome({ modelUrl: mock.url });
  workspace = mkdtempSync(join(tmpdir(), 'switchboard-ws-'));
  // detached: the launcher (node) and the native binary share a fresh process group we can kill.
  const child = spawn(codexBin(), ['app-server', '--listen', 'stdio://'], {
    env: { ...process.env, CODEX_HOME: home.dir },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  server = new AppServer(child);
  const init = await server.request('initialize', {
    clientInfo: { name: 'switchboard-test', title: null, version: '0.0.0' },
    capabilities: null,
  });
  expect(init.userAgent).toMatch(/^switchboard-test\/0\.169\.0 /);
  // Makes the leak check in afterEach meaningful: the marker really finds codex.
  expect(processesWithEnv(`CODEX_HOME=${home.dir}`).length).toBeGreaterThan(0);
  server.notify('initialized');
  const started = await server.request('thread/start', {
    cwd: workspace,
    approvalPolicy: opts.approvalPolicy ?? 'never',
    sandbox: 'workspace-write',
  });
  const threadId = started.thread.id as string;
  return { server, threadId, workspace, mock };
}

async function startTurn(s: AppServer, threadId: string, text = 'hi'): Promise<string> {
  const res = await s.request('turn/start', { threadId, input: [{ type: 'text', text, text_elements: [] }] });
  expect(res.turn.status).toBe('inProgress');
  return res.turn.id as string;
}

afterEach(async () => {
  const marker = home ? `CODEX_HOME=${home.dir}` : undefined;
  if (server?.child.pid !== undefined) {
    try {
      process.kill(-server.child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  // Codex starts its shell-snapshot bash (`bash -lc`, sourcing ~/.bashrc) in its own session,
  // so the group kill misses it: sweep everything still carrying our CODEX_HOME.
  const survivors = marker ? await killAllWithEnv(marker) : [];
  await mock?.close();
  home?.cleanup();
  if (workspace) rmSync(workspace, { recursive: true, force: true });
  mock = home = workspace = server = undefined;
  expect(survivors, 'codex processes outlived the test').toEqual([]);
});

describe('mock model provider driving the real codex app-server', () => {
  it('streams a text turn as agentMessage deltas', async () => {
    const { server, threadId, mock } = await startSession([say('Hello from the mock model.', 4)]);
    const turnId = await startTurn(server, threadId);

    const completed = await server.next('turn/completed', (p) => p.turn.id === turnId);
    expect(completed.turn.status).toBe('completed');
    expect(completed.turn.error).toBeNull();

    const deltas = server.of('item/agentMessage/delta').filter((d) => d.turnId === turnId);
    expect(deltas.length).toBe(4);
    const message = server.of('item/completed').find((p) => p.item.type === 'agentMessage')?.item;
    expect(message?.text).toBe('Hello from the mock model.');
    expect(deltas.map((d) => d.delta).join('')).toBe(message?.text);
    expect(deltas.every((d) => d.itemId === message?.id)).toBe(true);

    // The turn/item order a client sees for a plain text turn (other notifications interleave).
    const order = server.notifications
      .filter((n) => /^(turn|item)\//.test(n.method ?? ''))
      .map((n) => (n.params?.item ? `${n.method}:${n.params.item.type}` : n.method));
    expect(order).toEqual([
      'turn/started',
      'item/started:userMessage',
      'item/completed:userMessage',
      'item/started:agentMessage',
      ...Array(4).fill('item/agentMessage/delta'),
      'item/completed:agentMessage',
      'turn/completed',
    ]);

    expect(mock.requests).toHaveLength(1);
    expect(mock.requests[0]?.model).toBe('mock-model');
    const userText = JSON.stringify(mock.requests[0]?.input.at(-1));
    expect(userText).toContain('"hi"');
  });

  it('runs a scripted shell call and reports its output back to the model', async () => {
    const { server, threadId, workspace, mock } = await startSession([shell('echo hi > out.txt', { callId: 'call_sh' }), say('done')]);
    const turnId = await startTurn(server, threadId);

    const completed = await server.next('turn/completed', (p) => p.turn.id === turnId);
    expect(completed.turn.status).toBe('completed');
    expect(existsSync(join(workspace, 'out.txt'))).toBe(true);

    // Codex names the commandExecution item after the model's call_id.
    const exec = server.of('item/completed').find((p) => p.item.type === 'commandExecution')?.item;
    expect(exec).toMatchObject({ id: 'call_sh', status: 'completed', exitCode: 0 });
    expect(exec?.command).toContain('echo hi > out.txt');

    expect(mock.requests).toHaveLength(2);
    const outputs = functionCallOutputs(mock.requests[1]);
    expect(outputs).toHaveLength(1);
    expect(outputs[0]).toMatchObject({ call_id: 'call_sh' });
    expect(String(outputs[0]?.output)).toContain('exited with code 0');
  });

  it('asks the client to approve an escalated command and honours a decline', async () => {
    const { server, threadId, workspace, mock } = await startSession(
      [shell('echo hi > out.txt', { escalated: true, justification: 'write out.txt' }), say('ok, skipped')],
      { approvalPolicy: 'untrusted' },
    );
    server.onServerRequest = (msg) =>
      msg.method === 'item/commandExecution/requestApproval' ? { decision: 'decline' } : {};
    const turnId = await startTurn(server, threadId);

    const completed = await server.next('turn/completed', (p) => p.turn.id === turnId);
    expect(completed.turn.status).toBe('completed');

    expect(server.serverRequests.map((r) => r.method)).toEqual(['item/commandExecution/requestApproval']);
    const approval = server.serverRequests[0]?.params;
    expect(approval).toMatchObject({ kind: 'command', threadId, turnId, reason: 'write out.txt', cwd: workspace });
    expect(approval?.command).toContain('echo hi > out.txt');
    // Resolution is announced, and the item ends as declined.
    expect(server.of('serverRequest/resolved')[0]).toMatchObject({ threadId, requestId: server.serverRequests[0]?.id });
    const exec = server.of('item/completed').find((p) => p.item.type === 'commandExecution')?.item;
    expect(exec?.status).toBe('declined');

    expect(existsSync(join(workspace, 'out.txt'))).toBe(false);
    expect(String(functionCallOutputs(mock.requests[1])[0]?.output)).toContain('rejected by user');
  });

  it('turns a provider HTTP 500 into an error notification and a failed turn', async () => {
    const { server, threadId, mock } = await startSession([{ httpStatus: 500 }, say('recovered')]);
    const turnId = await startTurn(server, threadId);

    const error = await server.next('error', (p) => p.turnId === turnId);
    expect(typeof error.error.message).toBe('string');
    expect(error.error.message.length).toBeGreaterThan(0);
    // request_max_retries = 0, so Codex gives up at once rather than "Reconnecting...".
    expect(error.willRetry).toBe(false);
    expect(error.error.codexErrorInfo).toBe('internalServerError');

    const completed = await server.next('turn/completed', (p) => p.turn.id === turnId);
    expect(completed.turn.status).toBe('failed');
    expect(completed.turn.error?.message).toBe(error.error.message);
    expect(mock.requests).toHaveLength(1);

    // The thread stays usable: the next turn consumes the next scripted step.
    const second = await startTurn(server, threadId, 'again');
    const done = await server.next('turn/completed', (p) => p.turn.id === second);
    expect(done.turn.status).toBe('completed');
    expect(done.turn.items.at(-1)?.text).toBe('recovered');
  });

  it('can stall mid-stream so a turn can be interrupted', async () => {
    const { server, threadId, mock } = await startSession([{ text: 'too late', stallMs: 60_000 }]);
    const turnId = await startTurn(server, threadId);
    await waitFor(() => mock.requests.length === 1, WAIT_MS);

    await server.request('turn/interrupt', { threadId, turnId });
    const completed = await server.next('turn/completed', (p) => p.turn.id === turnId);
    expect(completed.turn.status).toBe('interrupted');
    expect(server.of('item/agentMessage/delta')).toHaveLength(0);
  });
});

describe('mock model alone', () => {
  const post = async (url: string, body: Json) => {
    const res = await fetch(`${url}/v1/responses`, { method: 'POST', body: JSON.stringify(body) });
    const events = (await res.text())
      .split('\n\n')
      .filter(Boolean)
      .map((block) => JSON.parse(block.split('\n')[1]!.slice('data: '.length)) as Json);
    return { status: res.status, type: res.headers.get('content-type'), events };
  };

  it('serves scripted items, a function script, models, 404 and an exhausted script', async () => {
    const m = await startMockModel((req, i) =>
      i === 0 ? { items: [say('ab', 2), shell('ls', { callId: 'c9' })] } : say(`model was ${req.model}`),
    );
    try {
      const first = await post(m.url, { model: 'x', input: [] });
      expect(first.type).toBe('text/event-stream');
      expect(first.events.map((e) => e.type)).toEqual([
        'response.created',
        'response.output_item.added',
        'response.output_text.delta',
        'response.output_text.delta',
        'response.output_item.done',
        'response.output_item.done',
        'response.completed',
      ]);
      expect(first.events[5]?.item).toMatchObject({ type: 'function_call', name: 'exec_command', call_id: 'c9', arguments: '{"cmd":"ls"}' });
      const second = await post(m.url, { model: 'y', input: [] });
      expect(second.events.find((e) => e.type === 'response.output_item.done')?.item.content[0].text).toBe('model was y');
      expect(m.requests.map((r) => r.model)).toEqual(['x', 'y']);

      expect(await (await fetch(`${m.url}/v1/models`)).json()).toEqual({ object: 'list', data: [] });
      expect((await fetch(`${m.url}/nope`)).status).toBe(404);
    } finally {
      await m.close();
    }

    const short = await startMockModel([]);
    try {
      const res = await post(short.url, { model: 'z', input: [] });
      expect(res.events.find((e) => e.type === 'response.output_item.done')?.item.content[0].text).toBe('(script exhausted)');
    } finally {
      await short.close();
    }
  });
});
