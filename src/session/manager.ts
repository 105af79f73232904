// SessionManager: the facade a host calls. One session per conversation key; room messages in
// via `post`, room events out via the sink. A session with nothing to do is hibernated: its
// actor is stopped and the manager keeps a plain record (`hibernate.ts`), so an idle
// conversation costs a few hundred bytes instead of a live actor tree; its next message
// starts a new actor from the record.
import { randomUUID } from 'node:crypto';
import { createActor, type Actor, type InspectionEvent, type SnapshotFrom } from 'xstate';
import type { Logger } from 'pino';
import type { SessionEmitted, SessionMachine } from '../../machines/session.machine.js';
import { conversationKey, type RoomEventSink } from '../events/room-events.js';
import { defaultLogger } from '../log/logger.js';
import { timerClock, unrefTimer, type ClockOption, type TimerClock } from '../util/clock.js';
import { settle, stripUndefined } from './settle.js';
import { safeObserver, safeSink, type ApprovalHooks, type SessionConnection } from '../turn/runtime.js';
import { toTurnInput, type RoomMessage } from '../turn/translate.js';
import type { TurnAction } from '../turn/action.js';
import { FileBindingStore, type BindingStore } from './bindings.js';
import type { ModelCache } from './models.js';
import { bindingOf, type SessionDeps } from './actors.js';
import { provideSessionMachine } from './provide.js';
import { texts } from './texts.js';
import { hibernate, isHibernated, isIdle, recordStatus, restoreOf, unloaded, type HibernatedSession } from './hibernate.js';
import { defaultSessionSettings, parseCommand, type SessionSettings } from './types.js';

export interface SessionManagerOptions {
  connection: SessionConnection;
  /** Every room event of every session. A throwing sink is logged, never fatal. */
  sink: RoomEventSink;
  bindingDir?: string; // the binding files' directory (one JSON file per conversation)…
  store?: BindingStore; // …or any other store
  settings: Partial<SessionSettings> & { cwd: string };
  /** One session per participant of a room thread instead of one per thread. */
  perParticipant?: boolean;
  approvals?: ApprovalHooks; // the approval router's hooks (told when a turn ends)
  tools?: SessionDeps['tools']; // dynamic tools declared on thread/start (needs experimentalApi)
  /** The agent's one model catalog (default: the manager's own `model/list` cache). */
  models?: SessionDeps['models'];
  onModelInput?: SessionDeps['onModelInput']; // the `llm_input` hook
  turnOptions?: SessionDeps['turnOptions']; // each `turn/start`'s per-conversation options (`/effort`)
  log?: Logger;
  id?: string;
  /** A variant of `sessionMachine` (tests' fake actors); the manager provides the live implementations it did not replace. */
  machine?: SessionMachine;
  /** The clock of room event timestamps, bindings and hibernation (default `Date.now`; `clock.now` wins). */
  now?: () => number;
  /** Timers and time: the session and turn actors' `after` delays, the idle sweep, stop's bounded waits (default: system clock). */
  clock?: ClockOption;
  /** Message ids (default `crypto.randomUUID`). */
  ids?: () => string;
  /** XState inspection (tracing) of session and turn actors; off unless given. */
  inspect?: (ev: InspectionEvent) => void;
  /**
   * Hibernate idle sessions: stop the actor, keep a plain record, start a new actor from it on
   * the next message (default true).
   */
  hibernate?: boolean;
  /** How long a session stays idle before it is hibernated (default 0: as soon as it is idle). */
  hibernateAfterMs?: number;
}

export interface SessionStatus {
  session: string;
  state: unknown;
  threadId: string | undefined;
  turnRunning: boolean;
  activeTurnId: string | undefined;
  queued: number;
  steering: number;
  model: string | undefined;
  busyMode: 'steer' | 'queue';
  turns: number;
  lastTurn: { status: string; turnId: string | undefined; error: string | undefined } | undefined;
  /** Idle and kept as a record: no live actor until its next message. */
  hibernated: boolean;
}

export interface SessionManagerStatus {
  id: string;
  stopped: boolean;
  sessions: SessionStatus[];
}

type SessionActor = Actor<SessionMachine>;
type SessionSnapshot = SnapshotFrom<SessionMachine>;

