// WebSocket transport to an already running `codex app-server --listen ws://...`.
import WebSocket from 'ws';
import type { Logger } from 'pino';
import { MAX_FRAME_BYTES } from '../protocol/wire.js';
import { TransportError, type Transport, type TransportExit, type TransportFactory, type TransportHandlers } from './types.js';

export interface WebSocketOptions {
  url: string;
  authToken?: string;
  headers?: Record<string, string>;
  /** Ping period; a missing pong by the next ping means the socket is half-open. */
  heartbeatMs?: number;
  openTimeoutMs?: number;
  log?: Logger;
}

export function websocketTransport(opts: WebSocketOptions): TransportFactory {
  return (handlers) => openWebSocket(opts, handlers);
}

function openWebSocket(opts: WebSocketOptions, handlers: TransportHandlers): Promise<Transport> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.authToken) headers.Authorization = `Bearer ${opts.authToken}`;
  const heartbeatMs = opts.heartbeatMs ?? 15_000;

  return new Promise<Transport>((resolve, reject) => {
    const ws = new WebSocket(opts.url, {
      headers,
      handshakeTimeout: opts.openTimeoutMs ?? 10_000,
      maxPayload: MAX_FRAME_BYTES,
      perMessageDeflate: false,
    });
    let opened = false;
    let closing = false;
    let finished = false;
    let heartbeat: NodeJS.Timeout | undefined;
    let alive = true;
    let failure: TransportExit | undefined;
    let resolveClosed!: () => void;
    const closed = new Promise<void>((r) => (resolveClosed = r));

    const finish = (exit: TransportExit): void => {
      if (finished) return;
      finished = true;
      if (heartbeat) clearInterval(heartbeat);
      resolveClosed();
      if (!opened) reject(new TransportError(exit));
      else handlers.onClose(exit);
    };

    ws.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      const auth = status === 401 || status === 403;
      failure = {
        kind: auth ? 'auth' : 'error',
        retryable: !auth,
        reason: auth
          ? `WebSocket app-server refused authentication (HTTP ${status}): check the auth token`
          : `WebSocket upgrade refused with HTTP ${status}`,
      };
      res.resume();
      ws.terminate();
      finish(failure);
    });
    ws.on('error', (err) => {
      failure ??= { kind: 'error', retryable: true, reason: `WebSocket error: ${err.message}` };
      opts.log?.debug({ err: err.message }, 'websocket error');
    });
    ws.on('open', () => {
      opened = true;
      heartbeat = setInterval(() => {
        if (!alive) {
          failure = { kind: 'heartbeat', retryable: true, reason: `no pong within ${heartbeatMs} ms: connection is half-open` };
          ws.terminate();
          return;
        }
        alive = false;
        try {
          ws.ping();
        } catch {
          /* closing */
        }
      }, heartbeatMs);
      heartbeat.unref();
      resolve(transport);
    });
    ws.on('pong', () => (alive = true));
    ws.on('message', (data, isBinary) => {
      alive = true;
      if (finished) return;
      handlers.onLine(isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString());
    });
    ws.on('close', (code, reasonBuf) => {
      const reason = reasonBuf.toString();
      finish(
        closing
          ? { kind: 'closed', retryable: false, intentional: true, reason: 'closed by Switchboard', code }
          : failure ?? {
              kind: 'closed',
              retryable: true,
              code,
              reason: `WebSocket closed (${code}${reason ? `: ${reason}` : ''})`,
            },
      );
    });

    const transport: Transport = {
      pid: undefined,
      description: opts.url,
      send(text) {
        if (finished || closing || ws.readyState !== WebSocket.OPEN) return;
        ws.send(text, (err) => err && opts.log?.debug({ err: err.message }, 'websocket send failed'));
      },
      close(closeOpts) {
        if (finished) return Promise.resolve();
        closing = true;
        if (closeOpts?.force) {
          ws.terminate();
          return closed;
        }
        ws.close(1000, 'client closing');
        const t = setTimeout(() => ws.terminate(), 2000);
        t.unref();
        return closed;
      },
    };
  });
}
