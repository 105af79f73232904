// The embedding API: one object a host creates, starts, feeds and watches.
import { Subject, type Observable } from 'rxjs';
import { toPromise, waitFor, type Actor, type InspectionEvent } from 'xstate';
import type { Logger } from 'pino';
import { supervisorMachine } from '../../machines/supervisor.machine.js';
import { ConfigError, loadConfig, redactedConfig, type LoadedConfig } from '../config/load.js';
import type { SwitchboardConfig, SwitchboardConfigInput } from '../config/schema.js';
import type { RoomEvent } from '../events/room-events.js';
import { Hooks } from '../hooks/hooks.js';
import { createLogger } from '../log/logger.js';
import { openConfiguredStore } from '../storage/open.js';
import { deferredBindings } from '../storage/postgres/bindings.js';
import { legacyStateNotice, prepareStateDir, resolveStatePaths, type StatePaths } from '../config/state-paths.js';
import type { HistoryRecord, InboxMessage, StoredRecord, ThreadStore } from '../storage/types.js';
import { parseCommand } from '../session/types.js';
import type { ApprovalAudit } from '../approvals/types.js';
import type { DynamicTool } from '../approvals/tools.js';
import { withResultHook } from './tools.js';
import { CodexHarness } from './codex-harness.js';
import { LlmHarness } from '../llm/harness.js';
import { BackendSwitch } from './backend-switch.js';
import type { Harness } from './harness.js';
import { postedEvent, recordOf } from './history.js';
import { AgentSessions, type ResolvedAgent, type SessionInfo } from './sessions.js';
import { processRegistry } from '../process/registry.js';
import { runSupervisorCommand, type CommandHost } from './commands.js';
import { registerHarnesses, startHarnesses, stopHarnesses } from './startup.js';
import { systemClock, type StackClock } from '../stack/codex-stack.js';
import type { SupervisorStatus } from './status.js';
import { summarize } from '../protocol/wire.js';
import { RoomAccess } from './access.js';
import { InboxTracker } from './inbox.js';
import { HistoryWriter, type HistoryQuery } from './history-writer.js';
import { checkAttachments, PostSchema, type DecideInput, type PostInput } from './post.js';
import { decideHereOrForward, routeDecision, type DecideResult } from './decide.js';
import { serviceView, type ServiceView } from './service-view.js';
import { createSupervisorActor } from './supervisor-actor.js';
import { ThreadPages } from './thread-pages.js';
import { fireEventHooks } from './event-hooks.js';
import type { ModelList } from '../room/protocol.js';
import { ConversationOptions } from './conversation-options.js';
import { refusedOverBudget, spendTurnTokens } from './turn-option-commands.js';
import { ClusterNode } from '../cluster/node.js';

export { PostSchema, type PostInput, type DecideInput, type SupervisorStatus };
export type DynamicToolSpec = DynamicTool;

const VERSION = '0.1.0';
let supervisorCount = 0;

export interface SupervisorOptions {
  log?: Logger;
  /** Extra harnesses (their ids are the `runtime` / `fallback` values). */
  harnesses?: Harness[];
  /** Read switchboard.config.json and SWITCHBOARD_* variables too (the CLI does). */
  env?: NodeJS.ProcessEnv;
  file?: string;
  /** The agent's default cwd; relative agent cwds and attachment roots resolve against it (default: cwd). */
  baseDir?: string;
  /** Where conversation state lives; relative storage.path / sessions.bindingsDir resolve against it (default: resolveStateDir()). */
  stateDir?: string;
  /** Use this store instead of the configured one. */
  store?: ThreadStore;
  /** XState inspection for every actor (e.g. `createTracer(file)`); off unless given. */
  inspect?: (ev: InspectionEvent) => void;
  /** Time for notices, the inbox and approvals (default: the system clock). */
  clock?: StackClock;
}

