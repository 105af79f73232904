// The connection against the real `codex app-server` (from the @openai/codex devDependency),
// isolated in its own CODEX_HOME. No model is needed: model/list works without a login.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Connection } from '../../src/connection/connection.js';
import { ConnectionLostError } from '../../src/connection/errors.js';
import { processRegistry } from '../../src/process/registry.js';
import { memoryLogger } from '../support/log.js';
import { processesWithEnv, waitFor } from '../support/procs.js';
import { startWsAppServer, type WsServer } from '../support/ws-app-server.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const codex = path.join(repo, 'node_modules', '.bin', 'codex');
let home: string;
const open: Connection[] = [];
const logs: Array<() => string[]> = [];

function stdio(machine = {}) {
  const { log, lines } = memoryLogger();
  logs.push(lines);
  const conn = new Connection({
    transport: { kind: 'stdio', command: codex, env: { ...process.env, CODEX_HOME: home } },
    log,
    machine: { backoffBaseMs: 20, jitter: 0, ...machine },
  });
  open.push(conn);
  return conn;
}

beforeAll(() => {
  home = mkdtempSync(path.join(tmpdir(), 'sb-codex-home-'));
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.stop()));
});

afterAll(async () => {
  // Nothing this file started may survive it.
  expect(await waitFor(() => processesWithEnv(`CODEX_HOME=${home}`).length === 0, 5000)).toBe(true);
  expect(processRegistry.list()).toEqual([]);
  // No secret reached any log line of this file.
  expect(logs.flatMap((l) => l()).join('\n')).not.toMatch(/sb-secret-token/);
  rmSync(home, { recursive: true, force: true });
});

describe('real codex app-server over stdio', () => {
  it('handshakes, reports its version, and lists models', async () => {
    const conn = stdio();
    await conn.start();
    const s = conn.status();
    expect(s.state).toBe('running.ready');
    expect(s.serverVersion).toBe('0.169.0');
    expect(s.userAgent).toMatch(/^switchboard\/0\.169\.0 /);
    const models = await conn.request('model/list', {});
    expect(models.data.length).toBeGreaterThan(0);
    expect(models.data[0]).toHaveProperty('id');
  });

  it('kill -9 during a pending request: rejected at once, connection back to ready', async () => {
    const conn = stdio();
    await conn.start();
    const pid = conn.status().pid!;
    // Freeze the server so the request stays pending, then kill it outright. The npm
    // `codex` is a Node launcher around the native binary, so signal the whole group.
    process.kill(-pid, 'SIGSTOP');
    const pending = conn.request('model/list', {});
    await waitFor(() => conn.status().pending === 1);
    const t0 = Date.now();
    process.kill(-pid, 'SIGKILL');
    const err = await pending.catch((e: unknown) => e);
    const rejectedAfter = Date.now() - t0;
    expect(err).toBeInstanceOf(ConnectionLostError);
    expect((err as Error).message).toMatch(/SIGKILL/);
    expect(rejectedAfter).toBeLessThan(1000); // functional bound: "at once", not a benchmark
    await conn.waitForReady(undefined, 15_000);
    expect(conn.status()).toMatchObject({ state: 'running.ready', restarts: 1 });
    expect(conn.status().pid).not.toBe(pid);
    await expect(conn.request('model/list', {})).resolves.toHaveProperty('data');
  });

  it('a missing CODEX_HOME: the app-server\'s own reason in the error, and no retries', async () => {
    const { log, lines } = memoryLogger();
    logs.push(lines);
    const missing = path.join(home, 'does-not-exist');
    const conn = new Connection({ transport: { kind: 'stdio', command: codex, env: { ...process.env, CODEX_HOME: missing } }, log, machine: { backoffBaseMs: 20, jitter: 0 } });
    open.push(conn);
    const err = (await conn.start().then(() => new Error('started'), (e: unknown) => e)) as Error;
    expect(err.message).toBe(`codex app-server exited with code 1: CODEX_HOME points to "${missing}", but that path does not exist`);
    expect(conn.status()).toMatchObject({ state: 'failed', restarts: 0, error: err.message });
  });

  it('graceful stop leaves no process behind', async () => {
    const conn = stdio();
    await conn.start();
    const pid = conn.status().pid!;
    await conn.stop();
    expect(conn.status().state).toBe('stopped');
    expect(await waitFor(() => processesWithEnv(`CODEX_HOME=${home}`).length === 0, 5000)).toBe(true);
    expect(() => process.kill(pid, 0)).toThrow();
  });
});

describe('real codex app-server over WebSocket', () => {
  let server: WsServer;
  beforeAll(async () => {
    server = await startWsAppServer(codex, home, 'sb-secret-token-1234567890');
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('connects with the capability token and lists models', async () => {
    const { log, lines } = memoryLogger();
    logs.push(lines);
    const conn = new Connection({
      transport: { kind: 'websocket', url: server.url, authToken: server.token, headers: { 'X-Switchboard-Test': '1' } },
      log,
    });
    open.push(conn);
    await conn.start();
    expect(conn.status().serverVersion).toBe('0.169.0');
    const models = await conn.request('model/list', {});
    expect(models.data.length).toBeGreaterThan(0);
  });

  it('a bad token fails fast with an auth error and no retry storm', async () => {
    const { log, lines } = memoryLogger();
    logs.push(lines);
    const conn = new Connection({ transport: { kind: 'websocket', url: server.url, authToken: 'sb-secret-token-WRONG' }, log });
    open.push(conn);
    const t0 = Date.now();
    await expect(conn.start()).rejects.toThrow(/refused authentication \(HTTP 401\): check the auth token/);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(conn.status()).toMatchObject({ state: 'failed', restarts: 0 });
  });
});
