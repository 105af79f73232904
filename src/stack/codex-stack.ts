// The one composition root of a Codex stack: connection(s) + approval router + one session
// manager per agent, from settings plus injected transport, sink, binding store, owner rule,
// clock and inspector. The harness, the simulator and record mode all build it here, so who
// may decide and how the connection retries are the same code everywhere. With several
// app-servers (a pool, remote servers, agents with processes of their own) each group of
// members is served to its agents' sessions through a ConnectionPool (src/pool/).
import type { InspectionEvent } from 'xstate';
import type { Logger } from 'pino';
import { Connection, type ConnectionOptions } from '../connection/connection.js';
import type { TransportChoice } from '../connection/transport-config.js';
import { ConnectionPool } from '../pool/pool.js';
import { ApprovalRouter } from '../approvals/router.js';
import type { ApprovalSessionContext } from '../approvals/router-types.js';
import type { ApprovalAudit } from '../approvals/types.js';
import type { BindingStore } from '../session/bindings.js';
import { SessionManager, type SessionManagerOptions } from '../session/manager.js';
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

/** What an agent's sessions talk to: its group's pool, or its one connection. */
export type AppServerClient = Connection | ConnectionPool;

export interface StackDeps {
  /** The transport of the connection, or of each app-server by connection id (several app-servers). */
  transport: TransportChoice | ((connectionId: string) => TransportChoice);
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
  /** Told each input Codex took, a turn's or a steer's (the `llm_input` hook). */
  onModelInput?: SessionManagerOptions['onModelInput'];
  /** Per-conversation options of each `turn/start` (`/effort`). */
  turnOptions?: SessionManagerOptions['turnOptions'];
  /** The model catalog of an agent's sessions (default: each manager's own `model/list` cache). */
  models?: (agent: AgentSpec) => SessionManagerOptions['models'];
  /** Test/trace seams: machines replacing the router's and the managers' own. */
  machines?: { approval?: ConstructorParameters<typeof ApprovalRouter>[0]['machine']; session?: ConstructorParameters<typeof SessionManager>[0]['machine'] };
}

export interface CodexStack {
  readonly settings: StackSettings;
  /** The (first) app-server connection: the only one unless `settings.appServers` names several. */
  readonly connection: Connection;
  readonly router: ApprovalRouter;
  /** Every app-server connection, with the group it serves. */
  connections(): Array<{ group: string; connection: Connection }>;
  /** Each group's client (a pool, or its one connection), by group id. */
  clients(): ReadonlyMap<string, AppServerClient>;
  /** The client an agent's sessions use. */
  clientOf(agentId: string): AppServerClient;
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
  const transportOf = (id: string): TransportChoice => (typeof deps.transport === 'function' ? deps.transport(id) : deps.transport);
  const newConnection = (id: string) =>
    new Connection({
      id,
      transport: transportOf(id),
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
  const groups = settings.appServers?.groups ?? [{ id: 'codex', memberIds: [c.id], pool: undefined }];
  const members: Array<{ group: string; connection: Connection }> = [];
  const clients = new Map<string, AppServerClient>();
  for (const g of groups) {
    const conns = g.memberIds.map((id) => newConnection(id));
    for (const connection of conns) members.push({ group: g.id, connection });
    clients.set(
      g.id,
      g.pool
        ? new ConnectionPool({ id: g.id, members: conns, limits: g.pool, log: deps.log, ...(deps.clock ? { clock: deps.clock } : {}), ...(deps.inspect ? { inspect: deps.inspect } : {}) })
        : conns[0]!,
    );
  }
  const connection = members[0]!.connection;
  const clientOf = (agentId: string): AppServerClient => clients.get(settings.appServers?.groupOf(agentId) ?? groups[0]!.id) ?? clients.values().next().value!;
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
    ...(a.policy ? { policy: a.policy } : {}),
    ...(a.timeouts ? { timeouts: a.timeouts } : {}),
    ...(deps.onAudit ? { onAudit: deps.onAudit } : {}),
    ...(deps.machines?.approval ? { machine: deps.machines.approval } : deps.inspect ? { inspect: deps.inspect } : {}),
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.ids ? { ids: deps.ids } : {}),
    resolveContext,
  });
  // Server requests come from whichever app-server runs the turn: the router answers them all.
  for (const m of members) router.attach(m.connection);

  const manager = (agent: AgentSpec): SessionManager => {
    const known = managers.get(agent.id);
    if (known) return known;
    const m = new SessionManager({
      id: settings.sessions.managerId(agent.id),
      connection: clientOf(agent.id),
      sink: deps.sink,
      store: deps.bindings(agent),
      approvals: router,
      tools: () => router.tools.specs(),
      ...(deps.models ? { models: deps.models(agent) } : {}),
      ...(deps.onModelInput ? { onModelInput: deps.onModelInput } : {}),
      ...(deps.turnOptions ? { turnOptions: deps.turnOptions } : {}),
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
    connections: () => members,
    clients: () => clients,
    clientOf,
    manager,
    managers: () => managers,
    resolveContext,
    keyOf: (msg) => conversationKey(msg, settings.sessions.perParticipant),
    post: (agent, msg) => manager(agent).post({ ...msg, attachments: msg.attachments as Attachment[] | undefined }),
    async stop({ interrupt, reason }) {
      await Promise.all([...managers.values()].map((m) => m.stop({ interrupt })));
      router.dispose(reason);
      await Promise.all([...clients.values()].map((client) => client.stop()));
    },
  };
}

export { conversationKey };