export class Supervisor {
  /** Stable across runs (traces compare), unique within the process. */
  readonly id = `supervisor-${++supervisorCount}`;
  readonly config: SwitchboardConfig;
  readonly warnings: string[];
  readonly hooks: Hooks;
  readonly log: Logger;
  readonly actor: Actor<typeof supervisorMachine>;
  private readonly subject = new Subject<RoomEvent>();
  readonly events$: Observable<RoomEvent> = this.subject.asObservable();
  private readonly auditSubject = new Subject<ApprovalAudit>();
  readonly audit$: Observable<ApprovalAudit> = this.auditSubject.asObservable();
  private readonly harnesses = new Map<string, Harness>();
  readonly codex: CodexHarness;
  /** The `llm` backend (a Responses-API endpoint); used by agents that select it. */
  readonly llm: LlmHarness;
  private readonly backends: BackendSwitch;
  private store: ThreadStore | undefined;
  private readonly agentSessions: AgentSessions;
  private readonly baseDir: string;
  readonly statePaths: StatePaths;
  private stopping = false;
  readonly access: RoomAccess;
  private readonly inbox: InboxTracker;
  private readonly historyWriter: HistoryWriter;
  private readonly clock: StackClock;
  private started = false;
  private readonly threadPages = new ThreadPages();
  readonly conversationOptions: ConversationOptions; // `/effort` and `/budget`, persisted
  private cluster: ClusterNode | undefined;

  constructor(loaded: LoadedConfig, private readonly options: SupervisorOptions = {}) {
    this.config = loaded.config;
    this.warnings = loaded.warnings;
    this.baseDir = options.baseDir ?? process.cwd();
    this.statePaths = resolveStatePaths(this.config, options.stateDir);
    this.log = (options.log ?? createLogger({ level: this.config.log.level })).child({ supervisor: this.id });
    for (const w of this.warnings) this.log.warn({ warning: w }, 'configuration warning');
    this.hooks = new Hooks(this.log);
    this.clock = options.clock ?? systemClock;
    const store = () => this.store;
    this.conversationOptions = new ConversationOptions(`${this.statePaths.stateDir}/conversation-options.json`, this.log);
    this.access = new RoomAccess(() => this.store!, this.log, this.config.sessions.restrictedCommands);
    this.inbox = new InboxTracker(store, this.log, (s) => this.config.sessions.onMessageDuringTurn === 'steer' && this.harnesses.get(this.agentSessions.info(s)?.selection.harness ?? '')?.steers === true, this.clock);
    this.historyWriter = new HistoryWriter(store, this.hooks, this.log);
    this.agentSessions = new AgentSessions({ config: this.config, baseDir: this.baseDir, harnesses: this.harnesses, store: () => this.store!, write: (session, record) => this.write(session, record), log: this.log });
    this.codex = new CodexHarness({
      config: this.config, sink: (e) => this.onEvent(e), log: this.log, bindingsDir: this.statePaths.bindingsDir,
      ...(this.config.storage.kind === 'postgres' ? { bindingStore: (agent: string) => deferredBindings(() => this.store, agent) } : {}),
      onAudit: (a) => this.auditSubject.next(a), clientVersion: VERSION, inspect: options.inspect,
      ...(options.clock ? { clock: options.clock } : {}),
      ownerOf: (session) => this.access.ownerOf(session),
      onThreadBound: (threadId, session) => this.access.recordThread(threadId, session),
      onModelInput: (e) => this.hooks.emit('llm_input', e),
      turnOptions: (session) => ({ effort: this.conversationOptions.effortOf(session) }),
    });
    this.harnesses.set('codex', this.codex);
    this.llm = new LlmHarness({ config: this.config, env: options.env ?? process.env, log: this.log.child({ harness: 'llm' }), history: (session) => this.historyWriter.session(session), write: (s, r) => this.write(s, r), onModelInput: (e) => this.hooks.emit('llm_input', e), now: () => this.clock.now() });
    this.backends = new BackendSwitch({ codex: this.codex, llm: this.llm, harnesses: this.harnesses, sessions: this.agentSessions, history: (session) => this.historyWriter.session(session), notice: (s, l, t) => this.notice(s, l, t), log: this.log, llmEnabled: this.config.llm.enabled });
    registerHarnesses(this.harnesses, [this.llm, ...(options.harnesses ?? [])], this.config);
    const connections = [...this.harnesses.values()].flatMap((h) => h.connections?.() ?? []);
    this.actor = createSupervisorActor({
      id: this.id,
      codex: this.codex,
      connections,
      startAll: (getChild, signal) => this.startAll(getChild, signal),
      stopAll: () => this.stopAll(),
      stopping: () => this.stopping,
      clock: this.clock,
      log: this.log,
      inspect: options.inspect,
    });
  }

