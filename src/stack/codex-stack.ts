// The one composition root of a Codex stack: connection + approval router + one session
// manager per agent, from settings plus injected transport, sink, binding store, owner rule,
// clock and inspector. The harness, the simulator and record mode all build it here, so who
// may decide and how the connection retries are the same code everywhere.
import type { InspectionEvent } from 'xstate';
import type { Logger } from 'pino';
import { Connection, type ConnectionOptions } from '../connection/connection.js';
import { ApprovalRouter } from '../approvals/router.js';
import type { ApprovalSessionContext } from '../approvals/router-types.js';
import type { ApprovalAudit } from '../approvals/types.js';
import type { BindingStore } from '../session/bindings.js';
import { SessionManager } from '../session/manager.js';
import type { Attachment } from '../turn/translate.js';
import type { AgentSpec, HarnessMessage } from '../supervisor/harness.js';
import type { StackSettings } from './settings.js';
import { conversationKey, type RoomEventSink } from '../events/room-events.js';
import { systemClock, type ClockOption } from '../util/clock.js';

/** Who owns a conversation: production's rule is the persisted first poster (RoomAccess). */
export interface OwnerSource {
  ownerOf(session: string): string | undefined;
}

/**
 * Time, timers and jitter of the whole stack (see src/util/clock.ts): `now` at least; timers
 * and randomness left out are the system's.
 */
export type StackClock = ClockOption;

export { systemClock };

export interface StackDeps {
  transport: ConnectionOptions['transport'];
  sink: RoomEventSink;
  /** The binding store of an agent's conversations. */
  bindings: (agent: AgentSpec) => BindingStore;
  owners: OwnerSource;
  log: Logger;
  /**
   * Time, timers and randomness of the whole stack: the connection (its machine actor, request
   * deadlines, backstop, retry sleeps, jitter), the approval actors and the session actors
   * (turns included) and the idle sweep. Default: the system clock; the simulator injects
   * XState's SimulatedClock here.
   */
  clock?: StackClock;
  /** Message and approval ids (default `crypto.randomUUID`; the simulator's are seeded). */
  ids?: () => string;
  inspect?: (ev: InspectionEvent) => void;
  onAudit?: (a: ApprovalAudit) => void;
  /** The supervisor spawns the connection machine and hands it to `connection.adopt()`. */
  spawnedByParent?: boolean;
  /** Test/trace seams: machines replacing the router's and the managers' own. */
  machines?: { approval?: ConstructorParameters<typeof ApprovalRouter>[0]['machine']; session?: ConstructorParameters<typeof SessionManager>[0]['machine'] };
}

export interface CodexStack {
  readonly settings: StackSettings;
  readonly connection: Connection;
  readonly router: ApprovalRouter;
  /** The agent's session manager (created on first use). */
  manager(agent: AgentSpec): SessionManager;
  managers(): ReadonlyMap<string, SessionManager>;
  /** The conversation of a thread with who may decide its approvals (persisted owner + the agent's approvers). */
  resolveContext(threadId: string): ApprovalSessionContext | undefined;
  /** The conversation key of a message (per participant when so configured). */
  keyOf(msg: { room: string; channel: string; thread: string; from: { id: string } }): string;
  post(agent: AgentSpec, msg: HarnessMessage): void;
  /** Turns first (interrupted or not, bounded), then pending approvals fail closed, then the server. */
  stop(opts: { interrupt: boolean; reason: string }): Promise<void>;
}

export function buildCodexStack(settings: StackSettings, deps: StackDeps): CodexStack {
  const c = settings.connection;
  const connection = new Connection({
    id: c.id,
    transport: deps.transport,
    log: deps.log,
    machine: c.machine,
    ...(c.clientInfo ? { clientInfo: c.clientInfo } : {}),
    ...(c.requestTimeoutMs !== undefined ? { requestTimeoutMs: c.requestTimeoutMs } : {}),
    ...(c.methodTimeoutsMs ? { methodTimeoutsMs: c.methodTimeoutsMs } : {}),
    ...(c.overloadRetry ? { overloadRetry: c.overloadRetry } : {}),
    ...(c.serverRequestBackstopMs !== undefined ? { serverRequestBackstopMs: c.serverRequestBackstopMs } : {}),
    ...(c.experimentalApi !== undefined ? { experimentalApi: c.experimentalApi } : {}),
    ...(deps.spawnedByParent ? { spawnedByParent: true } : {}),
    ...(deps.clock ? { clock: deps.clock } : {}),
  });
  const managers = new Map<string, SessionManager>();
  const agents = new Map<string, AgentSpec>();

  const resolveContext = (threadId: string): ApprovalSessionContext | undefined => {
    for (const [agentId, m] of managers) {
      const ctx = m.threadContext(threadId);
      if (!ctx) continue;
      // The persisted owner, never "whoever posted first in this process".
      return { session: ctx.session, owner: deps.owners.ownerOf(ctx.session), approvers: agents.get(agentId)?.approvers ?? [] };
    }
    return undefined;
  };

  const a = settings.approvals;
  const router = new ApprovalRouter({
    id: a.id,
    sink: deps.sink,
    log: deps.log,
    ...(a.reviewer !== undefined ? { reviewer: a.reviewer } : {}),
    ...(a.escalateTo !== undefined ? { escalateTo: a.escalateTo } : {}),
    ...(a.guardian ? { guardian: a.guardian } : {}),
    ...(a.timeouts ? { timeouts: a.timeouts } : {}),
    ...(deps.onAudit ? { onAudit: deps.onAudit } : {}),
    ...(deps.machines?.approval ? { machine: deps.machines.approval } : deps.inspect ? { inspect: deps.inspect } : {}),
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.ids ? { ids: deps.ids } : {}),
    resolveContext,
  });
  router.attach(connection);

  const manager = (agent: AgentSpec): SessionManager => {
    const known = managers.get(agent.id);
    if (known) return known;
    const m = new SessionManager({
      id: settings.sessions.managerId(agent.id),
      connection,
      sink: deps.sink,
      store: deps.bindings(agent),
      approvals: router,
      tools: () => router.tools.specs(),
      log: deps.log,
      perParticipant: settings.sessions.perParticipant,
      settings: settings.sessions.settings(agent),
      ...(deps.clock ? { clock: deps.clock } : {}),
      ...(deps.ids ? { ids: deps.ids } : {}),
      ...(deps.machines?.session ? { machine: deps.machines.session } : deps.inspect ? { inspect: deps.inspect } : {}),
    });
    managers.set(agent.id, m);
    agents.set(agent.id, agent);
    return m;
  };

  return {
    settings,
    connection,
    router,
    manager,
    managers: () => managers,
    resolveContext,
    keyOf: (msg) => conversationKey(msg, settings.sessions.perParticipant),
    post: (agent, msg) => manager(agent).post({ ...msg, attachments: msg.attachments as Attachment[] | undefined }),
    async stop({ interrupt, reason }) {
      await Promise.all([...managers.values()].map((m) => m.stop({ interrupt })));
      router.dispose(reason);
      await connection.stop();
    },
  };
}

export { conversationKey };
