// Which transport a connection opens: stdio (spawn `codex app-server`), WebSocket, or a
// factory the caller supplies (tests, the simulator).
import type { Logger } from 'pino';
import type { TransportFactory } from '../transport/types.js';
import { stdioTransport } from '../transport/stdio.js';
import { websocketTransport } from '../transport/websocket.js';
import { DEFAULT_APP_SERVER_ARGS, resolveCodexCommand } from './codex-command.js';

export type TransportConfig =
  | {
      kind: 'stdio';
      command?: string;
      args?: string[];
      env?: Record<string, string | undefined>;
      cwd?: string;
      closeGraceMs?: number;
      killGraceMs?: number;
    }
  | { kind: 'websocket'; url: string; authToken?: string; headers?: Record<string, string>; heartbeatMs?: number };

export type TransportChoice = TransportConfig | { kind: 'custom'; open: TransportFactory; description?: string };

/** The factory for a transport choice, and how status() describes it. */
export function transportFactory(
  t: TransportChoice,
  log: Logger,
  onOversizeLine: (bytes: number) => void,
): { open: TransportFactory; description: string } {
  if (t.kind === 'custom') return { open: t.open, description: t.description ?? 'custom' };
  if (t.kind === 'websocket') {
    return {
      open: websocketTransport({ url: t.url, authToken: t.authToken, headers: t.headers, heartbeatMs: t.heartbeatMs, log }),
      description: t.url,
    };
  }
  const command = resolveCodexCommand(t.command);
  const args = t.args ?? DEFAULT_APP_SERVER_ARGS;
  return {
    open: stdioTransport({ command, args, env: t.env, cwd: t.cwd, closeGraceMs: t.closeGraceMs, killGraceMs: t.killGraceMs, log, onOversizeLine }),
    description: `${command} ${args.join(' ')}`,
  };
}