  /** Start: open storage, start harnesses (fails early when a forced runtime cannot serve), replay the inbox. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.actor.start();
    this.actor.send({ type: 'START' });
    const snap = await waitFor(this.actor, (s) => s.hasTag('serving') || s.status !== 'active');
    if (!snap.hasTag('serving')) throw new Error(`Switchboard failed to start: ${snap.context.error ?? 'stopped'}`);
    await (this.cluster ? this.cluster.start() : this.replayInbox());
  }

  private async startAll(getChild: Parameters<Harness['start']>[0], signal: AbortSignal): Promise<void> {
    const orphans = processRegistry.reapOrphans();
    if (orphans.length) this.log.warn({ pids: orphans }, 'killed processes left behind by a Switchboard host that died');
    const legacy = legacyStateNotice(this.statePaths, this.baseDir);
    if (legacy) this.log.warn(legacy);
    prepareStateDir(this.statePaths);
    this.conversationOptions.load();
    this.store = this.options.store ?? (await openConfiguredStore(this.config, this.statePaths, this.log));
    await this.access.load();
    await startHarnesses(this.harnesses, this.config, getChild, signal, this.log);
    if (this.config.cluster) this.store = (this.cluster = new ClusterNode({ config: this.config, store: this.store, codex: this.codex, agentFor: (id) => this.agentSessions.agentFor(id), emit: (e) => this.onEvent(e), deliver: (e) => this.subject.next(e), log: this.log, decide: (d) => routeDecision(this.harnesses.values(), d, this.log), dispatch: (session, e) => this.dispatch(session, e.message, e.id, e.message.agent, e.reclaimed, true), runNow: (s, m, id) => this.dispatch(s, m, id, m.agent, false, true), clock: this.clock })).fence(this.store);
  }

  private async stopAll(): Promise<void> {
    await this.cluster?.stop();
    await stopHarnesses(this.harnesses, this.log);
    await this.historyWriter.flush();
    await this.store?.close();
  }

  /** Graceful stop: interrupt turns (bounded), deny pending approvals, stop app-servers. */
  async stop(): Promise<void> {
    if (this.actor.getSnapshot().status !== 'active') return;
    this.stopping = true;
    if (!this.started) {
      // Never started: nothing runs, nothing to wait for.
      this.actor.stop();
    } else {
      this.actor.send({ type: 'STOP' });
      await toPromise(this.actor).catch((err: unknown) => this.log.error({ err }, 'supervisor stopped with an error'));
    }
    this.subject.complete();
    this.auditSubject.complete();
  }

  /** What a person starting this host should know (e.g. Codex has no login): printed by the CLI, logged at start. */
  get startupWarnings(): string[] {
    return [this.codex.accountWarning, this.llm.warning].filter((w): w is string => w !== undefined);
  }

  /** Hand over a room message. Validated (throws a readable error); durable before it returns. */
  async post(input: PostInput): Promise<{ session: string }> {
    const parsed = PostSchema.safeParse(input);
    if (!parsed.success) throw new Error(`invalid post: ${summarize(parsed.error)}`);
    const msg = parsed.data;
    if (!this.actor.getSnapshot().hasTag('serving')) throw new Error('Switchboard is not running: call start() first');
    const role = msg.from.role;
    if (role === 'observer' || role === 'agent') throw new Error(`${msg.from.id} may not post: ${role}s cannot post in a room`);
    const session = this.agentSessions.keyOf(msg);
    const cwd = this.agentSessions.agentFor(msg.agent).cwd;
    const attachments = await checkAttachments(msg.attachments, role !== undefined, cwd, this.config, this.baseDir);
    // The first poster owns the conversation, durably, before anything of theirs runs.
    await this.access.claim(session, msg.from);
    const inboxMsg: InboxMessage = { room: msg.room, channel: msg.channel, thread: msg.thread, from: msg.from, text: msg.text, attachments, ...(msg.agent ? { agent: msg.agent } : {}) };
    if (this.cluster) return this.cluster.post(session, inboxMsg).then(() => ({ session }));
    const entry = await this.store!.enqueue(session, inboxMsg);
    await this.dispatch(session, inboxMsg, entry.id, msg.agent);
    await this.historyWriter.settled(session); // its history record is durable too (group commit)
    return { session };
  }

