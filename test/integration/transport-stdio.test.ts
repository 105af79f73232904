// The stdio transport against a real child process (a scriptable fake app-server).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Connection } from '../../src/connection/connection.js';
import { processRegistry } from '../../src/process/registry.js';
import { memoryLogger } from '../support/log.js';
import { isAlive, processesWithEnv, waitFor } from '../support/procs.js';

const cmdline = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ');
  } catch {
    return '';
  }
};
const fakeServer = fileURLToPath(new URL('../support/fake-app-server.mjs', import.meta.url));
const marker = `SWITCHBOARD_TEST_MARK=stdio-${process.pid}`;
const open: Connection[] = [];

function fake(env: Record<string, string> = {}, machine = {}, extra = {}) {
  const { log, lines } = memoryLogger();
  const conn = new Connection({
    transport: {
      kind: 'stdio',
      command: process.execPath,
      args: [fakeServer],
      env: { ...process.env, SWITCHBOARD_TEST_MARK: marker.split('=')[1], ...env },
      closeGraceMs: 200,
      killGraceMs: 200,
    },
    log,
    machine: { backoffBaseMs: 10, backoffMaxMs: 50, jitter: 0, handshakeTimeoutMs: 3000, ...machine },
    ...extra,
  });
  open.push(conn);
  return { conn, lines };
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.stop()));
});

afterAll(async () => {
  expect(await waitFor(() => processesWithEnv(marker).length === 0, 3000)).toBe(true);
  expect(processRegistry.list()).toEqual([]);
});

