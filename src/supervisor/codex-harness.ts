// The built-in `codex` harness: the Codex stack (its app-server connections, each spawned by
// the supervisor machine — one, or a pool, or one group per agent with a process of its own;
// one approval router on all of them; one session manager per agent), built by the
// composition root, seen through the Harness interface.
import path from 'node:path';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import type { Logger } from 'pino';
import type { ActorRefFrom } from 'xstate';
import type { Connection } from '../connection/connection.js';
import type { connectionMachine } from '../../machines/connection.machine.js';
import type { ApprovalRouter, DecideInput } from '../approvals/router.js';
import { FileBindingStore, type Binding, type BindingStore } from '../session/bindings.js';
import type { DynamicTool } from '../approvals/tools.js';
import type { ApprovalAudit } from '../approvals/types.js';
import type { SessionManager } from '../session/manager.js';
import type { SwitchboardConfig } from '../config/schema.js';
import type { RoomEvent, RoomEventSink } from '../events/room-events.js';
import { buildCodexStack, type AppServerClient, type CodexStack, type StackClock } from '../stack/codex-stack.js';
import { stackSettingsFromConfig } from '../stack/settings.js';
import { planAppServers } from '../stack/app-servers.js';
import { ConnectionPool } from '../pool/pool.js';
import type { AgentSpec, Harness, HarnessMessage } from './harness.js';
import { AccountGate } from './account-gate.js';
import { parseCommand } from '../session/types.js';
import { GuardianDenials } from './guardian-denials.js';
import { ModelCatalog } from './model-catalog.js';
import type { ModelInput, TurnOptions } from '../turn/runtime.js';
import { UsageLedger } from './usage-ledger.js';
import { CodexNotices } from './codex-notices.js';
import { tookLookup } from './message-replay.js';
import type { TookLookup } from './inbox.js';
import { backendOf } from '../session/model-refs.js';

export interface CodexHarnessOptions {
  config: SwitchboardConfig;
  sink: RoomEventSink;
  log: Logger;
  /** Where thread bindings live (one directory per agent), resolved against the state directory. */
  bindingsDir: string;
  /** Thread bindings of an agent kept elsewhere than JSON files under bindingsDir (postgres storage). */
  bindingStore?: (agentId: string) => BindingStore;
  onAudit?: (a: ApprovalAudit) => void;
  clientVersion: string;
  inspect?: (ev: InspectionEvent) => void;
  clock?: StackClock;
  /** The persisted owner of a conversation (the approval router asks, synchronously). */
  ownerOf?: (session: string) => string | undefined;
  /** Told each input Codex took, a turn's or a steer's (the `llm_input` hook). */
  onModelInput?: (e: ModelInput) => void;
  /** The conversation's options of each `turn/start` (`/effort`). */
  turnOptions?: (session: string) => TurnOptions;
  /** A conversation started or bound a Codex thread: remember its room (awaited before the binding is written). */
  onThreadBound?: (threadId: string, session: string) => Promise<void>;
}

export class CodexHarness implements Harness {
  readonly id = 'codex';
  readonly steers = true; // turn/steer
  readonly stack: CodexStack;
  readonly connection: Connection;
  readonly router: ApprovalRouter;
  private startError: string | undefined;
  private readonly account: AccountGate;
  /** What Codex's guardian denied, for `/guardian approve`. */
  readonly guardianDenials = new GuardianDenials();
  /** Token usage per turn and conversation, for turn ends and `/usage`. */
  readonly usage = new UsageLedger();
  /** Server-wide and thread notices (warnings, rate limits) into the rooms. */
  readonly notices: CodexNotices;

  constructor(private readonly o: CodexHarnessOptions) {
    const plan = planAppServers(o.config);
    this.stack = buildCodexStack(stackSettingsFromConfig(o.config, o.clientVersion, plan), {
      transport: (connectionId) => {
        const t = plan.transportOf(connectionId);
        return t.kind === 'stdio' ? { ...t, env: { ...process.env, ...t.env } } : t;
      },
      sink: (e) => {
        this.guardianDenials.observe(e);
        o.sink(this.usage.observe(e));
      },
      log: o.log,
      owners: { ownerOf: (session) => o.ownerOf?.(session) },
      bindings: (agent) =>
        new ThreadRecordingStore(o.bindingStore?.(agent.id) ?? new FileBindingStore(path.join(o.bindingsDir, agent.id)), o.onThreadBound, o.log),
      spawnedByParent: true,
      models: (agent) => this.catalogFor(agent),
      ...(o.onModelInput ? { onModelInput: o.onModelInput } : {}),
      ...(o.turnOptions ? { turnOptions: o.turnOptions } : {}),
      ...(o.inspect ? { inspect: o.inspect } : {}),
      ...(o.onAudit ? { onAudit: o.onAudit } : {}),
      ...(o.clock ? { clock: o.clock } : {}),
    });
    this.connection = this.stack.connection;
    this.router = this.stack.router;
    this.notices = new CodexNotices({
      sink: o.sink,
      log: o.log,
      sessionOfThread: (threadId) => this.sessionOfThread(threadId),
      liveSessions: (client) =>
        [...this.stack.managers().entries()]
          .filter(([agent]) => this.stack.clientOf(agent) === client)
          .flatMap(([, m]) => m.status().sessions.filter((s) => !s.hibernated).map((s) => s.session)),
      ...(o.clock ? { now: () => o.clock!.now() } : {}),
    });
    for (const client of this.stack.clients().values()) this.notices.attach(client);
    this.account = new AccountGate(() => this.connection.request('account/read', {}), o.log);
  }

