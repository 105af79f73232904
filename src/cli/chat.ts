// `switchboard chat`: a terminal client of the room server.
//
// Joins a room over the JSON protocol of `src/room/protocol.ts`, prints the room's history,
// then live events: the assistant's answer streamed as it arrives, one line per tool event,
// notices, and how each turn ended. Approval prompts are answered with one key (raw mode on
// a TTY; a line when stdin is not a terminal); forms and questions are answered field by
// field. Every other typed line is posted as a message (slash commands included: the room's
// host handles them). `/quit` or Ctrl-D leaves.
//
// Exit codes: 0 left normally, 1 the connection was lost or the room server went away,
// 2 usage error or cannot connect, 3 the join was refused (bad or missing token), 130 Ctrl-C.
import { createInterface, type Interface } from 'node:readline';
import WebSocket from 'ws';
import { ClientFrameSchema, CloseCodes } from '../room/protocol.js';
import {
  approvalLines,
  choiceKeys,
  choiceMenu,
  colorWanted,
  fit,
  formFieldAsk,
  formFieldPrompt,
  formFieldsOf,
  formFieldValue,
  historyLines,
  makeStyle,
  matchChoice,
  noticeLine,
  paint,
  questionAnswer,
  questionPrompt,
  questionsOf,
  resolvedLine,
  toolFailed,
  toolLine,
  turnEndLine,
  type Line,
  type Style,
} from './chat-render.js';

export interface ChatOptions {
  /** Room to join. */
  room: string;
  /** Room server URL, as printed by `switchboard room serve` / `join` (default: $SWITCHBOARD_ROOM_URL). */
  url?: string;
  /** Room token (default: $SWITCHBOARD_ROOM_TOKEN). */
  token?: string;
  /** Display name. */
  name?: string;
  /** Participant id (default: $USER, else "you"). */
  id?: string;
  /** Channel messages go to; also limits history and live events to it (default: chat). */
  channel?: string;
  /** Thread messages go to; also limits history and live events to it (default: main). */
  thread?: string;
}

export interface ChatIO {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Where fatal errors (cannot connect, refused) go; default: `output` when io is given, else stderr. */
  errors?: NodeJS.WritableStream;
}

export const ChatExit = { ok: 0, lost: 1, usage: 2, cannotConnect: 2, refused: 3, interrupted: 130 } as const;

const CONNECT_TIMEOUT_MS = 10_000;
const JOIN_TIMEOUT_MS = 15_000;
/** After stdin ends mid-turn (piped input), how long to wait for the room without any event. */
const DRAIN_IDLE_MS = 60_000;

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** A participant id from $USER: the protocol allows no slashes or spaces. */
function defaultId(env: NodeJS.ProcessEnv): string {
  const user = (env.USER ?? env.USERNAME ?? '').replace(/[/\s]+/g, '-').slice(0, 200);
  return user || 'you';
}

