// The service paths in front of the web room: liveness, readiness with its reason, metrics
// behind an optional bearer token; every other path goes to the web room untouched.
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SwitchboardMetrics } from '../../../src/metrics/metrics.js';
import { withServiceEndpoints } from '../../../src/web/service.js';
import { CONTENT_SECURITY_POLICY } from '../../../src/web/static.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function serve(ready: { ok: boolean; reason: string }, metrics?: SwitchboardMetrics, metricsToken?: string): Promise<string> {
  const next = (_req: unknown, res: import('node:http').ServerResponse) => void res.writeHead(299).end('web room');
  const s = createServer(withServiceEndpoints(next, { ready: () => ready, ...(metrics ? { metrics } : {}), ...(metricsToken ? { metricsToken } : {}) }));
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

describe('service endpoints', () => {
  it('answers liveness and readiness with the reason, with the security headers, and passes other paths on', async () => {
    const state = { ok: false, reason: 'codex/conn:codex: backoff' };
    const url = await serve(state);
    const live = await fetch(`${url}/healthz`);
    expect([live.status, await live.text(), live.headers.get('content-security-policy')]).toEqual([200, 'ok\n', CONTENT_SECURITY_POLICY]);
    const notReady = await fetch(`${url}/readyz?verbose=1`);
    expect([notReady.status, await notReady.text()]).toEqual([503, 'not ready: codex/conn:codex: backoff\n']);
    state.ok = true;
    state.reason = 'an app-server connection is ready';
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`, { method: 'POST' })).status).toBe(405);
    const head = await fetch(`${url}/healthz`, { method: 'HEAD' });
    expect([head.status, await head.text()]).toEqual([200, '']);
    const other = await fetch(`${url}/`);
    expect([other.status, await other.text()]).toEqual([299, 'web room']);
    expect((await fetch(`${url}/metrics`)).status).toBe(404);
  });

  it('serves metrics only with the bearer token when one is set', async () => {
    const m = new SwitchboardMetrics({ members: async () => [], roomClients: () => 2, inboxDepth: () => 0 }, { defaultMetrics: false });
    const url = await serve({ ok: true, reason: 'ready' }, m, 'tok-0123456789abcdef');
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    expect((await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer tok-0123456789abcdeX' } })).status).toBe(401);
    expect((await fetch(`${url}/metrics`, { headers: { authorization: 'Basic tok-0123456789abcdef' } })).status).toBe(401);
    const ok = await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer tok-0123456789abcdef' } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(/^switchboard_room_clients 2$/m);
    m.dispose();
  });
});
