// The `llm` harness: a turn is one streamed Responses-API request (the official `openai`
// client) whose input is the room thread's stored history plus the new messages. No Codex
// tools, no approvals, no process: the room's dataset storage is the conversation's memory,
// so `/model` may move a conversation between this backend and Codex and back.
import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import type { Logger } from 'pino';
import type { RoomEventSink } from '../events/room-events.js';
import type { SwitchboardConfig } from '../config/schema.js';
import { conversationKey } from '../events/room-events.js';
import type { HistoryRecord, StoredRecord } from '../storage/types.js';
import type { AgentSpec, Harness, HarnessMessage } from '../supervisor/harness.js';
import { parseCommand } from '../session/types.js';
import type { ModelInput } from '../turn/runtime.js';
import { cleanMessageText } from '../attachments/text.js';
import { backendOf, llmModelName } from '../session/model-refs.js';
import { historyInput } from './history.js';
import { resolveLlmEndpoint, type LlmConfig, type LlmEndpoint } from './settings.js';
import { LlmTurnError, streamResponse } from './stream.js';
import { LlmModels } from './models.js';

export interface LlmHarnessOptions {
  config: Pick<SwitchboardConfig, 'llm' | 'agents' | 'sessions'>;
  /** Where OPENAI_BASE_URL and the key variable are read (default: process.env). */
  env?: NodeJS.ProcessEnv;
  log: Logger;
  /** The session's stored history, with every queued write durable first. */
  history: (session: string) => Promise<StoredRecord[]>;
  write: (session: string, record: HistoryRecord) => void;
  /** Told each input a turn sends (the `llm_input` hook). */
  onModelInput?: (e: ModelInput) => void;
  now?: () => number;
}

interface Running {
  turnId: string;
  abort: AbortController;
  /** Settles when the turn's events are all out. */
  done: Promise<void>;
}

interface LlmSession {
  /** The `/model` choice (a ref as typed); undefined: the agent's default. */
  model: string | undefined;
  /** Reading the stored `/model` choice (once per session per host run); every post awaits it, in order. */
  loading: Promise<void>;
  running: Running | undefined;
  queue: HarnessMessage[];
}

/** Messages waiting for a running turn, per conversation (more are refused with a notice). */
const MAX_QUEUED = 64;
/** Conversations kept in memory; beyond it idle ones are dropped (their `/model` choice is reloaded from history). */
const MAX_SESSIONS = 10_000;

export class LlmHarness implements Harness {
  readonly id = 'llm';
  readonly endpoint: LlmEndpoint;
  private readonly client: OpenAI;
  private readonly sessions = new Map<string, LlmSession>();
  private readonly now: () => number;
  private stopping = false;
  private readonly llm: LlmConfig;
  /** Some agent may use this backend: an unusable endpoint is then a startup problem. */
  private readonly wanted: boolean;

  constructor(private readonly o: LlmHarnessOptions) {
    this.llm = o.config.llm;
    this.wanted = llmWanted(o.config);
    this.endpoint = resolveLlmEndpoint(this.llm, o.env ?? process.env);
    this.now = o.now ?? Date.now;
    // A local endpoint may take no key; the client insists on one, so it gets a placeholder.
    this.client = new OpenAI({
      apiKey: this.endpoint.apiKey ?? 'no-key',
      baseURL: this.endpoint.baseUrl,
      maxRetries: this.llm.maxRetries,
      timeout: this.llm.requestTimeoutMs,
    });
  }

  available(): { ok: true } | { ok: false; reason: string } {
    if (this.stopping) return { ok: false, reason: 'the llm backend is stopping' };
    // The public endpoint needs a key; one given explicitly (a local server, a proxy) may not.
    if (!this.endpoint.apiKey && !this.endpoint.explicitBaseUrl) return { ok: false, reason: `no API key in ${this.endpoint.apiKeyEnv} and no llm.baseUrl / OPENAI_BASE_URL` };
    return { ok: true };
  }