  private async dispatch(session: string, msg: InboxMessage, inboxId: string, agentId?: string, replay = false, queued = false): Promise<'turn' | 'none'> {
    const agent = this.agentSessions.agentFor(agentId);
    const from = { id: msg.from.id, name: msg.from.name ?? msg.from.id };
    const text = msg.text.trim();
    if (text.startsWith('/')) {
      const refused = this.access.refusal(session, text, { ...msg.from, role: msg.from.role as never }, agent.approvers);
      if (refused) {
        this.notice(session, 'warning', refused);
        await this.inbox.done(inboxId);
        return 'none';
      }
      const handled = await runSupervisorCommand(this.commandHost, { session, agent, text, from, msg });
      if (handled) {
        await this.inbox.done(inboxId);
        return 'none';
      }
    }
    // Seen by the whole room and recorded; a replayed inbox message was announced when first posted.
    if (!replay) this.onEvent(postedEvent(session, inboxId, msg, this.clock.now()));
    let info: SessionInfo;
    try {
      info = await this.agentSessions.resolve(session, agent);
    } catch (err) {
      await this.inbox.done(inboxId);
      this.notice(session, 'error', (err as Error).message);
      return 'none';
    }
    const command = parseCommand(msg.text) !== undefined && !msg.attachments?.length;
    // A spent budget: no new turn, no steering (the notice says why).
    if (!command && refusedOverBudget(this.conversationOptions, session, (t) => this.notice(session, 'warning', t))) return this.inbox.done(inboxId).then(() => 'none');
    if (!command && !queued) this.inbox.handed(session, inboxId);
    const built = await this.hooks.run('before_prompt_build', { session, from, prompt: msg.text });
    const { role: _role, ...fromHarness } = { ...msg.from, ...from };
    await this.harnesses.get(info.selection.harness)!.post(info.agent, { ...msg, from: fromHarness, text: built.prompt, clientMessageId: inboxId }, (e) => this.onEvent(e));
    // A command is the session's once handed over: acked like a message Codex took, so a
    // restart does not run `/model` or `/reset` again.
    if (command) await this.inbox.done(inboxId);
    return command ? 'none' : 'turn';
  }

  /** The slice of this supervisor the slash commands use (closures: commands.ts does not import this file). */
  private get commandHost(): CommandHost {
    return {
      codex: this.codex,
      access: this.access,
      hooks: this.hooks,
      notice: (session, level, text) => this.notice(session, level, text),
      // Harness resolution pins a session once chosen (logged as one record); `/new` and `/reset` unpin it.
      sessionInfo: (session) => this.agentSessions.info(session),
      resolveSession: (session, agent) => this.agentSessions.resolve(session, agent),
      unpin: (session) => this.agentSessions.unpin(session),
      archiveCodexThread: (threadId) => this.archiveCodexThread(threadId),
      threadPages: this.threadPages,
      options: this.conversationOptions,
      backends: this.backends,
    };
  }

  harness(id: string): Harness | undefined {
    return this.harnesses.get(id);
  }

  notice(session: string, level: 'info' | 'warning' | 'error', text: string): void {
    this.onEvent({ type: 'notice', session, at: this.clock.now(), level, text });
  }

  /** Every room event passes here: history, hooks, inbox acks, then the host. */
  private onEvent(e: RoomEvent): void {
    const rec = recordOf(e);
    if (rec) this.write(e.session, rec);
    fireEventHooks(e, this.hooks, (s) => this.codex.threadOfSession(s) ?? this.llm.threadOfSession(s));
    this.cluster?.onEvent(e);
    switch (e.type) {
      case 'turn.started':
        this.inbox.onEvent(e);
        if (this.config.storage.kind === 'codex') this.codex.nameThread(e.session, e.threadId);
        break;
      case 'turn.completed':
      case 'turn.failed':
      case 'turn.interrupted':
        this.inbox.onEvent(e);
        spendTurnTokens(this.conversationOptions, e, (text) => this.notice(e.session, 'warning', text));
        break;
    }
    try {
      this.subject.next(e);
    } catch (err) {
      this.log.error({ err }, 'events$ subscriber threw');
    }
  }

