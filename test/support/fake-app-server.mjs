#!/usr/bin/env node
// A scriptable stand-in for `codex app-server --listen stdio://`, for the cases the real
// binary cannot be made to produce on demand (old versions, overload, crash loops,
// garbage output). Behaviour comes from FAKE_* environment variables and `fake/*` calls.
import { spawn } from 'node:child_process';
import readline from 'node:readline';

const env = process.env;
const version = env.FAKE_VERSION ?? '0.169.0';
const userAgent = env.FAKE_USER_AGENT ?? `fake_server/${version} (Test OS; x86_64) test`;
let overloads = Number(env.FAKE_OVERLOAD_COUNT ?? 0);
let nextServerId = 1000;
const silent = new Set((env.FAKE_SILENT_METHODS ?? '').split(',').filter(Boolean));
const waiting = new Map(); // server request id -> original client request id

const send = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
process.stdout.on('error', () => process.exit(0));

if (env.FAKE_STDERR) process.stderr.write(`${env.FAKE_STDERR}\n`);
if (env.FAKE_EXIT_AT_START) process.exit(Number(env.FAKE_EXIT_AT_START));
if (env.FAKE_GRANDCHILD) {
  // A grandchild in our process group: it must die when the group is stopped.
  const child = spawn('sleep', ['300'], { stdio: 'ignore' });
  process.stderr.write(`grandchild ${child.pid}\n`);
}
if (env.FAKE_SETSID_CHILD) {
  // Like Codex's shell snapshot: a helper in its own session, outside our process group.
  const child = spawn('setsid', ['sleep', '300'], { stdio: 'ignore', detached: true });
  child.unref();
}
if (env.FAKE_IGNORE_SIGTERM) process.on('SIGTERM', () => {});
// Keep running after stdin EOF, like a server that ignores it.
if (env.FAKE_IGNORE_STDIN_EOF) setInterval(() => {}, 1000);

const rl = readline.createInterface({ input: process.stdin });
rl.on('close', () => {
  if (!env.FAKE_IGNORE_STDIN_EOF) process.exit(0);
});
rl.on('line', (line) => {
  let msg;
  try {
    msg = JSON.parse(line);
  } catch {
    return;
  }
  if (msg.method === undefined && msg.id !== undefined) {
    // An answer to one of our server requests: report it back to the caller.
    const origin = waiting.get(msg.id);
    if (origin !== undefined) {
      waiting.delete(msg.id);
      send({ id: origin, result: { answer: msg.result ?? null, error: msg.error ?? null } });
    }
    return;
  }
  const { id, method, params } = msg;
  // Methods a wedged Codex would never answer (e.g. turn/start with ill-formed text).
  if (silent.has(method)) return;
  switch (method) {
    case 'initialize':
      if (env.FAKE_HANG_INITIALIZE) return;
      send({ id, result: { userAgent, codexHome: '/tmp/fake', platformFamily: 'unix', platformOs: 'linux' } });
      return;
    case 'initialized':
      if (env.FAKE_EXIT_AFTER_INIT) setTimeout(() => process.exit(Number(env.FAKE_EXIT_AFTER_INIT)), 5);
      return;
    case 'model/list':
      if (overloads > 0) {
        overloads--;
        send({ id, error: { code: -32001, message: 'Server overloaded; retry later.' } });
        return;
      }
      send({ id, result: { data: [{ id: 'fake-model', model: 'fake-model', displayName: 'Fake' }], nextCursor: null } });
      return;
    case 'thread/start':
      if (overloads > 0) {
        overloads--;
        send({ id, error: { code: -32001, message: 'Server overloaded; retry later.' } });
        return;
      }
      send({ id, result: { thread: { id: 'thr_fake' }, model: 'fake-model' } });
      return;
    case 'fake/never':
      return; // never answered
    case 'fake/late':
      setTimeout(() => send({ id, result: { late: true } }), Number(params?.afterMs ?? 200));
      return;
    case 'fake/echo':
      send({ id, result: params ?? null });
      return;
    case 'fake/serverRequest': {
      const sid = params.id ?? nextServerId++;
      waiting.set(sid, id);
      send({ id: sid, method: params.method, params: params.params });
      if (params.resolveAfterMs !== undefined) {
        setTimeout(() => {
          send({ method: 'serverRequest/resolved', params: { threadId: params.params?.threadId ?? 'thr', requestId: sid } });
          send({ id, result: { withdrawn: true } });
        }, params.resolveAfterMs);
      }
      return;
    }
    case 'fake/notify':
      for (let i = 0; i < (params.count ?? 1); i++) send({ method: params.method, params: params.params });
      send({ id, result: {} });
      return;
    case 'fake/garbage':
      process.stdout.write('this is not json\n{"unterminated": \n[1,2,3]\n{"id":true}\n\n');
      send({ id, result: { ok: true } });
      return;
    case 'fake/exit':
      process.exit(params?.code ?? 3);
      return;
    default:
      if (id !== undefined) send({ id, error: { code: -32601, message: `unknown method ${method}` } });
  }
});
