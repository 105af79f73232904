// `switchboard status` and `switchboard models`: start what the configuration describes,
// report, stop.
import { loadConfig, ConfigError } from '../config/load.js';
import { createLogger } from '../log/logger.js';
import { redactText, redactValue } from '../log/redact.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { resolveStateDir } from '../config/state-dir.js';
import { prepareStateDir } from '../config/state-paths.js';
import type { Output } from './output.js';

interface InfoOptions {
  config?: string;
  stateDir?: string;
  json?: boolean;
}

async function withSupervisor(o: InfoOptions, out: Output, fn: (sb: Supervisor) => Promise<void>): Promise<number> {
  let sb: Supervisor;
  try {
    const loaded = loadConfig({ file: o.config, env: process.env });
    const stateDir = resolveStateDir({ flag: o.stateDir, env: process.env });
    sb = new Supervisor(loaded, { log: createLogger({ level: process.env.SWITCHBOARD_LOG_LEVEL ?? 'warn' }), stateDir });
    prepareStateDir(sb.statePaths);
  } catch (err) {
    out.error(redactText(err instanceof ConfigError ? err.message : (err as Error).message));
    return 2;
  }
  const spin = out.progress('starting codex app-server');
  try {
    await sb.start();
    spin.done();
    await fn(sb);
    return 0;
  } catch (err) {
    spin.done();
    out.error(redactText((err as Error).message));
    return 1;
  } finally {
    await sb.stop();
  }
}

export function status(o: InfoOptions, out: Output): Promise<number> {
  return withSupervisor(o, out, async (sb) => {
    // Everything status shows is redacted: env values, args, tokens, headers, URL userinfo,
    // and any string quoting a configured secret (the connection's command line).
    const s = redactValue(sb.status()) as Record<string, unknown>;
    const paths = sb.statePaths;
    if (o.json) return void out.line(JSON.stringify({ ...s, statePaths: paths }, null, 2));
    const conn = sb.codex.connection.status();
    const cfg = sb.config;
    out.line(`${out.bold('Switchboard')} ${String(s.state)}`);
    out.line(`  codex app-server ${conn.state} ${conn.serverVersion ?? ''} (${redactText(conn.transport)})`);
    out.line(`  mode ${cfg.appServer.mode} · runtime ${cfg.agents.defaults.embeddedHarness.runtime} · fallback ${cfg.agents.defaults.embeddedHarness.fallback}`);
    out.line(`  state dir ${paths.stateDir}`);
    out.line(`  storage ${cfg.storage.kind} (${cfg.storage.kind === 'dataset' ? '' : 'owners in '}${paths.storageFile})`);
    out.line(`  bindings ${paths.bindingsDir}`);
    for (const w of sb.warnings) out.line(`  warning: ${redactText(w)}`);
  });
}

export function models(o: InfoOptions, out: Output): Promise<number> {
  return withSupervisor(o, out, async (sb) => {
    const all: Array<{ id: string; displayName?: string }> = [];
    let cursor: string | null | undefined;
    do {
      const page = await sb.codex.connection.request('model/list', cursor ? { cursor } : {});
      all.push(...page.data);
      cursor = page.nextCursor;
    } while (cursor);
    if (o.json) return void out.line(JSON.stringify(all, null, 2));
    for (const m of all) out.line(`${m.id.padEnd(24)} ${m.displayName ?? ''}`);
  });
}