export async function chatCommand(opts: ChatOptions, io?: ChatIO): Promise<number> {
  const input = io?.input ?? process.stdin;
  const output = io?.output ?? process.stdout;
  const errors = io?.errors ?? (io ? output : process.stderr);
  const env = process.env;
  const style = makeStyle(colorWanted(output, env));
  const errStyle = makeStyle(colorWanted(errors, env));
  const fail = (code: number, text: string): number => {
    errors.write(`${errStyle.red(text)}\n`);
    return code;
  };

  const url = opts.url ?? env.SWITCHBOARD_ROOM_URL;
  if (!url) {
    return fail(ChatExit.usage, 'no room server URL: pass --url ws://HOST:PORT (printed by `switchboard room serve` or `switchboard join`) or set SWITCHBOARD_ROOM_URL');
  }
  if (!/^wss?:\/\//i.test(url)) return fail(ChatExit.usage, `--url must be a ws:// or wss:// URL, got "${url}"`);
  const join = ClientFrameSchema.safeParse({
    type: 'join',
    room: opts.room,
    participant: { id: opts.id ?? defaultId(env), ...(opts.name ? { name: opts.name } : {}), role: 'owner' },
    ...((opts.token ?? env.SWITCHBOARD_ROOM_TOKEN) ? { token: opts.token ?? env.SWITCHBOARD_ROOM_TOKEN } : {}),
    ...(opts.channel ? { channel: opts.channel } : {}),
    ...(opts.thread ? { thread: opts.thread } : {}),
  });
  if (!join.success || join.data.type !== 'join') {
    const flag: Record<string, string> = { room: '--room', 'participant.id': '--id', 'participant.name': '--name', channel: '--channel', thread: '--thread', token: '--token' };
    const problems = join.success ? [] : join.error.issues.map((i) => `${flag[i.path.join('.')] ?? i.path.join('.')}: ${i.message}`);
    return fail(ChatExit.usage, `invalid chat options: ${problems.join('; ')}`);
  }
  const joinFrame = join.data;

  // Connect.
  let ws: WebSocket;
  try {
    ws = new WebSocket(url, { handshakeTimeout: CONNECT_TIMEOUT_MS });
  } catch (err) {
    return fail(ChatExit.cannotConnect, `cannot connect to ${url}: ${(err as Error).message}`);
  }
  const opened = await new Promise<Error | undefined>((resolve) => {
    const onOpen = () => settle(undefined);
    const onError = (err: Error) => settle(err);
    const onClose = (code: number, reason: Buffer) => settle(new Error(`closed (${code}${String(reason) ? `: ${String(reason)}` : ''})`));
    const settle = (r: Error | undefined) => {
      ws.off('open', onOpen).off('error', onError).off('close', onClose);
      resolve(r);
    };
    ws.on('open', onOpen).on('error', onError).on('close', onClose);
  });
  if (opened) {
    ws.on('error', () => {});
    ws.terminate();
    const errno = (opened as NodeJS.ErrnoException).code;
    const detail = errno === 'ECONNREFUSED' ? 'connection refused (is the room server running?)' : opened.message || errno || String(opened);
    return fail(ChatExit.cannotConnect, `cannot connect to ${url}: ${detail}`);
  }

  // Join: `joined`, an `error` frame, or a close with a reason.
  const pending: string[] = [];
  ws.on('error', () => {}); // the close that follows says what happened
  const joined = await new Promise<{ frame: Json } | { code: number; text: string }>((resolve) => {
    const timer = setTimeout(() => resolve({ code: ChatExit.lost, text: `no answer to the join from ${url}` }), JOIN_TIMEOUT_MS);
    const done = (r: { frame: Json } | { code: number; text: string }) => {
      clearTimeout(timer);
      resolve(r);
    };
    ws.on('message', (data) => {
      const text = String(data);
      let frame: Json | undefined;
      try {
        frame = obj(JSON.parse(text));
      } catch {
        frame = undefined;
      }
      if (frame?.type === 'joined') done({ frame });
      else if (frame?.type === 'error') done({ code: ChatExit.usage, text: `join failed: ${str(frame.error) ?? 'unknown error'}` });
      else pending.push(text); // events racing the `joined` frame: handled after it
    });
    ws.once('close', (code, reason) => {
      const why = String(reason) || `connection closed (code ${code})`;
      if (code === CloseCodes.unauthorized) done({ code: ChatExit.refused, text: `join refused: ${why}` });
      else if (code === CloseCodes.badJoin) done({ code: ChatExit.usage, text: `join refused: ${why}` });
      else done({ code: ChatExit.lost, text: `the room server closed the connection before the join completed: ${why}` });
    });
    ws.send(JSON.stringify(joinFrame));
  });
  ws.removeAllListeners('message');
  ws.removeAllListeners('close');
  if ('code' in joined) {
    ws.terminate();
    return fail(joined.code, joined.text);
  }

  const interactive = Boolean((input as Partial<NodeJS.ReadStream>).isTTY && (output as Partial<NodeJS.WriteStream>).isTTY);
  const term = new Terminal(input, output, interactive, style);
  const session = new ChatSession(ws, term, style, {
    room: joinFrame.room,
    participant: joinFrame.participant,
    channel: opts.channel,
    thread: opts.thread,
    interactive,
  });
  return session.run(joined.frame, pending);
}

// ---------------------------------------------------------------------------------------
// The session: room frames in, terminal lines out, typed lines and keys back to the room.

interface SessionInfo {
  room: string;
  participant: { id: string; name?: string; role: string };
  channel: string | undefined;
  thread: string | undefined;
  interactive: boolean;
}

interface Approval {
  approvalId: string;
  event: Json;
}

class ChatSession {
  private finish!: (code: number) => void;
  private finished = false;
  private readonly myChannel: string;
  private readonly myThread: string;
  private readonly mySession: string;
  private readonly who: string;
  /** Streamed text per message item, to complete it without repeating what was shown. */
  private readonly streamed = new Map<string, string>();
  private readonly queue: Approval[] = [];
  private active: { approvalId: string; abort: AbortController } | undefined;
  private readonly decidedByMe = new Map<string, string>();
  /** What we wait for after posting: a turn to start, then to end (for piped input). */
  private awaiting: 'idle' | 'sent' | 'turn' = 'idle';
  private inputEnded = false;
  private drainTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly term: Terminal,
    private readonly style: Style,
    private readonly info: SessionInfo,
  ) {
    this.myChannel = info.channel ?? 'chat';
    this.myThread = info.thread ?? 'main';
    this.mySession = `${info.room}/${this.myChannel}/${this.myThread}`;
    this.who = info.participant.name ?? info.participant.id;
  }

  run(joined: Json, pending: string[]): Promise<number> {
    const done = new Promise<number>((resolve) => (this.finish = resolve));
    this.term.onLine = (line) => this.onTyped(line);
    this.term.onEnd = (why) => this.onInputEnd(why);
    this.term.start();

    const history = Array.isArray(joined.history) ? joined.history : [];
    if (history.length) {
      this.term.line(this.style.dim(`── history of ${this.info.room} (${history.length} record${history.length === 1 ? '' : 's'}) ──`));
      for (const rec of history) {
        const r = obj(rec);
        const tag = this.tagOf(str(r?.session));
        for (const l of historyLines(rec, this.info.participant.id)) this.print({ ...l, text: tag + l.text });
      }
    }
    const role = str(obj(joined.participant)?.role) ?? this.info.participant.role;
    this.term.line(
      this.style.dim(`── joined ${this.info.room} as ${this.who} (${role}); posting to ${this.myChannel}/${this.myThread} · /quit or Ctrl-D to leave ──`),
    );

    this.ws.on('message', (data) => this.onFrame(String(data)));
    this.ws.on('close', (code, reason) => {
      if (this.finished) return;
      const why = String(reason);
      if (code === CloseCodes.shuttingDown) this.end(ChatExit.lost, `the room server shut down${why ? `: ${why}` : ''}`);
      else this.end(ChatExit.lost, `connection to the room server lost (code ${code}${why ? `: ${why}` : ''})`);
    });
    for (const text of pending) this.onFrame(text);
    return done;
  }

  private end(code: number, message?: string): void {
    if (this.finished) return;
    this.finished = true;
    if (message) this.term.line(code === ChatExit.ok ? this.style.dim(message) : this.style.red(message));
    this.active?.abort.abort();
    clearTimeout(this.drainTimer);
    this.term.stop();
    this.ws.removeAllListeners('message');
    this.ws.removeAllListeners('close');
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.close(1000, 'bye');
      // Do not wait for the closing handshake of a peer that does not answer.
      setTimeout(() => this.ws.terminate(), 1000).unref();
    }
    this.finish(code);
  }

  private send(frame: Json): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) {
      this.print({ text: '✗ not connected: nothing sent', tone: 'red' });
      return false;
    }
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  private print(l: Line, key?: { key: string; replace?: boolean }): void {
    const width = this.info.interactive ? this.term.columns : undefined;
    // On a terminal a tool line must stay one row so it can be rewritten in place.
    const text = key && width ? fit(l.text, width - 1) : l.text;
    this.term.line(paint(this.style, { ...l, text }), key);
  }

  // ----- typed input

  private onTyped(line: string): void {
    const text = line.trim();
    if (!text) return;
    if (text === '/quit' || text === '/exit') {
      this.end(ChatExit.ok);
      return;
    }
    if (line.length > 100_000) {
      this.print({ text: '✗ message too long (100000 characters at most): not sent', tone: 'red' });
      return;
    }
    this.print({ text: `${this.who}: ${line}`, tone: 'cyan' });
    if (this.send({ type: 'message', channel: this.myChannel, thread: this.myThread, text: line })) {
      if (this.awaiting === 'idle') this.awaiting = 'sent';
    }
  }

  private onInputEnd(why: 'eof' | 'interrupt'): void {
    if (why === 'interrupt') {
      this.end(ChatExit.interrupted);
      return;
    }
    this.inputEnded = true;
    // A person pressed Ctrl-D: leave now. Piped input: let the answer to it arrive first.
    if (this.info.interactive || this.awaiting === 'idle') {
      this.end(ChatExit.ok);
      return;
    }
    this.print({ text: '· input ended; waiting for the turn to finish', tone: 'dim' });
    this.armDrain();
  }

  private armDrain(): void {
    clearTimeout(this.drainTimer);
    this.drainTimer = setTimeout(() => this.end(ChatExit.ok, '· nothing more from the room; leaving'), DRAIN_IDLE_MS);
  }

  private settle(state: 'idle' | 'turn'): void {
    this.awaiting = state;
    if (state === 'idle' && this.inputEnded) this.end(ChatExit.ok);
  }

  // ----- frames from the room

  private onFrame(text: string): void {
    if (this.finished) return;
    let frame: Json | undefined;
    try {
      frame = obj(JSON.parse(text));
    } catch {
      frame = undefined;
    }
    if (!frame) {
      this.print({ text: `✗ unreadable frame from the room server: ${text.slice(0, 200)}`, tone: 'red' });
      return;
    }
    if (this.inputEnded) this.armDrain();
    switch (frame.type) {
      case 'event': {
        const e = obj(frame.event);
        if (e && typeof e.type === 'string') this.onEvent(e);
        return;
      }
      case 'decided': {
        const id = str(frame.approvalId) ?? '?';
        const choice = this.decidedByMe.get(id);
        this.decidedByMe.delete(id);
        if (frame.ok === true) this.print({ text: `→ decision ${choice ? `"${choice}" ` : ''}for ${id} accepted`, tone: 'green' });
        else this.print({ text: `✗ decision ${choice ? `"${choice}" ` : ''}for ${id} refused: ${str(frame.reason) ?? 'no reason given'}`, tone: 'red' });
        return;
      }
      case 'error':
        this.print({ text: `✗ error: ${str(frame.error) ?? JSON.stringify(frame.error)}`, tone: 'red' });
        if (this.awaiting === 'sent') this.settle('idle');
        return;
      case 'joined':
        return;
      default:
        this.print({ text: `· unknown frame from the room server: ${String(frame.type)}`, tone: 'dim' });
    }
  }

  /** `[channel/thread] ` for events outside the conversation we post to. */
  private tagOf(session: string | undefined): string {
    if (!session || session === this.mySession) return '';
    const rest = session.split('/').slice(1).join('/');
    return `[${rest || session}] `;
  }

  private wanted(session: string | undefined): boolean {
    if (!session) return true;
    const [room, channel, thread] = session.split('/');
    if (room !== this.info.room) return false;
    if (this.info.channel && channel !== this.info.channel) return false;
    if (this.info.thread && thread !== this.info.thread) return false;
    return true;
  }

  private onEvent(e: Json): void {
    const session = str(e.session);
    if (!this.wanted(session)) return;
    const mine = session === undefined || session === this.mySession;
    const tag = this.tagOf(session);
    switch (e.type) {
      case 'message.delta': {
        const itemId = str(e.itemId) ?? 'message';
        const delta = str(e.delta) ?? '';
        this.streamed.set(itemId, (this.streamed.get(itemId) ?? '') + delta);
        this.term.stream(itemId, `${tag}assistant: `, delta);
        return;
      }
      case 'message.completed': {
        const itemId = str(e.itemId) ?? 'message';
        const text = str(e.text) ?? '';
        const shown = this.streamed.get(itemId);
        this.streamed.delete(itemId);
        if (shown !== undefined) {
          if (text.length > shown.length && text.startsWith(shown)) this.term.stream(itemId, `${tag}assistant: `, text.slice(shown.length));
          this.term.endStream(itemId);
        } else {
          this.print({ text: `${tag}assistant: ${text}`, tone: 'plain' });
        }
        if (mine && this.awaiting === 'sent') this.settle('idle'); // an answer without a turn (a command reply)
        return;
      }
      case 'tool.started':
      case 'tool.completed': {
        const phase = e.type === 'tool.started' ? 'started' : 'completed';
        const line = toolLine(e, phase);
        if (!line) return;
        const tone = phase === 'completed' && toolFailed(e) ? 'red' : 'dim';
        this.print({ text: tag + line, tone }, { key: `tool:${str(e.toolId) ?? ''}`, replace: phase === 'completed' });
        return;
      }
      case 'tool.updated':
      case 'usage':
        return;
      case 'approval.requested': {
        const approvalId = str(e.approvalId);
        if (!approvalId) return;
        if (this.active?.approvalId === approvalId || this.queue.some((a) => a.approvalId === approvalId)) return;
        this.queue.push({ approvalId, event: e });
        this.pump();
        return;
      }
      case 'approval.resolved': {
        const approvalId = str(e.approvalId) ?? '';
        const l = resolvedLine(e);
        let dropped = false;
        const queued = this.queue.findIndex((a) => a.approvalId === approvalId);
        if (queued >= 0) {
          this.queue.splice(queued, 1);
          dropped = true;
        }
        if (this.active?.approvalId === approvalId) {
          this.active.abort.abort();
          dropped = true;
        }
        this.print({ ...l, text: `${tag}${l.text}${dropped ? ' (prompt dropped)' : ''}` });
        return;
      }
      case 'notice': {
        const l = noticeLine(e.level, e.text);
        this.print({ ...l, text: tag + l.text });
        if (mine && this.awaiting === 'sent') this.settle('idle'); // a command answered with a notice
        return;
      }
      case 'turn.started':
        if (mine && this.awaiting !== 'idle') this.settle('turn');
        return;
      case 'turn.completed':
      case 'turn.failed':
      case 'turn.interrupted': {
        const l = turnEndLine(e);
        this.print({ ...l, text: tag + l.text });
        if (mine) this.settle('idle');
        return;
      }
      default:
        return;
    }
  }

  // ----- approvals, one at a time

  private pump(): void {
    if (this.active || this.finished) return;
    const next = this.queue.shift();
    if (!next) {
      this.term.hold(false);
      return;
    }
    const abort = new AbortController();
    this.active = { approvalId: next.approvalId, abort };
    this.term.hold(true);
    void this.runApproval(next, abort.signal)
      .catch((err: unknown) => this.print({ text: `✗ approval prompt failed: ${(err as Error).message}`, tone: 'red' }))
      .finally(() => {
        this.active = undefined;
        this.pump();
      });
  }

  private async runApproval(a: Approval, signal: AbortSignal): Promise<void> {
    const e = a.event;
    const tag = this.tagOf(str(e.session));
    const kind = str(e.kind) ?? '';
    const detail = obj(e.detail) ?? {};
    const choices = Array.isArray(e.choices) ? e.choices.filter((c): c is string => typeof c === 'string') : [];
    const lines = approvalLines(e);
    this.print({ text: tag + lines[0]!, tone: 'yellow' });
    for (const l of lines.slice(1)) this.print({ text: l, tone: 'plain' });
    if (e.reviewer === 'guardian' || choices.length === 0) {
      this.print({ text: '  (nothing to decide here)', tone: 'dim' });
      return;
    }

    if (kind === 'userInput') {
      const content: Record<string, string> = {};
      for (const q of questionsOf(detail)) {
        for (const l of questionPrompt(q)) this.print({ text: l, tone: 'plain' });
        for (;;) {
          const typed = await this.ask('line', `${q.id}: `, signal, q.isSecret);
          if (typed === undefined) return;
          const r = questionAnswer(q, typed);
          if (r.value !== undefined) {
            content[q.id] = r.value;
            break;
          }
          this.print({ text: `  ${r.problem}`, tone: 'yellow' });
        }
      }
      this.decide(a.approvalId, choices.includes('answer') ? 'answer' : choices[0]!, content);
      return;
    }

    const keys = choiceKeys(choices, detail);
    this.print({ text: `  ${choiceMenu(keys)}`, tone: 'plain' });
    const ask = `choose ${keys.map((k) => k.key).join('/')}: `;
    let picked: (typeof keys)[number] | undefined;
    while (!picked) {
      const typed = await this.ask('key', ask, signal);
      if (typed === undefined) return;
      picked = matchChoice(keys, typed);
      if (!picked) this.print({ text: `  press one of ${keys.map((k) => k.key).join(', ')}`, tone: 'yellow' });
    }
    this.print({ text: `  → ${picked.label}`, tone: 'dim' });

    if (kind === 'mcpForm' && picked.choice === 'accept') {
      const fields = formFieldsOf(detail);
      const content: Record<string, unknown> = {};
      for (const f of fields) {
        for (const l of formFieldPrompt(f)) this.print({ text: l, tone: 'plain' });
        for (;;) {
          const typed = await this.ask('line', formFieldAsk(f), signal);
          if (typed === undefined) return;
          const r = formFieldValue(f, typed);
          if (r.problem) {
            this.print({ text: `  ${r.problem}`, tone: 'yellow' });
            continue;
          }
          if (r.value !== undefined) content[f.name] = r.value;
          break;
        }
      }
      this.decide(a.approvalId, 'accept', content);
      return;
    }
    this.decide(a.approvalId, picked.choice);
  }

  private async ask(kind: 'key' | 'line', prompt: string, signal: AbortSignal, secret = false): Promise<string | undefined> {
    const typed = await this.term.ask(kind, prompt, { signal, secret });
    if (typed === undefined && this.inputEnded && !signal.aborted && !this.finished) {
      this.print({ text: '  (input has ended: not answering; someone else in the room may decide)', tone: 'dim' });
    }
    return typed;
  }

  private decide(approvalId: string, decision: string, content?: unknown): void {
    this.decidedByMe.set(approvalId, decision);
    this.send({ type: 'approval.decide', approvalId, decision, ...(content !== undefined ? { content } : {}) });
  }
}