export class SessionManager {
  readonly id: string;
  /** Every session, in order of first message: a live actor or a hibernated record. */
  private readonly sessions = new Map<string, SessionActor | HibernatedSession>();
  /** The sessions that have a live actor (busy, or idle and not yet hibernated). */
  private readonly live = new Map<string, SessionActor>();
  /** Who has posted in each conversation, first poster first. */
  private readonly participants = new Map<string, Array<{ id: string; name: string }>>();
  private readonly settings: SessionSettings;
  private readonly log: Logger;
  private readonly machine: SessionMachine;
  private readonly deps: SessionDeps;
  private readonly now: () => number;
  private stopped = false;
  private readonly hibernation: { enabled: boolean; afterMs: number };
  /** Live sessions seen idle, waiting to be hibernated: key → since when. */
  private readonly idleSince = new Map<string, number>();
  private sweepTimer: unknown;
  private readonly clock: Required<TimerClock>;
  private readonly ids: () => string;
  /**
   * Bumped whenever the connection is lost or becomes ready (a new app-server process): a
   * record from an older epoch resumes its thread before its next turn.
   */
  private epoch = 0;
  /** The app-server is unavailable (degraded or failed): sessions started now know it from the start. */
  private outage: { reason: string; retryAt: number | undefined } | undefined;
  private readonly offLifecycle: () => void;

  constructor(private readonly options: SessionManagerOptions) {
    this.id = options.id ?? `sessions-${randomUUID().slice(0, 8)}`;
    this.log = (options.log ?? defaultLogger()).child({ sessions: this.id });
    this.settings = { ...defaultSessionSettings, ...stripUndefined(options.settings), cwd: options.settings.cwd };
    this.hibernation = { enabled: options.hibernate ?? true, afterMs: Math.max(0, options.hibernateAfterMs ?? 0) };
    const store = options.store ?? (options.bindingDir ? new FileBindingStore(options.bindingDir) : undefined);
    if (!store) throw new Error('SessionManager needs a bindingDir or a store');
    const modelCache: ModelCache = { value: undefined };
    this.clock = timerClock(options.clock ?? (options.now ? { now: options.now } : undefined));
    this.now = this.clock.now;
    this.ids = options.ids ?? (() => randomUUID());
    this.deps = {
      conn: options.connection,
      sink: safeSink(options.sink, this.log),
      approvals: options.approvals,
      log: this.log,
      store,
      modelCache,
      models: options.models,
      tools: options.tools,
      onModelInput: options.onModelInput && safeObserver(options.onModelInput, this.log),
      turnOptions: options.turnOptions,
      now: this.now,
    };
    this.machine = provideSessionMachine(this.deps, options.machine);
    this.offLifecycle = options.connection.onLifecycle((e) => {
      // A pool names the threads its member took along: only their records must resume.
      if (e.threads) {
        if (e.type !== 'ready' && e.type !== 'recovered') this.unloadRecords(e.threads);
        return;
      }
      if (e.type === 'lost' || e.type === 'ready') this.epoch++;
      if (e.type === 'ready') this.outage = undefined;
      else if (e.type === 'degraded') this.outage = { reason: e.reason, retryAt: e.retryAt };
      else if (e.type === 'failed') this.outage = { reason: e.error, retryAt: undefined };
    });
  }

  /** The conversation key of a message (the `session` of its room events). */
  keyOf(msg: Pick<RoomMessage, 'room' | 'channel' | 'thread' | 'from'>): string {
    return conversationKey(msg, this.options.perParticipant ?? false);
  }

  /** Hand over a room message (or slash command). Returns the conversation key. */
  post(msg: RoomMessage): string {
    if (this.stopped) throw new Error('SessionManager is stopped');
    const key = this.keyOf(msg);
    const actor = this.sessionFor(key);
    const people = this.participants.get(key) ?? [];
    if (!people.some((p) => p.id === msg.from.id)) this.participants.set(key, [...people, { id: msg.from.id, name: msg.from.name }]);
    const command = parseCommand(msg.text);
    if (command && !msg.attachments?.length) {
      actor.send({ type: 'COMMAND', command });
      return key;
    }
    const { input, problems } = toTurnInput(msg, { cwd: this.settings.cwd, speakerPrefix: this.settings.speakerPrefix });
    for (const p of problems) this.notice(key, 'warning', texts.attachmentIgnored(p));
    if (input.length === 0) {
      this.notice(key, 'warning', texts.emptyMessage);
      return key;
    }
    actor.send({
      type: 'MESSAGE',
      message: { id: this.ids(), from: { id: msg.from.id, name: msg.from.name }, text: msg.text, input, receivedAt: this.now(), ...(msg.clientMessageId ? { clientMessageId: msg.clientMessageId } : {}) },
    });
    return key;
  }

