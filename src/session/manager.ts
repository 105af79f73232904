// SessionManager: the facade a host calls. One session actor per conversation key; room
// messages in via `post`, room events out via the sink.
import { randomUUID } from 'node:crypto';
import { createActor, type Actor, type SnapshotFrom } from 'xstate';
import type { Logger } from 'pino';
import { sessionMachine, type SessionMachine } from '../../machines/session.machine.js';
import { conversationKeyString, type RoomEventSink } from '../events/room-events.js';
import { defaultLogger } from '../log/logger.js';
import { safeSink, type ApprovalHooks, type SessionConnection } from '../turn/runtime.js';
import { toTurnInput, type RoomMessage } from '../turn/translate.js';
import { FileBindingStore, type BindingStore } from './bindings.js';
import type { ModelCache } from './models.js';
import { sessionRuntimes, type SessionRuntime } from './runtime.js';
import { bindingOf } from './actors.js';
import { defaultSessionSettings, parseCommand, type SessionSettings } from './types.js';

export interface SessionManagerOptions {
  connection: SessionConnection;
  /** Every room event of every session. A throwing sink is logged, never fatal. */
  sink: RoomEventSink;
  /** Directory of the binding files (one JSON file per conversation)… */
  bindingDir?: string;
  /** …or any other store. */
  store?: BindingStore;
  settings: Partial<SessionSettings> & { cwd: string };
  /** One session per participant of a room thread instead of one per thread. */
  perParticipant?: boolean;
  /** The approval router's hooks (told when a turn ends). */
  approvals?: ApprovalHooks;
  /** Dynamic tools to declare on thread/start (the connection needs experimentalApi). */
  tools?: SessionRuntime['tools'];
  log?: Logger;
  id?: string;
  /** Replace the machine (tests provide fake actors this way). */
  machine?: SessionMachine;
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
  private readonly sessions = new Map<string, SessionActor>();
  /** Who has posted in each conversation, first poster first. */
  private readonly participants = new Map<string, Array<{ id: string; name: string }>>();
  private readonly settings: SessionSettings;
  private readonly log: Logger;
  private readonly machine: SessionMachine;
  private stopped = false;

  constructor(private readonly options: SessionManagerOptions) {
    this.id = options.id ?? `sessions-${randomUUID().slice(0, 8)}`;
    this.log = (options.log ?? defaultLogger()).child({ sessions: this.id });
    this.settings = { ...defaultSessionSettings, ...stripUndefined(options.settings), cwd: options.settings.cwd };
    this.machine = options.machine ?? sessionMachine;
    const store = options.store ?? (options.bindingDir ? new FileBindingStore(options.bindingDir) : undefined);
    if (!store) throw new Error('SessionManager needs a bindingDir or a store');
    const modelCache: ModelCache = { value: undefined };
    sessionRuntimes.register(this.id, {
      conn: options.connection,
      sink: safeSink(options.sink, this.log),
      approvals: options.approvals,
      log: this.log,
      store,
      modelCache,
      tools: options.tools,
    });
  }

  /** The conversation key of a message (the `session` of its room events). */
  keyOf(msg: Pick<RoomMessage, 'room' | 'channel' | 'thread' | 'from'>): string {
    const base = conversationKeyString(msg);
    return this.options.perParticipant ? `${base}/@${msg.from.id}` : base;
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
    const rt = sessionRuntimes.get(this.id);
    for (const p of problems) rt.sink({ type: 'notice', session: key, at: Date.now(), level: 'warning', text: `Attachment ignored: ${p}` });
    if (input.length === 0) {
      rt.sink({ type: 'notice', session: key, at: Date.now(), level: 'warning', text: 'Empty message ignored.' });
      return key;
    }
    actor.send({
      type: 'MESSAGE',
      message: { id: randomUUID(), from: { id: msg.from.id, name: msg.from.name }, text: msg.text, input, receivedAt: Date.now() },
    });
    return key;
  }

  /**
   * Continue `key` on an existing Codex thread (`/codex resume`): the binding is rewritten
   * and the session actor retired, so the next message resumes that thread.
   */
  async attachThread(key: string, threadId: string): Promise<void> {
    const actor = this.sessions.get(key);
    if (actor) {
      const snap = actor.getSnapshot();
      if (snap.context.current !== undefined) throw new Error('a turn is running; /stop it first');
      await waitForSnapshot(actor, isIdle, 5_000, `session ${key} is busy`);
    }
    const rt = sessionRuntimes.get(this.id);
    const old = await rt.store.load(key).catch(() => undefined);
    await rt.store.save(bindingOf(key, threadId, old?.model ?? this.settings.model, this.settings.cwd, undefined));
    if (actor) {
      actor.stop();
      this.sessions.delete(key);
    }
  }

