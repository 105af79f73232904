// `switchboard room serve`: a standalone room server; agents join it with `switchboard join --url`
// and an agent credential. Signed credentials by default (secret from the environment or the
// state directory); `--shared-token ROOM=TOKEN` keeps the old loopback-demo mode.
import { listenProblem } from './options.js';
import { createLogger } from '../log/logger.js';
import { RoomServer } from '../room/server.js';
import { RelayBackend } from '../room/relay.js';
import { createRoomAuth } from '../auth/token.js';
import { loadRoomSecret, SecretError } from '../auth/secret.js';
import { isRoomName, ROOM_NAME_RULE } from '../auth/names.js';
import { resolveStateDir } from '../config/state-dir.js';
import type { Output } from './output.js';
import { untilSignal } from './run-until-signal.js';
import { SwitchboardMetrics } from '../metrics/metrics.js';
import { createStaticHandler } from '../web/static.js';
import { withServiceEndpoints } from '../web/service.js';

export interface ServeOptions {
  port?: number;
  host?: string;
  /** ROOM=TOKEN pairs: shared-token mode (loopback demos only). */
  sharedToken?: string[];
  stateDir?: string;
  allowOrigin?: string[];
  until?: Promise<unknown>;
  onReady?: (info: { url: string }) => void;
}

export async function serve(o: ServeOptions, out: Output): Promise<number> {
  const tokens: Record<string, string> = {};
  for (const t of o.sharedToken ?? []) {
    const eq = t.indexOf('=');
    const room = t.slice(0, Math.max(0, eq));
    if (eq <= 0 || eq === t.length - 1 || !isRoomName(room)) {
      out.error(`--shared-token takes ROOM=TOKEN (room: ${ROOM_NAME_RULE}), got "${t.replace(/=.*/, '=…').slice(0, 80)}"`);
      return 2;
    }
    tokens[room] = t.slice(eq + 1);
  }
  const shared = Object.keys(tokens).length > 0;
  let auth;
  if (!shared) {
    try {
      auth = createRoomAuth({ secret: loadRoomSecret({ stateDir: resolveStateDir({ flag: o.stateDir }) }).secret });
    } catch (err) {
      if (!(err instanceof SecretError)) throw err;
      out.error(err.message);
      return 2;
    }
  }
  const log = createLogger({ level: process.env.SWITCHBOARD_LOG_LEVEL ?? 'info' });
  const backend = new RelayBackend();
  // Ready when listening; its metrics are the room's (turns and approvals counted from the relayed events; the app-servers are the agents').
  let server: RoomServer | undefined;
  const metrics = new SwitchboardMetrics({ members: async () => [], roomClients: () => server?.stats().connections ?? 0, inboxDepth: () => 0 }).observe(backend.events$);
  const token = process.env.SWITCHBOARD_METRICS_TOKEN;
  server = new RoomServer({
    backend,
    web: withServiceEndpoints(createStaticHandler({ log }), { ready: () => ({ ok: true, reason: 'room server listening' }), metrics, ...(token ? { metricsToken: token } : {}), log }),
    host: o.host,
    port: o.port,
    ...(shared ? { mode: 'shared' as const, tokens } : { mode: 'signed' as const, auth }),
    ...(o.allowOrigin?.length ? { allowedOrigins: o.allowOrigin } : {}),
    log,
  });
  try {
    let url: string;
    try {
      url = await server.start();
    } catch (err) {
      out.error(listenProblem(err, o.host, o.port));
      return 2;
    }
    out.line(`room server listening at ${url} (${shared ? 'shared-token mode, loopback demos only' : 'signed credentials: switchboard token'}); stop with Ctrl-C`);
    // The same page as the embedded room, without the inspector (the agent runs elsewhere).
    if (!shared) out.line(`web room: ${server.httpUrl}/ (a participant's link: switchboard token --room R --id ID --role ROLE --link ${server.httpUrl})`);
    o.onReady?.({ url });
    await (o.until ?? untilSignal());
    return 0;
  } catch (err) {
    out.error(`room server failed: ${(err as Error).message}`);
    return 1;
  } finally {
    await server.stop();
    metrics.dispose();
  }
}