  /** A review or compaction, queued as a turn of the conversation (it binds a thread first if need be). */
  postAction(msg: Pick<RoomMessage, 'room' | 'channel' | 'thread' | 'from'>, text: string, action: TurnAction): string {
    if (this.stopped) throw new Error('SessionManager is stopped');
    const key = this.keyOf(msg);
    const message = { id: this.ids(), from: { id: msg.from.id, name: msg.from.name }, text, input: [], receivedAt: this.now(), action };
    this.sessionFor(key).send({ type: 'MESSAGE', message });
    return key;
  }

  /** The conversation's Codex thread: its session's, else the stored binding's. */
  async boundThread(key: string): Promise<string | undefined> {
    return this.sessionStatus(key)?.threadId ?? (await this.deps.store.load(key).catch(() => undefined))?.threadId;
  }

  /**
   * Continue `key` on an existing Codex thread (`/codex resume`, `/fork`): the binding is
   * rewritten and the session actor retired, so the next message resumes that thread with
   * `model`, else the model the conversation uses now (a `/model` choice is kept).
   */
  async attachThread(key: string, threadId: string, model?: string): Promise<void> {
    const slot = this.sessions.get(key);
    if (slot && !isHibernated(slot)) {
      const snap = slot.getSnapshot();
      if (snap.context.current !== undefined) throw new Error('a turn is running; /stop it first');
      await settle(this.clock, slot, isIdle, 5_000, `session ${key} is busy`);
    }
    const { store } = this.deps;
    const old = await store.load(key).catch(() => undefined);
    const chosen = model ?? (slot ? this.sessionStatus(key)?.model : (old?.model ?? this.settings.model));
    await store.save(bindingOf(key, threadId, chosen, this.settings.cwd, undefined, this.now()));
    // It may have been hibernated meanwhile: retire whichever form it has now.
    const now = this.sessions.get(key);
    if (slot && now) {
      if (!isHibernated(now)) now.stop();
      this.sessions.delete(key);
      this.live.delete(key);
      this.idleSince.delete(key);
    }
  }

  status(): SessionManagerStatus {
    return { id: this.id, stopped: this.stopped, sessions: [...this.sessions.keys()].map((k) => this.sessionStatus(k)!) };
  }

  sessionStatus(key: string): SessionStatus | undefined {
    const slot = this.sessions.get(key);
    if (!slot) return undefined;
    if (isHibernated(slot)) return recordStatus(key, slot);
    const snap = slot.getSnapshot();
    const c = snap.context;
    return {
      session: key,
      state: snap.value,
      threadId: c.threadId,
      turnRunning: c.current !== undefined,
      activeTurnId: c.activeTurnId,
      queued: c.queue.length,
      steering: c.steerQueue.length + (c.steering ? 1 : 0),
      model: c.model,
      busyMode: c.settings.busyMode,
      turns: c.turns,
      lastTurn: c.lastTurn,
      hibernated: false,
    };
  }

  /**
   * The conversation a Codex thread belongs to, and who has posted in it (first poster
   * first): what an approval router needs to route a request of that thread.
   */
  threadContext(threadId: string): { session: string; participants: Array<{ id: string; name: string }> } | undefined {
    // Live sessions first: a thread with a running turn (and so an approval) has a live actor.
    for (const [key, actor] of this.live) {
      if (actor.getSnapshot().context.threadId === threadId) return { session: key, participants: this.participants.get(key) ?? [] };
    }
    for (const [key, slot] of this.sessions) {
      if (isHibernated(slot) && slot.threadId === threadId) return { session: key, participants: this.participants.get(key) ?? [] };
    }
    return undefined;
  }

  /**
   * Resolves once the session has nothing to do: no turn, nothing queued or being
   * steered, no bind, model lookup or binding write in progress.
   */
  whenIdle(key: string, timeoutMs = 30_000): Promise<void> {
    const slot = this.sessions.get(key);
    if (!slot || isHibernated(slot)) return Promise.resolve();
    return settle(this.clock, slot, isIdle, timeoutMs, `session ${key} did not become idle within ${timeoutMs} ms`);
  }

  /**
   * Stop every session: running turns are interrupted (bounded by the interrupt wait),
   * pending binding writes finish, then the actors stop. Queued messages are reported.
   */
  async stop(opts: { interrupt?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.sweepTimer !== undefined) this.clock.clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    this.idleSince.clear();
    this.offLifecycle();
    const bound = this.settings.interruptWaitMs + 2_000;
    await Promise.all(
      [...this.sessions.entries()].map(async ([key, actor]) => {
        // A hibernated session is idle: nothing runs, nothing is queued.
        if (isHibernated(actor)) return;
        const snap = actor.getSnapshot();
        if (opts.interrupt !== false && snap.context.current !== undefined) {
          actor.send({ type: 'COMMAND', command: { name: 'stop' } });
          await settle(this.clock, actor, (s) => s.context.current === undefined, bound).catch(() => undefined);
        }
        await settle(this.clock, actor, (s) => !s.hasTag('persisting') && s.context.persist === undefined, 5_000).catch(() => undefined);
        const left = actor.getSnapshot().context;
        const waiting = left.queue.length + left.steerQueue.length + (left.current ? 1 : 0);
        if (waiting > 0) this.notice(key, 'warning', texts.shuttingDown(waiting));
        actor.stop();
      }),
    );
    this.sessions.clear();
    this.live.clear();
  }