  /** In `auto` mode: `llm/*` refs always; bare names and other providers' refs when `llm.enabled`. */
  supports(model: string | undefined): { ok: boolean; reason: string } {
    if (!model) return { ok: false, reason: 'no model given (the default model is Codex\'s)' };
    const backend = backendOf(model, this.llm.enabled);
    if (backend === 'llm') return { ok: true, reason: /^llm\//i.test(model) ? `llm model ref "${model}"` : `"${model}" is a plain model name and the llm backend is enabled` };
    return { ok: false, reason: backend === 'codex' ? `"${model}" is a Codex model ref` : `"${model}" is not an llm model (enable llm or write llm/${model})` };
  }

  /** Why this backend cannot run turns, when some agent may use it: a startup warning. */
  get warning(): string | undefined {
    const a = this.available();
    return this.wanted && !a.ok ? `the llm backend cannot run turns: ${a.reason}` : undefined;
  }

  async start(): Promise<void> {
    if (!this.wanted) return;
    const a = this.available();
    if (!a.ok) throw new Error(a.reason);
    this.o.log.info({ baseUrl: this.endpoint.baseUrl, apiKeyEnv: this.endpoint.apiKeyEnv, hasKey: this.endpoint.apiKey !== undefined }, 'llm backend ready');
  }

  /** Running turns are aborted (their partial answers stored) and waited for. */
  async stop(): Promise<void> {
    this.stopping = true;
    const running = [...this.sessions.values()].flatMap((s) => (s.running ? [s.running] : []));
    for (const s of this.sessions.values()) s.queue = [];
    for (const r of running) r.abort.abort();
    await Promise.all(running.map((r) => r.done));
  }

  models(agent: AgentSpec): LlmModels {
    return new LlmModels(agent, this.llm);
  }

  /** The model a session's next turn uses (a ref, as chosen or configured). */
  modelOf(agent: AgentSpec, session: string): string {
    return this.sessions.get(session)?.model ?? this.models(agent).defaultModel;
  }

  /** A turn runs or messages wait in this conversation. */
  busy(session: string): boolean {
    const s = this.sessions.get(session);
    return s !== undefined && (s.running !== undefined || s.queue.length > 0);
  }

  /** The conversation's "thread": the llm backend has none of its own, the room thread is it. */
  threadOfSession(session: string): string | undefined {
    return this.sessions.has(session) ? `llm:${session}` : undefined;
  }

  async post(agent: AgentSpec, msg: HarnessMessage, sink: RoomEventSink): Promise<void> {
    const key = conversationKey(msg, this.o.config.sessions.perParticipant);
    const s = await this.session(key);
    const notice = (level: 'info' | 'warning' | 'error', text: string) => sink({ type: 'notice', session: key, at: this.now(), level, text });
    const command = msg.attachments?.length ? undefined : parseCommand(msg.text);
    switch (command?.name) {
      case 'model':
        return this.setModel(agent, key, s, command.arg, notice);
      case 'models':
        return notice('info', this.models(agent).describe(this.modelOf(agent, key)));
      case 'stop':
        if (!s.running) return notice('info', 'Nothing to stop.');
        s.queue = [];
        s.running.abort.abort();
        return;
      case 'new':
      case 'reset':
        s.queue = [];
        s.running?.abort.abort();
        return notice('info', 'A fresh conversation starts with the next message: earlier messages are no longer sent to the model.');
    }
    if (msg.attachments?.length) notice('warning', 'The llm backend sends text only: the attachments of this message are not sent.');
    if (s.running) {
      // One request at a time per conversation: a message during a turn runs in the next one.
      if (s.queue.length >= MAX_QUEUED) return notice('warning', `${MAX_QUEUED} messages are already waiting: this one is not run.`);
      s.queue.push(msg);
      return;
    }
    this.startTurn(agent, key, s, [msg], sink);
  }

  status(): Record<string, unknown> {
    return {
      baseUrl: this.endpoint.baseUrl,
      apiKeyEnv: this.endpoint.apiKeyEnv,
      hasKey: this.endpoint.apiKey !== undefined,
      sessions: [...this.sessions].map(([session, s]) => ({ session, model: s.model, turnRunning: s.running !== undefined, queued: s.queue.length })),
    };
  }

  private async session(key: string): Promise<LlmSession> {
    let s = this.sessions.get(key);
    if (!s) {
      const created: LlmSession = { model: undefined, loading: Promise.resolve(), running: undefined, queue: [] };
      created.loading = this.loadModel(key, created);
      this.sessions.set(key, (s = created));
      this.evictIdle(key);
    }
    // Posts resume in arrival order, so the first starts the turn and the next ones queue.
    await s.loading;
    return s;
  }

  /** Oldest idle conversations first (a Map keeps insertion order), down to the cap. */
  private evictIdle(keep: string): void {
    for (const [key, s] of this.sessions) {
      if (this.sessions.size <= MAX_SESSIONS) return;
      if (key !== keep && !s.running && !s.queue.length) this.sessions.delete(key);
    }
  }

  /** The last `/model` choice made on this backend (since the last /new or /reset) survives a restart. */
  private async loadModel(key: string, s: LlmSession): Promise<void> {
    const records = await this.o.history(key).catch(() => [] as StoredRecord[]);
    for (let i = records.length - 1; i >= 0; i--) {
      const r = records[i]!;
      if (r.kind === 'harness' && r.harness === '(unpinned)') return;
      if (r.kind === 'model' && backendOf(r.model, true) === 'llm') {
        s.model ??= r.model;
        return;
      }
    }
  }

  private setModel(agent: AgentSpec, key: string, s: LlmSession, arg: string, notice: (level: 'info' | 'warning', text: string) => void): void {
    const models = this.models(agent);
    if (arg === '') return notice('info', `Model: ${this.modelOf(agent, key)} (llm backend). Use /model NAME to switch, /models to list.`);
    const found = models.find(arg);
    if (!found) return notice('warning', `Unknown model "${arg}". Available on the llm backend: ${models.names().join(', ')}.`);
    s.model = found;
    this.o.write(key, { kind: 'model', model: found });
    notice('info', `Model set to ${found} (llm backend); it applies from the ${s.running ? 'next turn' : 'next message'}, with this room thread's history.`);
  }

  private startTurn(agent: AgentSpec, key: string, s: LlmSession, batch: HarnessMessage[], sink: RoomEventSink): void {
    const turnId = `llm-turn-${randomUUID()}`;
    const abort = new AbortController();
    const running: Running = { turnId, abort, done: Promise.resolve() };
    s.running = running;
    running.done = this.runTurn(agent, key, s, batch, running, sink)
      .catch((err: unknown) => this.o.log.error({ err, session: key }, 'llm turn failed unexpectedly'))
      .finally(() => {
        s.running = undefined;
        const next = s.queue.splice(0);
        if (next.length && !this.stopping) this.startTurn(agent, key, s, next, sink);
      });
  }

  private async runTurn(agent: AgentSpec, key: string, s: LlmSession, batch: HarnessMessage[], r: Running, sink: RoomEventSink): Promise<void> {
    const { turnId } = r;
    const threadId = `llm:${key}`;
    const itemId = `${turnId}:message`;
    const model = this.modelOf(agent, key);
    const at = () => this.now();
    sink({ type: 'turn.started', session: key, at: at(), turnId, threadId, model });
    let text = '';
    try {
      const records = await this.o.history(key);
      const fresh = batch.map((m) => ({ role: 'user' as const, content: cleanMessageText(m.text) }));
      const input = [...historyInput(records, batch, this.llm.historyMessages), ...fresh];
      this.o.onModelInput?.({ session: key, threadId, turnId, model, steered: false, input: fresh.map((m) => ({ type: 'text', text: m.content, text_elements: [] })) });
      const result = await streamResponse(this.client, { model: llmModelName(model), instructions: agent.developerInstructions, input }, r.abort.signal, (delta) => {
        text += delta;
        sink({ type: 'message.delta', session: key, at: at(), turnId, itemId, delta });
      }, this.endpoint.baseUrl);
      if (result.text) sink({ type: 'message.completed', session: key, at: at(), turnId, itemId, text: result.text });
      if (result.usage) sink({ type: 'usage', session: key, at: at(), turnId, usage: { ...result.usage } });
      sink({ type: 'turn.completed', session: key, at: at(), turnId, threadId, ...(result.usage ? { usage: result.usage } : {}) });
    } catch (err) {
      const e = err instanceof LlmTurnError ? err : new LlmTurnError((err as Error).message, undefined, r.abort.signal.aborted);
      // What the person already saw streaming stays in the history, marked partial.
      if (text) sink({ type: 'message.completed', session: key, at: at(), turnId, itemId, text, partial: true });
      if (e.aborted) {
        sink({ type: 'turn.interrupted', session: key, at: at(), turnId, threadId, reason: this.stopping ? 'Switchboard is stopping' : 'stopped' });
      } else {
        this.o.log.warn({ session: key, turnId, status: e.status, err: e.message }, 'llm turn failed');
        sink({ type: 'notice', session: key, at: at(), level: 'error', text: `The llm backend could not answer: ${e.message}` });
        sink({ type: 'turn.failed', session: key, at: at(), turnId, threadId, error: e.message });
      }
    }
  }
}

/** Some agent may run on the llm backend: it is enabled, or a runtime or fallback names it. */
export function llmWanted(config: Pick<SwitchboardConfig, 'llm' | 'agents'>): boolean {
  const d = config.agents.defaults.embeddedHarness;
  const named = [d.runtime, d.fallback, ...config.agents.list.flatMap((a) => [a.embeddedHarness?.runtime, a.embeddedHarness?.fallback])];
  return config.llm.enabled || named.includes('llm');
}
