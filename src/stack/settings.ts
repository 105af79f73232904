// What a Codex stack is built from, as plain data: the one place where a Switchboard config
// becomes connection, approval and session settings. The harness and the simulator both go
// through `buildCodexStack` with a `StackSettings`, so retry/backoff and decision rules cannot
// drift between production and scenarios again.
import type { ConnectionOptions } from '../connection/connection.js';
import type { ApprovalRouterOptions } from '../approvals/router-types.js';
import { resolveApprovalSettings } from '../approvals/settings.js';
import type { SwitchboardConfig } from '../config/schema.js';
import type { SessionSettings } from '../session/types.js';
import type { ConnectionConfig } from '../../machines/connection.machine.js';
import type { AgentSpec } from '../supervisor/harness.js';
import { bareModelName, isCodexModelRef, resolveModelRef } from '../session/model-refs.js';
import type { AppServerGroupPlan, AppServerPlan } from './app-servers.js';

/** Connection settings: everything but the transport (an injected dependency). */
export interface StackConnectionSettings {
  id: string;
  clientInfo?: ConnectionOptions['clientInfo'];
  requestTimeoutMs?: number;
  methodTimeoutsMs?: ConnectionOptions['methodTimeoutsMs'];
  overloadRetry?: ConnectionOptions['overloadRetry'];
  serverRequestBackstopMs?: number;
  experimentalApi?: boolean;
  /** Version policy, handshake/stop bounds and the retry/backoff rule of the connection machine. */
  machine: Partial<ConnectionConfig>;
}

export type StackApprovalSettings = Pick<ApprovalRouterOptions, 'reviewer' | 'escalateTo' | 'policy' | 'timeouts'> & { id: string };

export type SessionSettingsInput = Partial<SessionSettings> & { cwd: string };

/** Several app-servers: groups of members, a pool over each group that has limits. */
export interface StackAppServers {
  groups: Array<Pick<AppServerGroupPlan, 'id' | 'memberIds' | 'pool'>>;
  /** The group whose app-servers serve an agent's sessions. */
  groupOf(agentId: string): string;
}

export interface StackSettings {
  /** The connection settings (with `appServers`: of every member, each under its own id). */
  connection: StackConnectionSettings;
  /** Absent: one app-server, the connection above. */
  appServers?: StackAppServers;
  approvals: StackApprovalSettings;
  sessions: {
    perParticipant: boolean;
    /** The session manager id of an agent (stable: traces compare it). */
    managerId: (agentId: string) => string;
    /** An agent's session settings. */
    settings: (agent: AgentSpec) => SessionSettingsInput;
  };
}

/** Every field of the connection machine's config: a settings source drops none of them. */
export const CONNECTION_MACHINE_FIELDS = [
  'minVersion',
  'versionPolicy',
  'handshakeTimeoutMs',
  'stopTimeoutMs',
  'backoffBaseMs',
  'backoffMaxMs',
  'jitter',
  'maxFailures',
  'failureWindowMs',
  'degradedBackoffBaseMs',
  'degradedBackoffMaxMs',
] as const satisfies ReadonlyArray<keyof ConnectionConfig>;

/** The connection machine fields of `source` that are set (undefined ones keep the machine's defaults). */
export function connectionMachineSettings(source: Partial<Record<keyof ConnectionConfig, unknown>>): Partial<ConnectionConfig> {
  const out: Record<string, unknown> = {};
  for (const k of CONNECTION_MACHINE_FIELDS) if (source[k] !== undefined) out[k] = source[k];
  return out as Partial<ConnectionConfig>;
}

/** The refs of a configured list that Codex serves, as bare names; none: undefined (discovery). */
function codexModels(refs: string[] | undefined): string[] | undefined {
  const names = refs?.filter(isCodexModelRef).map(bareModelName);
  return names?.length ? names : undefined;
}

/** Production: a validated Switchboard config as stack settings (with its app-server plan when it has several). */
export function stackSettingsFromConfig(config: SwitchboardConfig, clientVersion: string, plan?: AppServerPlan): StackSettings {
  const a = config.appServer;
  const approval = resolveApprovalSettings(a.mode, {
    approvalPolicy: a.approvalPolicy,
    sandbox: a.sandbox,
    approvalsReviewer: a.approvalsReviewer,
    reviewer: config.approvals.reviewer,
  });
  return {
    ...(plan?.pooled ? { appServers: { groups: plan.groups, groupOf: plan.groupOf } } : {}),
    connection: {
      id: 'conn:codex',
      clientInfo: { name: 'switchboard', title: 'Switchboard', version: clientVersion },
      requestTimeoutMs: a.requestTimeoutMs,
      experimentalApi: a.experimentalApi,
      machine: connectionMachineSettings({ minVersion: a.minVersion, versionPolicy: a.versionPolicy, degradedBackoffMaxMs: a.retryMaxDelayMs }),
    },
    approvals: {
      id: 'approvals:codex',
      reviewer: approval.reviewer,
      policy: config.approvals.policy,
      timeouts: config.approvals.timeouts ?? undefined,
    },
    sessions: {
      perParticipant: config.sessions.perParticipant,
      managerId: (agentId) => `sessions:codex:${agentId}`,
      settings: (agent) => ({
        cwd: agent.cwd,
        // A ref, a bare name, or one of the agent's aliases.
        model: agent.model ? resolveModelRef(agent.model, agent.modelAliases) : undefined,
        // Refs of other providers are another harness's; a list of none of Codex's means discovery.
        models: codexModels(agent.models),
        modelAliases: agent.modelAliases ?? {},
        approvalPolicy: approval.approvalPolicy,
        sandbox: approval.sandbox,
        approvalsReviewer: approval.approvalsReviewer,
        developerInstructions: agent.developerInstructions,
        busyMode: config.sessions.onMessageDuringTurn,
        watchdogMs: config.sessions.idleWatchdogSeconds * 1000,
        startTimeoutMs: config.turns.startTimeoutMs,
        // The agent's catalog bounds discovery itself (and knows when it is off): this is a backstop.
        modelDiscoveryMs: config.appServer.discovery.timeoutMs + 1_000,
      }),
    },
  };
}
