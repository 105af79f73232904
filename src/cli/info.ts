// `switchboard status` and `switchboard models`: start what the configuration describes,
// report, stop.
import { loadConfig, ConfigError } from '../config/load.js';
import { createLogger } from '../log/logger.js';
import { redactText, redactValue } from '../log/redact.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { resolveStateDir } from '../config/state-dir.js';
import { describeUrl } from '../storage/postgres/store.js';
import { prepareStateDir } from '../config/state-paths.js';
import type { Output } from './output.js';
import { isCodexModelRef, modelListOf } from '../session/model-refs.js';

interface InfoOptions {
  config?: string;
  stateDir?: string;
  json?: boolean;
}

async function withSupervisor(o: InfoOptions, out: Output, fn: (sb: Supervisor) => Promise<void>, needsCodex: (sb: Supervisor) => boolean = () => true): Promise<number> {
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
  const start = needsCodex(sb);
  const spin = start ? out.progress('starting codex app-server') : { done: () => {} };
  try {
    if (start) await sb.start();
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
    const where = cfg.storage.kind === 'postgres' ? describeUrl(cfg.storage.url ?? '') : `${cfg.storage.kind === 'dataset' ? '' : 'owners in '}${paths.storageFile}`;
    out.line(`  storage ${cfg.storage.kind} (${where})`);
    out.line(`  bindings ${paths.bindingsDir}`);
    for (const w of sb.warnings) out.line(`  warning: ${redactText(w)}`);
  });
}

/** The default agent's catalog, as `/models` has it: its configured list, else `model/list`, else the fallback list. */
export function models(o: InfoOptions, out: Output): Promise<number> {
  return withSupervisor(
    o,
    out,
    async (sb) => {
      const list = await sb.models();
      if (o.json) return void out.line(JSON.stringify(list, null, 2));
      const width = Math.max(24, ...list.models.map((m) => m.model.length + 2));
      for (const m of list.models) {
        const extra = [m.displayName ?? '', m.alias ? `alias ${m.alias}` : '', m.isDefault ? '[default]' : ''].filter(Boolean).join('  ');
        out.line(`${m.model.padEnd(width)}${extra}`.trimEnd());
      }
      const from = list.source === 'static' ? 'the configured list' : list.source === 'fallback' ? `the fallback list (${list.note ?? 'model discovery failed'})` : "Codex's model/list";
      out.line(`(${list.models.length} models from ${from})`);
    },
    // Nothing to ask Codex: a configured list, or discovery off (the fallback list).
    (sb) => sb.config.appServer.discovery.enabled && !hasCodexList(sb),
  );
}

function hasCodexList(sb: Supervisor): boolean {
  const refs = sb.config.agents.list.find((a) => a.default)?.models ?? sb.config.agents.defaults.models;
  return (modelListOf(refs)?.refs ?? []).some(isCodexModelRef);
}
