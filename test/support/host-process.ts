// A host process (test/support/host.ts) on a sandbox's database and bindings, for crash tests:
// its stdout JSON lines are collected as they arrive.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsxLoader } from './cli-proc.js';
import type { Sandbox } from './sandbox.js';

const hostScript = fileURLToPath(new URL('./host.ts', import.meta.url));

/** `override`: config keys replacing the defaults below (e.g. postgres storage and a cluster node). */
export function spawnHost(b: Sandbox, override: Record<string, unknown> = {}): { child: ChildProcess; lines: Array<Record<string, unknown>> } {
  const config = {
    appServer: { env: b.env },
    agents: { defaults: { cwd: b.workspace } },
    sessions: { bindingsDir: path.join(b.root, 'bindings'), onMessageDuringTurn: 'queue' },
    storage: { kind: 'dataset', path: path.join(b.root, 'threads.db') },
    ...override,
  };
  const child = spawn(process.execPath, ['--import', tsxLoader, hostScript], {
    env: { ...process.env, ...b.env, SB_HOST_CONFIG: JSON.stringify(config), SB_HOST_BASE: b.root, SB_HOST_STATE: b.root },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: Array<Record<string, unknown>> = [];
  let buf = '';
  child.stdout!.on('data', (d) => {
    buf += String(d);
    const parts = buf.split('\n');
    buf = parts.pop()!;
    for (const p of parts) if (p.trim()) lines.push(JSON.parse(p));
  });
  return { child, lines };
}