  /** Why this harness's messages cannot run (no Codex login or API key), if so: a startup warning. */
  get accountWarning(): string | undefined {
    return this.account.warning;
  }

  /** Before a review or compaction (a turn like a message's): undefined when it may run, else why not. */
  admitAction(): Promise<string | undefined> {
    return this.account.admit();
  }

  /** The logic the supervisor spawns as the child `connectionId` (each app-server has its own). */
  connectionLogic(connectionId: string): Connection['logic'] {
    const found = this.stack.connections().find((m) => m.connection.id === connectionId);
    if (!found) throw new Error(`no app-server connection "${connectionId}"`);
    return found.connection.logic;
  }

  connections() {
    return this.stack.connections().map(({ connection }) => ({
      connectionId: connection.id,
      input: connection.connectionInput() as { connectionId: string; config?: Record<string, unknown> },
    }));
  }

  /** Every app-server this harness talks to (pool members included), for the metrics probe. */
  appServers(): Connection[] {
    return this.stack.connections().map(({ connection }) => connection);
  }

  /** What an agent's sessions and `/codex` commands talk to: its pool, or its one connection. */
  clientFor(agentId: string): AppServerClient {
    return this.stack.clientOf(agentId);
  }

  available(): { ok: true } | { ok: false; reason: string } {
    const clients = [...this.stack.clients().values()];
    // A start that failed (e.g. degraded at startup) counts until the connections heal by themselves.
    if (this.startError && !clients.every((c) => c.ready)) return { ok: false, reason: this.startError };
    for (const client of clients) {
      const s = client.status();
      if (s.state === 'failed') return { ok: false, reason: s.error ?? 'app-server connection failed' };
      if (s.state === 'stopped') return { ok: false, reason: 'app-server connection stopped' };
    }
    return { ok: true };
  }