  status(): SessionManagerStatus {
    return { id: this.id, stopped: this.stopped, sessions: [...this.sessions.keys()].map((k) => this.sessionStatus(k)!) };
  }

  sessionStatus(key: string): SessionStatus | undefined {
    const actor = this.sessions.get(key);
    if (!actor) return undefined;
    const snap = actor.getSnapshot();
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
    };
  }

  /**
   * The conversation a Codex thread belongs to, and who has posted in it (first poster
   * first): what an approval router needs to route a request of that thread.
   */
  threadContext(threadId: string): { session: string; participants: Array<{ id: string; name: string }> } | undefined {
    for (const [key, actor] of this.sessions) {
      if (actor.getSnapshot().context.threadId === threadId) return { session: key, participants: this.participants.get(key) ?? [] };
    }
    return undefined;
  }

  /**
   * Resolves once the session has nothing to do: no turn, nothing queued or being
   * steered, no bind, model lookup or binding write in progress.
   */
  whenIdle(key: string, timeoutMs = 30_000): Promise<void> {
    const actor = this.sessions.get(key);
    if (!actor) return Promise.resolve();
    return waitForSnapshot(actor, isIdle, timeoutMs, `session ${key} did not become idle within ${timeoutMs} ms`);
  }

  /**
   * Stop every session: running turns are interrupted (bounded by the interrupt wait),
   * pending binding writes finish, then the actors stop. Queued messages are reported.
   */
  async stop(opts: { interrupt?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const rt = sessionRuntimes.get(this.id);
    const bound = this.settings.interruptWaitMs + 2_000;
    await Promise.all(
      [...this.sessions.entries()].map(async ([key, actor]) => {
        const snap = actor.getSnapshot();
        if (opts.interrupt !== false && snap.context.current !== undefined) {
          actor.send({ type: 'COMMAND', command: { name: 'stop' } });
          await waitForSnapshot(actor, (s) => s.context.current === undefined, bound, '').catch(() => undefined);
        }
        await waitForSnapshot(actor, (s) => !s.matches({ persist: 'writing' }) && s.context.persist === undefined, 5_000, '').catch(
          () => undefined,
        );
        const left = actor.getSnapshot().context;
        const waiting = left.queue.length + left.steerQueue.length + (left.current ? 1 : 0);
        if (waiting > 0) {
          rt.sink({
            type: 'notice',
            session: key,
            at: Date.now(),
            level: 'warning',
            text: `Switchboard is shutting down; ${waiting} message(s) of this conversation were not run.`,
          });
        }
        actor.stop();
      }),
    );
    this.sessions.clear();
    sessionRuntimes.unregister(this.id);
  }

  private sessionFor(key: string): SessionActor {
    let actor = this.sessions.get(key);
    if (actor) return actor;
    actor = createActor(this.machine, {
      id: `session:${key}`,
      input: { runtimeId: this.id, key, settings: this.settings },
    });
    actor.subscribe({ error: (err) => this.log.error({ err, key }, 'session actor failed') });
    this.sessions.set(key, actor);
    actor.start();
    return actor;
  }
}

function isIdle(s: SessionSnapshot): boolean {
  const c = s.context;
  return (
    c.current === undefined &&
    c.queue.length === 0 &&
    c.steerQueue.length === 0 &&
    c.steering === undefined &&
    c.catalogRequests.length === 0 &&
    c.persist === undefined &&
    (s.matches({ conversation: 'ready' }) || s.matches({ conversation: 'unbound' })) &&
    s.matches({ persist: 'idle' }) &&
    s.matches({ catalog: 'idle' })
  );
}

function waitForSnapshot(actor: SessionActor, pred: (s: SessionSnapshot) => boolean, timeoutMs: number, message: string): Promise<void> {
  if (pred(actor.getSnapshot())) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.unsubscribe();
      reject(new Error(message || 'timed out'));
    }, timeoutMs);
    const sub = actor.subscribe({
      next: (s) => {
        if (pred(s)) {
          clearTimeout(timer);
          sub.unsubscribe();
          resolve();
        }
      },
      error: (err) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    });
  });
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
