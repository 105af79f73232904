// Service endpoints on the room server's HTTP port, in front of the web room's handler:
//   /healthz  200 while the process serves HTTP (liveness)
//   /readyz   200 only when an app-server connection is ready, else 503 with the reason
//   /metrics  Prometheus text (prom-client); with a token configured, only with that bearer token
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Observable } from 'rxjs';
import type { RoomEvent } from '../events/room-events.js';
import { SwitchboardMetrics } from '../metrics/metrics.js';
import { hostProbe } from '../metrics/host-probe.js';
import type { ClusterProbe } from '../metrics/cluster-metrics.js';
import { createStaticHandler, SECURITY_HEADERS, type StaticHandler } from './static.js';

export interface ServiceEndpoints {
  ready(): { ok: boolean; reason: string };
  metrics?: SwitchboardMetrics;
  /** When set, /metrics needs `Authorization: Bearer <token>`. */
  metricsToken?: string;
  log?: Logger;
}

const SERVICE_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  if (!m) return false;
  const a = Buffer.from(m[1]!);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Answers the service paths; everything else goes to `next` (the web room). */
export function withServiceEndpoints(next: StaticHandler, s: ServiceEndpoints): StaticHandler {
  const send = (req: IncomingMessage, res: ServerResponse, status: number, type: string, body: string, extra: Record<string, string> = {}) => {
    const buf = Buffer.from(body);
    res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'cache-control': 'no-store', 'content-length': String(buf.length), ...extra });
    res.end(req.method === 'HEAD' ? undefined : buf);
  };
  const text = 'text/plain; charset=utf-8';

  return (req, res) => {
    const pathname = (req.url ?? '/').split(/[?#]/, 1)[0]!;
    if (!SERVICE_PATHS.has(pathname)) return next(req, res);
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(req, res, 405, text, 'method not allowed\n', { allow: 'GET, HEAD' });
    if (pathname === '/healthz') return send(req, res, 200, text, 'ok\n');
    if (pathname === '/readyz') {
      const r = s.ready();
      return send(req, res, r.ok ? 200 : 503, text, `${r.ok ? 'ready' : 'not ready'}: ${r.reason}\n`);
    }
    if (!s.metrics) return send(req, res, 404, text, 'metrics are not enabled on this server\n');
    if (s.metricsToken && !bearerMatches(req.headers.authorization, s.metricsToken)) {
      return send(req, res, 401, text, 'metrics need the bearer token\n', { 'www-authenticate': 'Bearer' });
    }
    s.metrics.text().then(
      ({ contentType, body }) => send(req, res, 200, contentType, body),
      (err: unknown) => {
        s.log?.error({ err: (err as Error).message }, 'metrics could not be collected');
        if (!res.headersSent) send(req, res, 500, text, 'metrics could not be collected\n');
      },
    );
  };
}

/** What the host's endpoints read: the supervisor's service view and the room server's clients. */
export interface HostServiceSources {
  service(): {
    ready(): { ok: boolean; reason: string };
    connections(): ReturnType<Parameters<typeof hostProbe>[0]['connections']>;
    inboxDepth(): Promise<number> | number;
    cluster?: ClusterProbe | undefined;
  };
  events$: Observable<RoomEvent>;
}

/** The web room behind /healthz, /readyz and /metrics of a host running its own agent (`join`). */
export function hostEndpoints(
  sb: HostServiceSources,
  roomClients: () => number,
  o: { log?: Logger; env?: NodeJS.ProcessEnv } = {},
): { handler: StaticHandler; metrics: SwitchboardMetrics } {
  // Called once the host started: whether it runs as a cluster node is known.
  const cluster = sb.service().cluster;
  const metrics = new SwitchboardMetrics(
    hostProbe({ connections: () => sb.service().connections(), roomClients, inboxDepth: () => sb.service().inboxDepth(), ...(cluster ? { cluster } : {}) }),
  ).observe(sb.events$);
  const token = (o.env ?? process.env).SWITCHBOARD_METRICS_TOKEN;
  const handler = withServiceEndpoints(createStaticHandler(o.log ? { log: o.log } : {}), {
    ready: () => sb.service().ready(),
    metrics,
    ...(token ? { metricsToken: token } : {}),
    ...(o.log ? { log: o.log } : {}),
  });
  return { handler, metrics };
}