  /** Codex serves OpenAI-family refs (`openai/*`, legacy `codex/*`) and bare names unless the llm backend is enabled. */
  supports(model: string | undefined): { ok: boolean; reason: string } {
    if (!model) return { ok: true, reason: 'Codex default model' };
    if (/^(openai|codex)\//.test(model)) return { ok: true, reason: `OpenAI-family model ref "${model}"` };
    const backend = backendOf(model, this.o.config.llm.enabled);
    if (backend === 'codex') return { ok: true, reason: `bare model name "${model}"` };
    return { ok: false, reason: backend === 'llm' ? `"${model}" is the llm backend's (write codex/${model} for Codex)` : `"${model}" belongs to another provider` };
  }

  /** The agent as Codex sees it: only its Codex refs (a mixed list's llm models are another backend's). */
  private codexView(agent: AgentSpec): AgentSpec {
    const enabled = this.o.config.llm.enabled;
    if (!enabled) return agent;
    const mine = (ref: string) => backendOf(ref, enabled) === 'codex';
    const models = agent.models?.filter(mine);
    return { ...agent, model: agent.model && mine(agent.model) ? agent.model : undefined, models: models?.length ? models : undefined };
  }

  async start(getChild: (id: string) => AnyActorRef | undefined, signal: AbortSignal): Promise<void> {
    for (const { connection } of this.stack.connections()) {
      const ref = getChild(connection.id);
      if (!ref) throw new Error(`supervisor did not spawn ${connection.id}`);
      connection.adopt(ref as ActorRefFrom<typeof connectionMachine>);
    }
    try {
      await Promise.all([...this.stack.clients().values()].map((client) => client.start(signal)));
    } catch (err) {
      this.startError = (err as Error).message;
      throw err;
    }
    await this.account.check();
  }

  async stop(): Promise<void> {
    await this.stack.stop({ interrupt: true, reason: 'Switchboard is stopping' });
  }

  private manager(agent: AgentSpec): SessionManager {
    return this.stack.manager(this.codexView(agent));
  }

  /** Messages run only with a Codex account (slash commands always do); otherwise the room is told why. */
  post(whole: AgentSpec, msg: HarnessMessage): Promise<void> | void {
    const agent = this.codexView(whole);
    const command = parseCommand(msg.text) !== undefined && !msg.attachments?.length;
    if (command || this.account.warning === undefined) return this.stack.post(agent, msg);
    return this.account.admit().then((problem) => {
      if (problem === undefined) return this.stack.post(agent, msg);
      const session = this.stack.keyOf(msg);
      const at = (this.o.clock?.now ?? Date.now)();
      this.o.sink({ type: 'notice', session, at, level: 'error', text: `The agent cannot answer: ${problem}.` });
      // The message is done with (the inbox drops it), like a turn that never started.
      this.o.sink({ type: 'turn.failed', session, at, turnId: undefined, threadId: undefined, error: 'not run: Codex has no login and no API key' });
    });
  }

  decide(d: DecideInput) {
    return this.router.decide(d);
  }

  registerTool(tool: DynamicTool): () => void {
    return this.router.registerTool(tool);
  }

  private readonly catalogs = new Map<string, ModelCatalog>();

  /** The agent's one model catalog: `/model`, `/models`, `/codex models`, the room's picker and `switchboard models` read it. */
  catalogFor(agent: AgentSpec): ModelCatalog {
    let c = this.catalogs.get(agent.id);
    if (!c) {
      const clock = this.o.clock?.now;
      c = new ModelCatalog({ conn: this.clientFor(agent.id), agent: this.codexView(agent), discovery: this.o.config.appServer.discovery, log: this.o.log, ...(clock ? { now: clock } : {}) });
      this.catalogs.set(agent.id, c);
    }
    return c;
  }

  /** The session's Codex thread, if bound. */
  threadOf(agent: AgentSpec, session: string): string | undefined {
    return this.manager(agent).sessionStatus(session)?.threadId;
  }

  /** After a restart: which inbox messages Codex already has on each conversation's thread. */
  messagesTaken(agent: AgentSpec): TookLookup {
    return tookLookup((session) => this.manager(agent).boundThread(session), () => this.clientFor(agent.id), this.o.log);
  }

  sessionManager(agent: AgentSpec): SessionManager {
    return this.manager(agent);
  }

  status(): Record<string, unknown> {
    const clients = this.stack.clients();
    return {
      connection: this.connection.status(),
      // Several app-servers: each group (a pool, or an agent's own process) with its members.
      ...(this.stack.settings.appServers ? { appServers: Object.fromEntries([...clients].map(([group, c]) => [group, c.status()])) } : {}),
      sessions: [...this.stack.managers().values()].flatMap((m) => m.status().sessions),
      pendingApprovals: this.router.pending(),
      startError: this.startError,
      accountWarning: this.account.warning,
    };
  }

  /** The Codex thread of a conversation, whichever agent's session it is. */
  threadOfSession(session: string): string | undefined {
    for (const m of this.stack.managers().values()) {
      const threadId = m.sessionStatus(session)?.threadId;
      if (threadId) return threadId;
    }
    return undefined;
  }

  /** The conversation a thread belongs to, if a live or hibernated session has it. */
  sessionOfThread(threadId: string): string | undefined {
    // Per notice of a thread: no status objects of every session (that was quadratic under load).
    for (const m of this.stack.managers().values()) {
      const found = m.threadContext(threadId)?.session;
      if (found) return found;
    }
    return undefined;
  }

  private readonly namedThreads = new Set<string>();

  /** `codex` storage: Codex keeps the thread; name it after the conversation so it can be found. */
  nameThread(session: string, threadId: string): void {
    if (this.namedThreads.has(threadId)) return;
    this.namedThreads.add(threadId);
    this.clientOfThread(threadId)
      .request('thread/name/set', { threadId, name: session })
      .catch((err: unknown) => this.o.log.warn({ err: (err as Error).message, threadId }, 'thread/name/set failed'));
  }

  /** `codex` storage: `/reset` archives the thread the conversation leaves behind. */
  async archiveThread(threadId: string): Promise<void> {
    await this.clientOfThread(threadId).request('thread/archive', { threadId }).catch((err: unknown) => this.o.log.warn({ err: (err as Error).message, threadId }, 'thread/archive failed'));
  }

  /** The client of the group whose app-server has the thread loaded (else the first group's). */
  private clientOfThread(threadId: string): AppServerClient {
    const clients = [...this.stack.clients().values()];
    return clients.find((c) => c instanceof ConnectionPool && c.memberOf(threadId) !== undefined) ?? clients[0]!;
  }

  /** Sessions of all agents (for /status and stop). */
  allSessions(): Array<{ agent: string; status: ReturnType<SessionManager['sessionStatus']> }> {
    return [...this.stack.managers().entries()].flatMap(([agent, m]) => m.status().sessions.map((s) => ({ agent, status: s })));
  }
}

export type { RoomEvent };

/** Bindings, plus the room of every thread a binding names (recorded before the binding). */
class ThreadRecordingStore implements BindingStore {
  constructor(
    private readonly inner: BindingStore,
    private readonly onBound: ((threadId: string, session: string) => Promise<void>) | undefined,
    private readonly log: Logger,
  ) {}
  load(key: string): Promise<Binding | undefined> {
    return this.inner.load(key);
  }
  async save(binding: Binding): Promise<void> {
    try {
      await this.onBound?.(binding.threadId, binding.key);
    } catch (err) {
      this.log.error({ err, threadId: binding.threadId }, 'recording the room of a thread failed');
    }
    await this.inner.save(binding);
  }
  remove(key: string): Promise<void> {
    return this.inner.remove(key);
  }
}