describe('stdio transport', () => {
  it('a fake server reporting 0.100.0 is refused with the documented message', async () => {
    const { conn } = fake({ FAKE_VERSION: '0.100.0' });
    await expect(conn.start()).rejects.toThrow('Codex app-server 0.118.0 or newer is required, found 0.100.0');
    expect(conn.status()).toMatchObject({ state: 'failed', restarts: 0 });
  });

  it('a missing binary fails at once, without a retry loop', async () => {
    const { log } = memoryLogger();
    const conn = new Connection({ transport: { kind: 'stdio', command: '/nonexistent/codex-nope' }, log });
    open.push(conn);
    await expect(conn.start()).rejects.toThrow(/Codex binary not found: "\/nonexistent\/codex-nope"/);
    expect(conn.status().restarts).toBe(0);
  });

  it('round-trips requests and counts garbage lines', async () => {
    const { conn } = fake();
    await conn.start();
    expect(conn.status().pid).toBeGreaterThan(0);
    await expect(conn.requestRaw('fake/garbage', {})).resolves.toEqual({ ok: true });
    // "this is not json", '{"unterminated": ', '[1,2,3]', '{"id":true}'
    expect(conn.status().malformed).toBe(4);
  });

  it('retries model/list through -32001 overload', async () => {
    const { conn } = fake({ FAKE_OVERLOAD_COUNT: '2' }, {}, { overloadRetry: { attempts: 3, baseMs: 5, maxMs: 20 } });
    await conn.start();
    const r = await conn.request('model/list', {});
    expect(r.data.map((m) => m.id)).toEqual(['fake-model']);
  });

  it('a crash rejects the pending call with exit status and a redacted stderr tail, then restarts', async () => {
    const { conn } = fake({ FAKE_STDERR: 'fatal: upstream said Authorization: Bearer sk-live-SECRET123456' });
    await conn.start();
    const pending = conn.requestRaw('fake/never', {}, { timeoutMs: 0 });
    await waitFor(() => conn.status().pending === 1);
    void conn.requestRaw('fake/exit', { code: 7 }).catch(() => {});
    const err = (await pending.catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(/exited with code 7/);
    expect(err.message).toMatch(/fatal: upstream said/);
    expect(err.message).not.toMatch(/SECRET123456/);
    await conn.waitForReady(undefined, 5000);
    expect(conn.status().restarts).toBe(1);
  });

  it('kills the whole process group on stop, grandchildren included', async () => {
    const { conn } = fake({ FAKE_GRANDCHILD: '1' });
    await conn.start();
    const group = conn.status().pid!;
    const kids = await waitFor(() => processesWithEnv(marker).length >= 2, 3000);
    expect(kids).toBe(true);
    const members = processesWithEnv(marker);
    await conn.stop();
    expect(await waitFor(() => members.every((p) => !isAlive(p)), 3000)).toBe(true);
    expect(isAlive(group)).toBe(false);
  });

  it('reaps descendants that left the process group (own session), on stop and on crash', async () => {
    for (const how of ['stop', 'crash'] as const) {
      const { conn, lines } = fake({ FAKE_SETSID_CHILD: '1' });
      await conn.start();
      // `setsid` forks when it is a group leader: wait for the `sleep` itself to exist.
      const sleeper = () => processesWithEnv(marker).find((p) => cmdline(p).startsWith('sleep'));
      expect(await waitFor(() => sleeper() !== undefined, 3000)).toBe(true);
      const members = [conn.status().pid!, sleeper()!];
      if (how === 'stop') await conn.stop();
      else {
        void conn.requestRaw('fake/exit', { code: 9 }).catch(() => {});
        await conn.waitForReady(undefined, 5000);
      }
      expect(await waitFor(() => members.every((p) => !isAlive(p)), 3000), how).toBe(true);
      expect(lines().some((l) => l.includes('killed app-server descendants outside its process group'))).toBe(true);
      await conn.stop();
    }
  });

  it('escalates to SIGKILL when the server ignores stdin EOF and SIGTERM', async () => {
    const { conn, lines } = fake({ FAKE_IGNORE_SIGTERM: '1', FAKE_IGNORE_STDIN_EOF: '1' });
    await conn.start();
    const pid = conn.status().pid!;
    await conn.stop();
    expect(await waitFor(() => !isAlive(pid), 3000)).toBe(true);
    const msgs = lines().map((l) => JSON.parse(l).msg as string);
    expect(msgs).toContain('app-server still running after stdin closed: SIGTERM');
    expect(msgs).toContain('app-server ignored SIGTERM: SIGKILL');
  });

  it('a server that dies while we write a lot never crashes the host (EPIPE)', async () => {
    const { conn } = fake();
    await conn.start();
    void conn.requestRaw('fake/exit', { code: 1 }).catch(() => {});
    const big = 'x'.repeat(256 * 1024);
    const writes = Array.from({ length: 40 }, () => conn.requestRaw('fake/echo', { big }, { timeoutMs: 0 }).catch((e: Error) => e));
    const results = await Promise.all(writes);
    expect(results.every((r) => r instanceof Error)).toBe(true);
    await conn.waitForReady(undefined, 5000);
    await expect(conn.requestRaw('fake/echo', { ok: 1 })).resolves.toEqual({ ok: 1 });
  });

  it('a server request is answered by the handler, and withdrawn ones are not answered', async () => {
    const { conn } = fake();
    await conn.start();
    conn.setServerRequestHandler(async (req) => {
      if (req.params.itemId === 'slow') return new Promise(() => {});
      return { result: { decision: 'accept' } };
    });
    const params = { threadId: 't', turnId: 'u', itemId: 'i', command: 'ls' };
    await expect(conn.requestRaw('fake/serverRequest', { method: 'item/commandExecution/requestApproval', params })).resolves.toEqual({
      answer: { decision: 'accept' },
      error: null,
    });
    const withdrawn = await conn.requestRaw('fake/serverRequest', {
      method: 'item/commandExecution/requestApproval',
      params: { ...params, itemId: 'slow' },
      resolveAfterMs: 20,
    });
    expect(withdrawn).toEqual({ withdrawn: true });
    expect(conn.status().pendingServerRequests).toBe(0);
    await expect(conn.requestRaw('fake/serverRequest', { method: 'totally/unknown', params: {} })).resolves.toMatchObject({
      answer: null,
      error: { code: -32601 },
    });
  });
});
