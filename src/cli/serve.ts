// `switchboard room serve`: a standalone room server; agents join it with `switchboard join --url`.
import { createLogger } from '../log/logger.js';
import { RoomServer } from '../room/server.js';
import { RelayBackend } from '../room/relay.js';
import type { Output } from './output.js';
import { untilSignal } from './run-until-signal.js';

export interface ServeOptions {
  port?: number;
  host?: string;
  token?: string[];
  until?: Promise<unknown>;
  onReady?: (info: { url: string }) => void;
}

export async function serve(o: ServeOptions, out: Output): Promise<number> {
  const tokens: Record<string, string> = {};
  for (const t of o.token ?? []) {
    const eq = t.indexOf('=');
    if (eq <= 0) {
      out.error(`--token takes ROOM=TOKEN, got "${t.replace(/=.*/, '=…')}"`);
      return 2;
    }
    tokens[t.slice(0, eq)] = t.slice(eq + 1);
  }
  const log = createLogger({ level: process.env.SWITCHBOARD_LOG_LEVEL ?? 'info' });
  const server = new RoomServer({ backend: new RelayBackend(), host: o.host, port: o.port, tokens, log });
  try {
    const url = await server.start();
    out.line(`room server listening at ${url}; stop with Ctrl-C`);
    o.onReady?.({ url });
    await (o.until ?? untilSignal());
    return 0;
  } catch (err) {
    out.error(`room server failed: ${(err as Error).message}`);
    return 1;
  } finally {
    await server.stop();
  }
}
