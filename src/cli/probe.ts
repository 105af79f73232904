// `switchboard probe`: start the real app-server, show the handshake and the model list.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Connection } from '../connection/connection.js';
import { createLogger } from '../log/logger.js';
import { redactText } from '../log/redact.js';
import type { Output } from './output.js';

export interface ProbeOptions {
  command?: string;
  /** Use this CODEX_HOME; default: a fresh temporary one (no login needed for model/list). */
  codexHome?: string;
  url?: string;
  token?: string;
}

export async function probe(opts: ProbeOptions, out: Output): Promise<number> {
  const tempHome = opts.codexHome || opts.url ? undefined : mkdtempSync(path.join(tmpdir(), 'switchboard-home-'));
  const conn = new Connection({
    transport: opts.url
      ? { kind: 'websocket', url: opts.url, authToken: opts.token }
      : { kind: 'stdio', command: opts.command, env: { ...process.env, CODEX_HOME: opts.codexHome ?? tempHome } },
    log: createLogger({ level: process.env.SWITCHBOARD_LOG_LEVEL ?? 'warn' }),
  });
  try {
    const t0 = performance.now();
    const spin = out.progress('starting codex app-server and handshaking');
    try {
      await conn.start();
    } finally {
      spin.done();
    }
    const s = conn.status();
    out.line(`${out.bold('Handshake')}  ${Math.round(performance.now() - t0)} ms`);
    out.line(`  transport      ${s.transport}`);
    out.line(`  server version ${s.serverVersion ?? 'unknown'}`);
    out.line(`  user agent     ${s.userAgent ?? ''}`);
    out.line(`  pid            ${s.pid ?? '-'}`);
    const models = await conn.request('model/list', {});
    out.line(`${out.bold('Models')} (${models.data.length})`);
    for (const m of models.data) out.line(`  ${m.id.padEnd(24)} ${m.displayName ?? ''}`);
    return 0;
  } catch (err) {
    out.error(`probe failed: ${redactText((err as Error).message)}`);
    return 1;
  } finally {
    await conn.stop();
    if (tempHome) rmSync(tempHome, { recursive: true, force: true });
  }
}
