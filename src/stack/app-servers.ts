// Which app-servers a Codex stack runs, as plain data from the configuration: groups of
// members (one plain connection, a pool of spawned app-servers, or a list of remote ones),
// one group per distinct process setting — an agent with `appServer` overrides gets a group of
// its own unless another agent's settings are equal, so agents with different accounts or
// configs never share a process.
import { effectiveAppServer, type EffectiveAppServer } from '../config/app-server.js';
import type { SwitchboardConfig } from '../config/schema.js';
import type { TransportConfig } from '../connection/transport-config.js';
import { noLimits, type PoolLimits } from '../pool/policy.js';

/** The group of the top-level `appServer` (agents without overrides). */
export const DEFAULT_GROUP = 'codex';

export interface AppServerGroupPlan {
  /** `codex`, or `codex@<agent>` for the first agent with settings of its own. */
  id: string;
  /** Connection ids of its app-servers. */
  memberIds: string[];
  /** A pool over the members (limits); undefined: one plain connection. */
  pool: PoolLimits | undefined;
  /** The agents it serves (the default group also serves agents not listed). */
  agents: string[];
}

export interface AppServerPlan {
  groups: AppServerGroupPlan[];
  groupOf(agentId: string): string;
  /** The transport of one member (plain data; the caller adds the process environment). */
  transportOf(memberId: string): TransportConfig;
  /** False: one app-server for everyone, exactly as without any of this (no pool layer). */
  pooled: boolean;
}

const MB = 1024 * 1024;

function limitsOf(s: EffectiveAppServer): PoolLimits | undefined {
  if (s.servers) return { ...noLimits };
  if (!s.pool) return undefined;
  return {
    ...noLimits,
    maxLoadedThreads: s.pool.maxLoadedThreads,
    maxRssBytes: s.pool.maxRssMb !== undefined ? s.pool.maxRssMb * MB : undefined,
    recycleIdleAfterMs: s.pool.recycleIdleAfterMs,
    recyclable: true,
    sampleEveryMs: 2_000,
  };
}

function transportsOf(s: EffectiveAppServer): TransportConfig[] {
  if (s.servers) return s.servers.map((r) => ({ kind: 'websocket', url: r.url, authToken: r.authToken, headers: r.headers }));
  if (s.transport === 'websocket') return [{ kind: 'websocket', url: s.url!, authToken: s.authToken, headers: s.headers }];
  const one: TransportConfig = { kind: 'stdio', command: s.command, args: s.args, env: s.env };
  return Array.from({ length: s.pool?.size ?? 1 }, () => one);
}

/** Settings equal ⇔ the same process: the key of a group (never logged: it may hold a token). */
function processKey(s: EffectiveAppServer): string {
  const sorted = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
  return JSON.stringify([s.transport, s.command, s.args, s.url, s.authToken, sorted(s.headers), sorted(s.env), s.pool, s.servers]);
}

export function planAppServers(config: SwitchboardConfig): AppServerPlan {
  const top = config.appServer;
  const base = effectiveAppServer(top, undefined);
  const groups: Array<AppServerGroupPlan & { key: string; settings: EffectiveAppServer }> = [
    { id: DEFAULT_GROUP, key: processKey(base), settings: base, memberIds: [], pool: limitsOf(base), agents: [] },
  ];
  const groupOfAgent = new Map<string, string>();
  for (const agent of config.agents.list) {
    const settings = effectiveAppServer(base, agent.appServer);
    const key = processKey(settings);
    let g = groups.find((x) => x.key === key);
    if (!g) groups.push((g = { id: `${DEFAULT_GROUP}@${agent.id}`, key, settings, memberIds: [], pool: limitsOf(settings), agents: [] }));
    g.agents.push(agent.id);
    groupOfAgent.set(agent.id, g.id);
  }
  // The top-level app-server serves the unnamed default agent; spawn it only if someone uses it.
  const defaultAgent = config.agents.list.find((a) => a.default);
  if (defaultAgent && groups[0]!.agents.length === 0) groups.shift();
  const fallback = defaultAgent ? groupOfAgent.get(defaultAgent.id)! : DEFAULT_GROUP;
  const transports = new Map<string, TransportConfig>();
  for (const g of groups) {
    const list = transportsOf(g.settings);
    // Without a pool the one member keeps the historic id (logs, traces, metrics).
    g.memberIds = g.pool ? list.map((_, i) => `conn:${g.id}:${i}`) : [`conn:${g.id}`];
    g.memberIds.forEach((id, i) => transports.set(id, list[i]!));
  }
  const pooled = groups.length > 1 || groups[0]!.pool !== undefined || groups[0]!.id !== DEFAULT_GROUP;
  return {
    groups: groups.map(({ id, memberIds, pool, agents }) => ({ id, memberIds, pool, agents })),
    groupOf: (agentId) => groupOfAgent.get(agentId) ?? fallback,
    transportOf: (memberId) => {
      const t = transports.get(memberId);
      if (!t) throw new Error(`no app-server "${memberId}" in this configuration`);
      return t;
    },
    pooled,
  };
}