// ---------------------------------------------------------------------------------------
// The terminal: output lines above a prompt, streamed text, and input.
//
// Interactive (stdin and stdout are TTYs): raw mode and a small line editor, so a prompt can
// take one key, the typed line survives output printed above it, and nothing is echoed twice.
// Otherwise: lines in (readline), plain text out, no escape sequences.

interface Ask {
  kind: 'key' | 'line';
  prompt: string;
  secret: boolean;
  buf: string;
  resolve: (v: string | undefined) => void;
}

class Terminal {
  onLine: (line: string) => void = () => {};
  onEnd: (why: 'eof' | 'interrupt') => void = () => {};

  private rl: Interface | undefined;
  private started = false;
  private stopped = false;
  private ended = false;
  /** The message being typed (interactive). */
  private readonly msg = { buf: '' };
  private ask_: Ask | undefined;
  /** Lines typed while an approval flow is between two questions. */
  private held = false;
  private readonly heldLines: string[] = [];
  /** Keys pressed (interactive) while an approval flow is between two questions. */
  private heldKeys = '';
  // Output state.
  private promptRows = 0;
  private stream_: string | undefined;
  private midLine = false;
  private lastKey: string | undefined;
  private esc = 0;
  private lastCR = false;
  private readonly onData = (chunk: string | Buffer) => this.feed(String(chunk));