  /** `codex` storage: `/reset` archives the thread the conversation leaves behind. */
  private async archiveCodexThread(threadId: string): Promise<void> {
    if (this.config.storage.kind === 'codex') await this.codex.archiveThread(threadId);
  }

  /** History writes, in order per session, through the before_message_write hook. */
  write(session: string, record: HistoryRecord): void {
    this.historyWriter.write(session, record);
  }

  /** Wait until history writes queued so far are durable. */
  async flush(): Promise<void> {
    await this.historyWriter.flush();
  }

  /**
   * A room's durable history, oldest first. With `limit` (and optionally `before`, a record
   * `seq`): the newest `limit` records older than `before`; with `after`: the oldest `limit`
   * newer than it. Without a cursor or limit: the whole history up to 10,000 records.
   */
  async history(room: string, query: HistoryQuery = {}): Promise<StoredRecord[]> {
    return this.historyWriter.read(room, query);
  }

  /** Messages accepted before a restart: the cut-off turn is reported, the rest run again. */
  private async replayInbox(): Promise<void> {
    const pending = await this.inbox.recover(await this.store!.pending(), (e) => this.onEvent(e), this.codex.messagesTaken(this.agentSessions.agentFor(undefined)));
    for (const e of pending) {
      this.log.info({ session: e.session, inbox: e.id }, 'delivering a message accepted before a restart');
      await this.dispatch(e.session, e.message, e.id, e.message.agent, true);
    }
  }

  /**
   * A person's decision. Allowed iff `role` is not observer/agent and (role owner/approver, or
   * `by` is the session's persisted owner, or an agent approver); one not offered is refused and
   * stays open. Several nodes: one another node asked about is forwarded there (a Promise).
   */
  decide(input: DecideInput): DecideResult | Promise<DecideResult> {
    return decideHereOrForward(this.harnesses.values(), input, this.log, this.cluster);
  }

  /** Several nodes: the open approvals of `room` in the shared database (undefined on one node: its room server saw them all asked). */
  openApprovals(room: string, limit: number): Promise<RoomEvent[]> | undefined {
    return this.cluster?.approvals.openInRoom(room, limit);
  }

  /** Readiness, app-server connections and inbox depth for /readyz and /metrics. */
  service(): ServiceView {
    // A cluster node queues every post in the shared queue, never in its local inbox tracker (always empty there).
    if (this.cluster) return serviceView(this.harnesses, this.cluster.probe.queueDepth, this.cluster.probe);
    return serviceView(this.harnesses, () => this.inbox.depth());
  }

  /** A dynamic tool Codex may call (`item/tool/call`); results pass the tool_result hook. */
  registerTool(tool: DynamicToolSpec): () => void {
    return this.codex.registerTool(withResultHook(tool, this.hooks, (threadId) => this.codex.sessionOfThread(threadId)));
  }

  /** The default agent's models for a room's model picker (cached; a fallback list when discovery fails; with llm enabled, both backends'). */
  models(): Promise<ModelList> {
    return this.backends.modelList(this.agentSessions.agentFor(undefined));
  }

  status(): SupervisorStatus {
    const snap = this.actor.getSnapshot();
    return {
      id: this.id,
      state: snap.value,
      error: snap.context.error,
      endedConnections: snap.context.finishedChildren,
      config: redactedConfig(this.config),
      warnings: this.warnings,
      harnesses: Object.fromEntries([...this.harnesses].map(([id, h]) => [id, h.status()])),
      sessions: this.agentSessions.list(),
      hookFailures: this.hooks.failures,
    };
  }
}

/** Create a supervisor from a config object; throws a ConfigError naming every bad field. */
export function createSupervisor(config: SwitchboardConfigInput = {}, options: SupervisorOptions = {}): Supervisor {
  // The object is the configuration; a file and the environment are read only when asked.
  const loaded = loadConfig({ env: options.env ?? {}, file: options.file ?? false, flags: config as Record<string, unknown> });
  return new Supervisor(loaded, options);
}

export { ConfigError };
