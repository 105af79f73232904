// Runs the real `codex app-server` on a loopback WebSocket with a capability token.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROCESS_TAG_VAR, processRegistry } from '../../src/process/registry.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface WsServer {
  url: string;
  token: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `at`: listen on this port (a server brought back where it was); default a free one. */
export async function startWsAppServer(codex: string, codexHome: string, token: string, at?: number): Promise<WsServer> {
  const port = at ?? (await freePort());
  const tokenFile = path.join(codexHome, 'ws-token');
  writeFileSync(tokenFile, token, { mode: 0o600 });
  const url = `ws://127.0.0.1:${port}`;
  // Tagged like a spawned stdio server: Codex starts helpers (its shell snapshot) in sessions
  // of their own, outside the group; stop() reaps them by the tag so nothing outlives it.
  const tag = randomUUID();
  const child = spawn(codex, ['app-server', '--listen', url, '--ws-auth', 'capability-token', '--ws-token-file', tokenFile], {
    env: { ...process.env, CODEX_HOME: codexHome, [PROCESS_TAG_VAR]: tag },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  processRegistry.add(child.pid!, 'ws app-server (test)', tag);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  // Wait until the port accepts connections.
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = new Socket();
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
      s.connect(port, '127.0.0.1');
    }).catch(() => false);
    if (ok) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`ws app-server did not listen: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    token,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        processRegistry.signal(child.pid!, 'SIGKILL');
        await exited;
      }
      processRegistry.reap(tag);
      processRegistry.remove(child.pid!);
    },
  };
}