  constructor(
    private readonly input: NodeJS.ReadableStream,
    private readonly output: NodeJS.WritableStream,
    private readonly interactive: boolean,
    private readonly style: Style,
  ) {}

  get columns(): number | undefined {
    return (this.output as Partial<NodeJS.WriteStream>).columns || undefined;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    if (this.interactive) {
      const tty = this.input as NodeJS.ReadStream;
      tty.setRawMode(true);
      tty.setEncoding('utf8');
      tty.on('data', this.onData);
      tty.resume();
      this.showPrompt();
    } else {
      this.rl = createInterface({ input: this.input, terminal: false, crlfDelay: Infinity });
      this.rl.on('line', (line) => this.deliver(line));
      this.rl.on('close', () => this.eof());
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.hidePrompt();
    if (this.midLine) this.write('\n');
    this.midLine = false;
    const a = this.ask_;
    this.ask_ = undefined;
    a?.resolve(undefined);
    if (this.interactive) {
      const tty = this.input as NodeJS.ReadStream;
      tty.removeListener('data', this.onData);
      try {
        tty.setRawMode(false);
      } catch {
        // the terminal is gone
      }
      tty.pause();
    } else {
      this.rl?.removeAllListeners();
      this.rl?.close();
    }
  }

  /** While held, lines nobody asked for wait for the next question instead of being posted. */
  hold(on: boolean): void {
    this.held = on;
    if (on) return;
    for (const l of this.heldLines.splice(0)) this.onLine(l);
    const keys = this.heldKeys;
    this.heldKeys = '';
    if (keys) this.feed(keys);
  }

  /** One key (interactive) or one line; undefined when aborted or input ended. */
  ask(kind: 'key' | 'line', prompt: string, opts: { signal?: AbortSignal; secret?: boolean } = {}): Promise<string | undefined> {
    if (this.stopped || opts.signal?.aborted) return Promise.resolve(undefined);
    if (!this.interactive) {
      this.line(prompt.trimEnd());
      const queued = this.heldLines.shift();
      if (queued !== undefined) return Promise.resolve(queued);
    }
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const onAbort = () => {
        if (this.ask_ !== ask) return;
        this.hidePrompt();
        this.ask_ = undefined;
        this.showPrompt();
        resolve(undefined);
      };
      const ask: Ask = {
        kind: this.interactive ? kind : 'line',
        prompt,
        secret: opts.secret ?? false,
        buf: '',
        resolve: (v) => {
          opts.signal?.removeEventListener('abort', onAbort);
          resolve(v);
        },
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.hidePrompt();
      this.ask_ = ask;
      this.showPrompt();
      // Keys typed ahead (between two questions of one prompt) answer this one.
      const keys = this.heldKeys;
      this.heldKeys = '';
      if (keys) this.feed(keys);
    });
  }

