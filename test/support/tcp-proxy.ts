// A loopback TCP proxy in front of the room server, so a test can cut every connection a
// browser holds (HTTP and WebSocket alike) and keep refusing new ones for a while: a
// network drop the page must survive.
import { createServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface CutProxy {
  port: number;
  /** http://127.0.0.1:PORT — the origin a page opened through the proxy has. */
  origin: string;
  /** Where connections go; set once the target listens. */
  target(port: number): void;
  /** Connections currently open (client side). */
  open(): number;
  /** Destroys every open connection; new ones are dropped at once for `holdMs`. */
  cut(holdMs?: number): void;
  close(): Promise<void>;
}

export async function startCutProxy(): Promise<CutProxy> {
  let targetPort = 0;
  let refuseUntil = 0;
  const pairs = new Set<Socket>();
  const server = createServer((client) => {
    if (!targetPort || Date.now() < refuseUntil) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    pairs.add(client);
    pairs.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(client);
      pairs.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    target: (p) => {
      targetPort = p;
    },
    open: () => pairs.size / 2,
    cut(holdMs = 0) {
      refuseUntil = Date.now() + holdMs;
      for (const s of pairs) s.destroy();
      pairs.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of pairs) s.destroy();
        server.close(() => resolve());
      }),
  };
}
