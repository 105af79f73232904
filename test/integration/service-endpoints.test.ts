// `join` as a service: /healthz, /readyz and /metrics on the room's port. The host runs as a
// user runs it (child process, config file) against a real WebSocket app-server with the
// scripted model; the app-server goes away and comes back, and /readyz follows it.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { say } from '../support/mock-model.js';
import { makeSandbox, type Sandbox } from '../support/sandbox.js';
import { runCli, type CliProc } from '../support/cli-proc.js';
import { startWsAppServer, type WsServer } from '../support/ws-app-server.js';
import { waitFor } from '../support/procs.js';

const TOKEN = 'sb-service-token-1234567890';
const METRICS_TOKEN = 'metrics-secret-0123456789';
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const get = async (url: string, headers: Record<string, string> = {}) => {
  const r = await fetch(url, { headers });
  return { status: r.status, body: await r.text(), type: r.headers.get('content-type') ?? '', csp: r.headers.get('content-security-policy') };
};
/** Polls an async condition (HTTP answers) until it holds or the time is up. */
async function until(cond: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}
const series = (body: string, name: string): number | undefined => {
  const line = body.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
};

describe('join as a service', () => {
  it('/healthz, /readyz that flips with the app-server connection, /metrics behind its token', async () => {
    const b: Sandbox = await makeSandbox((_req, i) => say(`answer ${i + 1}`));
    cleanup.push(async () => {
      await b.assertNoProcesses();
      await b.close();
    });
    let server: WsServer = await startWsAppServer(b.codex, b.codexHome, TOKEN);
    const port = Number(new URL(server.url).port);
    cleanup.push(() => server.stop());
    const tokenFile = path.join(b.root, 'app-server.token');
    writeFileSync(tokenFile, TOKEN, { mode: 0o600 });
    const config = path.join(b.root, 'switchboard.config.json');
    writeFileSync(config, JSON.stringify({ appServer: { transport: 'websocket', url: server.url, authTokenFile: tokenFile } }));
    const state = path.join(b.root, 'state');
    const join: CliProc = runCli(
      ['join', '--room', 'lab', '--agent-name', 'bot', '--cwd', b.workspace, '--state-dir', state, '--owner-id', 'ann', '--config', config],
      { env: { ...b.env, SWITCHBOARD_METRICS_TOKEN: METRICS_TOKEN }, cwd: b.root },
    );
    cleanup.push(async () => {
      if (join.child.exitCode === null) {
        join.child.kill('SIGTERM');
        await join.exited;
      }
    });
    const [, wsUrl] = await join.waitFor(/serving room lab at (ws:\/\/\S+)/);
    const http = wsUrl!.replace(/^ws:/, 'http:');

    expect(await get(`${http}/healthz`)).toMatchObject({ status: 200, body: 'ok\n' });
    expect(await get(`${http}/readyz`)).toMatchObject({ status: 200, body: expect.stringMatching(/^ready: /) });

    // A turn over the room, so the counters have something to count.
    const ownerToken = readFileSync(path.join(state, 'rooms', 'lab.owner.token'), 'utf8').trim();
    const ws = new WebSocket(wsUrl!);
    cleanup.push(() => ws.terminate());
    const frames: Array<Record<string, unknown>> = [];
    ws.on('message', (d) => frames.push(JSON.parse(String(d))));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'join', token: ownerToken }));
    expect(await waitFor(() => frames.some((f) => f.type === 'joined'), 10_000)).toBe(true);
    ws.send(JSON.stringify({ type: 'message', text: 'hello' }));
    const completed = () => frames.some((f) => f.type === 'event' && (f.event as { type: string }).type === 'turn.completed');
    expect(await waitFor(completed, 30_000)).toBe(true);

    // The metrics: refused without the token (the token never appears in an answer), then the series.
    const refused = await get(`${http}/metrics`);
    expect(refused.status).toBe(401);
    expect(refused.body).not.toContain(METRICS_TOKEN);
    expect((await get(`${http}/metrics`, { authorization: 'Bearer wrong-token-0000000000' })).status).toBe(401);
    const m = await get(`${http}/metrics`, { authorization: `Bearer ${METRICS_TOKEN}` });
    expect(m.status).toBe(200);
    expect(m.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(series(m.body, 'switchboard_turns_total{status="completed"}')).toBe(1);
    expect(series(m.body, 'switchboard_turn_duration_seconds_count{status="completed"}')).toBe(1);
    expect(series(m.body, 'switchboard_room_clients')).toBe(1);
    expect(series(m.body, 'switchboard_inbox_depth')).toBe(0);
    expect(series(m.body, 'switchboard_app_server_loaded_threads{harness="codex",member="conn:codex"}')).toBe(1);
    expect(series(m.body, 'switchboard_app_server_restarts_total{harness="codex",member="conn:codex"}')).toBe(0);
    expect(m.body).toMatch(/^switchboard_process_resident_memory_bytes \d+/m);

    // The app-server goes away: not ready (with the reason), still healthy; back: ready again, by itself.
    await server.stop();
    expect(await until(async () => (await get(`${http}/readyz`)).status === 503, 15_000)).toBe(true);
    const down = await get(`${http}/readyz`);
    expect(down.body).toMatch(/^not ready: codex\/conn:codex: (backoff|degraded|running\.\w+)/);
    expect((await get(`${http}/healthz`)).status).toBe(200);
    server = await startWsAppServer(b.codex, b.codexHome, TOKEN, port);
    expect(await until(async () => (await get(`${http}/readyz`)).status === 200, 40_000)).toBe(true);
    const after = await get(`${http}/metrics`, { authorization: `Bearer ${METRICS_TOKEN}` });
    expect(series(after.body, 'switchboard_app_server_restarts_total{harness="codex",member="conn:codex"}')).toBeGreaterThanOrEqual(1);
    expect(join.stdout() + join.stderr()).not.toContain(METRICS_TOKEN);
  }, 120_000);
});