  // ----- output

  private write(s: string): void {
    if (s) this.output.write(s);
  }

  /** A whole line, printed above the prompt. `replace` rewrites the previous line of the same key. */
  line(text: string, key?: { key: string; replace?: boolean }): void {
    this.hidePrompt();
    if (this.midLine) this.write('\n');
    this.midLine = false;
    this.stream_ = undefined;
    if (this.interactive && key?.replace && this.lastKey === key.key) this.write('\x1b[1A\r\x1b[2K');
    this.write(`${text}\n`);
    this.lastKey = key?.key;
    this.showPrompt();
  }

  /** Streamed text (an answer arriving): inline, the label once per stream. */
  stream(key: string, label: string, text: string): void {
    this.hidePrompt();
    if (this.stream_ !== key) {
      if (this.midLine) this.write('\n');
      this.write(this.style.bold(label));
      this.stream_ = key;
      this.midLine = true;
    }
    if (text) {
      this.write(text);
      this.midLine = !text.endsWith('\n');
    }
    this.lastKey = undefined;
  }

  endStream(key: string): void {
    if (this.stream_ !== key) return;
    if (this.midLine) this.write('\n');
    this.midLine = false;
    this.stream_ = undefined;
    this.showPrompt();
  }

  private promptText(): string {
    const a = this.ask_;
    if (a) {
      const shown = a.secret ? '*'.repeat([...a.buf].length) : a.buf;
      return this.style.yellow(a.prompt) + shown;
    }
    return this.style.bold('> ') + this.msg.buf;
  }

