// The app-server part of the configuration: how to reach Codex (one spawned app-server, a
// pool of them, or remote WebSocket ones) and the per-agent overrides that give an agent a
// process of its own (its own CODEX_HOME, command, environment).
import { z } from 'zod';
import { MAX_TIMER_MS } from '../turn/limits.js';

const wsUrl = z.url({ protocol: /^wss?$/, error: 'write a WebSocket URL such as "ws://127.0.0.1:39175"' });

/** Spawned app-servers of one harness: how many, and when one is drained and restarted. */
export const PoolSchema = z.strictObject({
  size: z.number().int().min(1).max(32).default(2),
  /** Loaded Codex threads (≈ 0.9 MB of RSS each) at which a member takes no new thread and is recycled. */
  maxLoadedThreads: z.number().int().positive().max(1_000_000).optional(),
  /** Resident memory (MB, from /proc) above which a member is drained and recycled. */
  maxRssMb: z.number().int().min(32).max(1_048_576).optional(),
  /** A member with loaded threads and no turn for this long is restarted (unloads them all). */
  recycleIdleAfterMs: z.number().int().positive().max(MAX_TIMER_MS).optional(),
});
export type PoolConfig = z.output<typeof PoolSchema>;

/** A remote app-server (`codex app-server --listen ws://…`). */
export const RemoteServerSchema = z.strictObject({
  url: wsUrl,
  authToken: z.string().min(1).optional(),
  /** A file holding the capability token (read at load; keeps the token out of the config file). */
  authTokenFile: z.string().min(1).optional(),
  headers: z.record(z.string(), z.string()).default({}),
});
export type RemoteServerConfig = z.output<typeof RemoteServerSchema>;

/** What decides which process serves an agent: agents whose effective values are equal share it. */
const processFields = {
  transport: z.enum(['stdio', 'websocket']).optional(),
  command: z.string().min(1).optional(),
  args: z.array(z.string()).optional(),
  url: wsUrl.optional(),
  authToken: z.string().min(1).optional(),
  authTokenFile: z.string().min(1).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  /** Extra environment for a spawned app-server (merged over `appServer.env`). */
  env: z.record(z.string(), z.string()).optional(),
  pool: PoolSchema.optional(),
  servers: z.array(RemoteServerSchema).min(1).max(32).optional(),
};

/** `agents.list[].appServer`: overrides of `appServer` for one agent's own process. */
export const AgentAppServerSchema = z.strictObject({
  ...processFields,
  /** The agent's own Codex home (config, login, threads): CODEX_HOME of its app-servers. */
  codexHome: z.string().min(1).optional(),
});
export type AgentAppServerConfig = z.output<typeof AgentAppServerSchema>;

/** The fields of `appServer` that say which processes serve it (checked by `checkProcessSettings`). */
export interface ProcessSettings {
  transport?: 'stdio' | 'websocket' | undefined;
  command?: string | undefined;
  url?: string | undefined;
  authToken?: string | undefined;
  authTokenFile?: string | undefined;
  env?: Record<string, string> | undefined;
  pool?: PoolConfig | undefined;
  servers?: RemoteServerConfig[] | undefined;
}

type Issue = { path: Array<string | number>; message: string };

/** Contradictions between process settings (after an agent's overrides are applied), as issues at `at`. */
export function checkProcessSettings(a: ProcessSettings, at: Array<string | number>): Issue[] {
  const out: Issue[] = [];
  const add = (field: string | Array<string | number>, message: string) => out.push({ path: [...at, ...(Array.isArray(field) ? field : [field])], message });
  if (a.authToken && a.authTokenFile) add('authTokenFile', 'authToken and authTokenFile are both set: keep one (prefer the file)');
  if (a.servers) {
    if (a.url) add('servers', 'url and servers are both set: list every remote app-server in servers');
    if (a.pool) add('servers', 'pool spawns app-servers and servers lists remote ones: keep one');
    a.servers.forEach((s, i) => {
      if (s.authToken && s.authTokenFile) add(['servers', i, 'authTokenFile'], 'authToken and authTokenFile are both set: keep one (prefer the file)');
    });
    return out;
  }
  if (a.transport === 'websocket' && !a.url) add('url', 'transport "websocket" needs a url, e.g. "ws://127.0.0.1:39175"');
  if (a.transport !== 'websocket' && a.url) add('transport', 'a url is set but transport is "stdio": write "websocket" to use the url');
  if (a.pool && a.transport === 'websocket') add('transport', 'a pool spawns its app-servers: list remote WebSocket app-servers in servers instead');
  return out;
}

/** The process settings an agent ends up with: `appServer`, then its own overrides. */
export interface EffectiveAppServer extends ProcessSettings {
  transport: 'stdio' | 'websocket';
  args?: string[] | undefined;
  headers: Record<string, string>;
  env: Record<string, string>;
}

/**
 * An agent's overrides over `appServer`. Naming a transport, url or servers replaces how the
 * top level reaches Codex (and its token); the environment is merged; `codexHome` becomes
 * CODEX_HOME.
 */
export function effectiveAppServer(top: EffectiveAppServer, own: AgentAppServerConfig | undefined): EffectiveAppServer {
  if (!own) return { ...top };
  const remote = own.servers !== undefined || own.url !== undefined || own.transport !== undefined;
  const env = { ...top.env, ...own.env, ...(own.codexHome ? { CODEX_HOME: own.codexHome } : {}) };
  return {
    transport: own.transport ?? (own.servers || own.url ? 'websocket' : top.transport),
    command: own.command ?? top.command,
    args: own.args ?? top.args,
    url: remote ? own.url : top.url,
    servers: remote ? own.servers : own.pool ? undefined : top.servers,
    pool: own.pool ?? (remote ? undefined : top.pool),
    authToken: remote ? own.authToken : (own.authToken ?? top.authToken),
    authTokenFile: remote ? own.authTokenFile : (own.authTokenFile ?? top.authTokenFile),
    headers: remote ? (own.headers ?? {}) : { ...top.headers, ...own.headers },
    env,
  };
}
