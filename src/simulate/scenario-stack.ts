// A scenario's config as stack settings, and the participants and tools it names: the
// simulator and record mode build their Codex stack from these through the composition
// root (src/stack), exactly as the harness does from a Switchboard config.
import type { ToolCallResult } from '../approvals/tools.js';
import type { AgentSpec } from '../supervisor/harness.js';
import { connectionMachineSettings, type SessionSettingsInput, type StackSettings } from '../stack/settings.js';
import type { Scenario } from './scenario.js';
import { systemClock, type TimerClock } from '../util/clock.js';

const SIM_ID = 'sim';
const CONNECTION_ID = 'sim-connection';

type ScenarioConfig = Scenario['config'];

export type Participant = { id: string; name: string };
export const participant = (p: string | { id: string; name?: string | undefined }): Participant =>
  typeof p === 'string' ? { id: p, name: p } : { id: p.id, name: p.name ?? p.id };

/** The one agent of a scenario: the session settings, and the approvers besides the owner. */
export function scenarioAgent(c: ScenarioConfig, cwd = c.session.cwd): AgentSpec {
  return { id: 'default', model: c.session.model, models: c.session.models, cwd, developerInstructions: c.session.developerInstructions, approvers: c.approvals.approvers };
}

export function stackSettingsFromScenario(c: ScenarioConfig, ids: { connection?: string; approvals?: string; sessions?: string } = {}, cwd = c.session.cwd): StackSettings {
  const cc = c.connection;
  const a = c.approvals;
  const settings = Object.fromEntries(Object.entries({ ...c.session, cwd }).filter(([k, v]) => v !== undefined && k !== 'perParticipant')) as SessionSettingsInput;
  return {
    connection: {
      id: ids.connection ?? CONNECTION_ID,
      // Every retry/backoff field reaches the machine (record mode once dropped three).
      machine: connectionMachineSettings(cc),
      ...(cc.requestTimeoutMs !== undefined ? { requestTimeoutMs: cc.requestTimeoutMs } : {}),
      ...(cc.methodTimeoutsMs ? { methodTimeoutsMs: cc.methodTimeoutsMs } : {}),
      ...(cc.overloadRetry ? { overloadRetry: cc.overloadRetry } : {}),
      ...(cc.serverRequestBackstopMs !== undefined ? { serverRequestBackstopMs: cc.serverRequestBackstopMs } : {}),
      ...(cc.experimentalApi !== undefined ? { experimentalApi: cc.experimentalApi } : {}),
    },
    approvals: {
      id: ids.approvals ?? SIM_ID,
      reviewer: a.reviewer,
      ...(a.escalateTo !== undefined ? { escalateTo: a.escalateTo } : {}),
      ...(a.policy ?? a.guardian ? { policy: a.policy ?? a.guardian } : {}),
      ...(a.timeouts ? { timeouts: a.timeouts } : {}),
    },
    sessions: {
      perParticipant: c.session.perParticipant ?? false,
      managerId: () => ids.sessions ?? SIM_ID,
      settings: () => settings,
    },
  };
}

/** A scripted dynamic tool: answers, throws, takes virtual time or hangs as the scenario says. */
export function simulatedTool(t: ScenarioConfig['tools'][number], clock: Pick<TimerClock, 'setTimeout'> = systemClock) {
  return {
    name: t.name,
    ...(t.namespace ? { namespace: t.namespace } : {}),
    description: t.description,
    inputSchema: t.inputSchema,
    execute: (_args: unknown, ctx: { signal: AbortSignal }): Promise<ToolCallResult | string> =>
      new Promise<ToolCallResult | string>((resolve, reject) => {
        const finish = (): void => {
          if (t.throws) reject(new Error(t.throws));
          else resolve(t.result as ToolCallResult | string);
        };
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason ?? new Error('aborted')), { once: true });
        if (t.hang) return;
        if (t.delayMs) clock.setTimeout(finish, t.delayMs);
        else finish();
      }),
  };
}