  /** Another node drives `key` now: its actor stops at once, nothing interrupted, nothing more emitted. */
  drop(key: string): void {
    this.live.get(key)?.stop();
    for (const m of [this.sessions, this.live, this.idleSince]) m.delete(key);
  }

  private notice(key: string, level: 'info' | 'warning' | 'error', text: string): void {
    this.deps.sink({ type: 'notice', session: key, at: this.now(), level, text });
  }

  /** What a session emits: its room events go to the sink (stamped), its log lines to the log. */
  private forward(key: string, e: SessionEmitted): void {
    if (e.type === 'log') this.log[e.level](e.data, e.msg);
    else this.deps.sink({ ...e, session: key, at: this.now() });
  }

  private sessionFor(key: string): SessionActor {
    const slot = this.sessions.get(key);
    if (slot && !isHibernated(slot)) return slot;
    // A new conversation, or a hibernated one woken by its next message.
    const actor = createActor(this.machine, {
      id: `session:${key}`,
      clock: this.clock,
      ...(this.options.inspect ? { inspect: this.options.inspect } : {}),
      input: {
        key,
        settings: slot?.settings ?? this.settings,
        ...(slot ? { restore: restoreOf(slot, this.epoch) } : {}),
        ...(this.outage ? { outage: this.outage } : {}),
      },
    });
    actor.on('*', (e) => this.forward(key, e));
    const hibernating = this.hibernation.enabled;
    actor.subscribe({
      ...(hibernating ? { next: (s: SessionSnapshot) => (isIdle(s) ? this.idle(key) : this.idleSince.delete(key)) } : {}),
      error: (err) => this.log.error({ err, key }, 'session actor failed'),
    });
    this.sessions.set(key, actor);
    this.live.set(key, actor);
    actor.start();
    // Woken by something that leaves it idle (an empty message): it goes back to sleep.
    if (hibernating) this.idle(key);
    return actor;
  }

  /** Hibernated sessions on these threads resume them before their next turn. */
  private unloadRecords(threads: ReadonlySet<string>): void {
    if (threads.size === 0) return;
    for (const [key, slot] of this.sessions) {
      if (isHibernated(slot) && slot.threadId !== undefined && threads.has(slot.threadId)) this.sessions.set(key, unloaded(slot));
    }
  }

  /** A live session is idle: hibernate it once it has stayed idle for `hibernateAfterMs`. */
  private idle(key: string): void {
    if (this.stopped || this.idleSince.has(key)) return;
    this.idleSince.set(key, this.now());
    this.scheduleSweep(this.hibernation.afterMs);
  }

  private scheduleSweep(delayMs: number): void {
    if (this.sweepTimer !== undefined || this.stopped) return;
    this.sweepTimer = this.clock.setTimeout(() => this.sweep(), delayMs);
    unrefTimer(this.sweepTimer);
  }

  /**
   * Hibernate the live sessions that are still idle and have been for long enough, a batch at a
   * time (a burst of turns ending together never blocks the event loop for long).
   */
  private sweep(): void {
    this.sweepTimer = undefined;
    if (this.stopped) return;
    const now = this.now();
    let done = 0;
    // In the order they became idle, so the first one not yet due ends the sweep.
    for (const [key, since] of this.idleSince) {
      const due = since + this.hibernation.afterMs;
      if (due > now) return this.scheduleSweep(due - now);
      if (done++ === SWEEP_BATCH) return this.scheduleSweep(0);
      this.idleSince.delete(key);
      const slot = this.live.get(key);
      if (!slot) continue;
      const snap = slot.getSnapshot();
      if (snap.status !== 'active' || !isIdle(snap)) continue;
      // Same key, same place in the map: status() keeps its order.
      this.sessions.set(key, hibernate(snap, this.epoch));
      this.live.delete(key);
      slot.stop();
    }
  }
}

/** Sessions hibernated per sweep before the rest is left to the next one. */
const SWEEP_BATCH = 256;
