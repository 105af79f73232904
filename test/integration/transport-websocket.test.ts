// The WebSocket transport against an in-process ws server we control.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { Connection, type ConnectionLifecycleEvent } from '../../src/connection/connection.js';
import { memoryLogger } from '../support/log.js';
import { waitFor } from '../support/procs.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function server(opts: { autoPong: boolean; requireToken?: string }) {
  const sockets: WebSocket[] = [];
  const headers: Array<Record<string, string | string[] | undefined>> = [];
  const wss = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    autoPong: opts.autoPong,
    verifyClient: (info, cb) => {
      headers.push(info.req.headers);
      if (opts.requireToken && info.req.headers.authorization !== `Bearer ${opts.requireToken}`) cb(false, 401, 'Unauthorized');
      else cb(true);
    },
  });
  await new Promise((r) => wss.once('listening', r));
  wss.on('connection', (ws) => {
    sockets.push(ws);
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { id?: number; method?: string };
      if (msg.method === 'initialize') ws.send(JSON.stringify({ id: msg.id, result: { userAgent: 'ws_test/0.169.0 (x)' } }));
      else if (msg.method === 'model/list') ws.send(JSON.stringify({ id: msg.id, result: { data: [], nextCursor: null } }));
    });
  });
  cleanup.push(() => new Promise<void>((r) => wss.close(() => r())));
  for (const s of sockets) cleanup.push(() => s.terminate());
  const port = (wss.address() as { port: number }).port;
  return { url: `ws://127.0.0.1:${port}`, sockets, headers, wss };
}

function connect(url: string, extra: { authToken?: string; headers?: Record<string, string>; heartbeatMs?: number } = {}) {
  const { log, lines } = memoryLogger();
  const conn = new Connection({
    transport: { kind: 'websocket', url, ...extra },
    log,
    machine: { backoffBaseMs: 10, jitter: 0, maxFailures: 10 },
  });
  const events: ConnectionLifecycleEvent[] = [];
  conn.onLifecycle((e) => events.push(e));
  cleanup.push(() => conn.stop());
  return { conn, events, lines };
}

describe('websocket transport', () => {
  it('sends the bearer token and custom headers, and never logs the token', async () => {
    const srv = await server({ autoPong: true, requireToken: 'tok-abcdef-123456' });
    const { conn, lines } = connect(srv.url, { authToken: 'tok-abcdef-123456', headers: { 'X-Agent': 'main' } });
    await conn.start();
    expect(srv.headers[0]).toMatchObject({ authorization: 'Bearer tok-abcdef-123456', 'x-agent': 'main' });
    await expect(conn.request('model/list', {})).resolves.toEqual({ data: [], nextCursor: null });
    expect(lines().join('\n')).not.toContain('tok-abcdef-123456');
  });

  it('detects a half-open socket by the missing pong and reconnects', async () => {
    const srv = await server({ autoPong: false });
    const { conn, events } = connect(srv.url, { heartbeatMs: 50 });
    await conn.start();
    await waitFor(() => events.some((e) => e.type === 'lost'), 3000);
    const lost = events.find((e) => e.type === 'lost');
    expect(lost).toMatchObject({ type: 'lost', exit: { kind: 'heartbeat', retryable: true } });
    expect((lost as { exit: { reason: string } }).exit.reason).toMatch(/no pong within 50 ms: connection is half-open/);
    await waitFor(() => conn.status().restarts >= 1 && conn.ready, 3000);
    expect(srv.sockets.length).toBeGreaterThanOrEqual(2);
  });

  it('a healthy socket with pongs stays up across many heartbeats', async () => {
    const srv = await server({ autoPong: true });
    const { conn, events } = connect(srv.url, { heartbeatMs: 20 });
    await conn.start();
    await new Promise((r) => setTimeout(r, 200));
    expect(events.filter((e) => e.type === 'lost')).toEqual([]);
    expect(conn.status().restarts).toBe(0);
  });

  it('a server-side close is a lost connection that reconnects', async () => {
    const srv = await server({ autoPong: true });
    const { conn, events } = connect(srv.url);
    await conn.start();
    srv.sockets[0]!.close(1011, 'server restarting');
    await waitFor(() => events.some((e) => e.type === 'lost') && conn.ready && conn.status().restarts === 1, 3000);
    expect(events.find((e) => e.type === 'lost')).toMatchObject({ exit: { reason: 'WebSocket closed (1011: server restarting)' } });
  });
});