  private showPrompt(): void {
    if (!this.interactive || this.stopped || this.stream_ !== undefined || this.promptRows > 0) return;
    const text = this.promptText();
    this.write(text);
    const cols = this.columns ?? 80;
    const len = [...text.replace(/\x1b\[[0-9;]*m/g, '')].length;
    this.promptRows = Math.max(1, Math.ceil(len / cols) || 1);
  }

  private hidePrompt(): void {
    if (!this.interactive || this.promptRows === 0) return;
    this.write(`\r${this.promptRows > 1 ? `\x1b[${this.promptRows - 1}A` : ''}\x1b[J`);
    this.promptRows = 0;
  }

  private redraw(): void {
    this.hidePrompt();
    this.showPrompt();
  }

  // ----- input

  private deliver(line: string): void {
    const a = this.ask_;
    if (a && a.kind === 'line') {
      this.ask_ = undefined;
      if (this.interactive) this.line(`${this.style.yellow(a.prompt)}${a.secret ? '*'.repeat([...line].length) : line}`);
      a.resolve(line);
      return;
    }
    if (this.held) {
      this.heldLines.push(line);
      return;
    }
    this.onLine(line);
  }

  private eof(): void {
    if (this.ended) return;
    this.ended = true;
    const a = this.ask_;
    this.ask_ = undefined;
    a?.resolve(undefined);
    this.onEnd('eof');
  }

  /** Raw-mode keys: a tiny line editor (printable, Backspace, Ctrl-U, Enter, Ctrl-C, Ctrl-D). */
  private feed(chunk: string): void {
    for (const ch of chunk) {
      if (this.stopped) return;
      // Escape sequences (arrows, function keys) are not supported: skip them whole.
      if (this.esc === 1) {
        this.esc = ch === '[' || ch === 'O' ? 2 : 0;
        continue;
      }
      if (this.esc === 2) {
        if (ch >= '@' && ch <= '~') this.esc = 0;
        continue;
      }
      if (ch === '\x1b') {
        this.esc = 1;
        continue;
      }
      const cr = this.lastCR;
      this.lastCR = ch === '\r';
      if (ch === '\x03') {
        this.onEnd('interrupt');
        return;
      }
      const a = this.ask_;
      if (!a && this.held) {
        this.heldKeys += ch;
        continue;
      }
      if (a?.kind === 'key') {
        if (ch === '\x04') {
          this.eof();
          return;
        }
        if (ch < ' ' || ch === '\x7f') continue;
        this.hidePrompt();
        this.ask_ = undefined;
        this.line(`${this.style.yellow(a.prompt)}${ch}`);
        a.resolve(ch);
        continue;
      }
      const target = a ?? this.msg;
      if (ch === '\r' || ch === '\n') {
        if (ch === '\n' && cr) continue;
        const line = target.buf;
        target.buf = '';
        this.hidePrompt();
        this.deliver(line);
        this.showPrompt();
        continue;
      }
      if (ch === '\x04') {
        if (!target.buf) {
          this.eof();
          return;
        }
        continue;
      }
      if (ch === '\x7f' || ch === '\b') {
        target.buf = [...target.buf].slice(0, -1).join('');
      } else if (ch === '\x15') {
        target.buf = '';
      } else if (ch === '\t') {
        target.buf += ' ';
      } else if (ch < ' ') {
        continue;
      } else {
        target.buf += ch;
      }
      this.redraw();
    }
  }
}
