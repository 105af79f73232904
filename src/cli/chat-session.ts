// The session of `switchboard chat`: room frames in, terminal lines out, typed lines and keys
// back to the room. It outlives a connection: when the socket drops it goes offline (the
// caller reconnects and `attach`es the new socket), and a rejoin prints nothing twice
// (see chat-resume.ts).
import WebSocket from 'ws';
import { ApprovalFlow } from './chat-approvals.js';
import { classifyClose, type Failure, type Joined } from './chat-link.js';
import { fit, guardianLine, historyLines, noticeLine, obj, resolvedLine, str, toolFailed, toolLine, turnEndLine, type Json, type Line } from './chat-render.js';
import { liveSignature, ResumeState, sentSignature } from './chat-resume.js';
import type { Terminal } from './chat-terminal.js';

export const ChatExit = { ok: 0, lost: 1, usage: 2, cannotConnect: 2, refused: 3, interrupted: 130 } as const;

/** After stdin ends mid-turn (piped input), how long to wait for the room without any event. */
const DRAIN_IDLE_MS = 60_000;
const MAX_TYPED = 100_000;

export interface SessionInfo {
  /** The room asked for (shared/open servers); the server's `joined.room` wins. */
  room?: string;
  channel: string | undefined;
  thread: string | undefined;
  interactive: boolean;
}

export class ChatSession {
  readonly done: Promise<number>;
  readonly resume = new ResumeState();
  finished = false;
  inputEnded = false;
  private finish!: (code: number) => void;
  private ws: WebSocket | undefined;
  private room = '';
  private participant: { id: string; name?: string; role: string } = { id: '', role: 'member' };
  private mySession = '';
  private readonly myChannel: string;
  private readonly myThread: string;
  private joins = 0;
  /** Streamed text per message item, to complete it without repeating what was shown. */
  private readonly streamed = new Map<string, string>();
  private readonly decidedByMe = new Map<string, string>();
  private readonly approvals: ApprovalFlow;
  /** What we wait for after posting: a turn to start, then to end (for piped input). */
  private awaiting: 'idle' | 'sent' | 'turn' = 'idle';
  private drainTimer: NodeJS.Timeout | undefined;
  /** Called when the socket drops for a reason worth retrying. */
  onDrop: (f: Failure) => void = () => {};

  constructor(
    readonly term: Terminal,
    private readonly info: SessionInfo,
  ) {
    this.myChannel = info.channel ?? 'chat';
    this.myThread = info.thread ?? 'main';
    this.done = new Promise<number>((resolve) => (this.finish = resolve));
    this.approvals = new ApprovalFlow(this);
    this.term.onLine = (line) => this.onTyped(line);
    this.term.onEnd = (why) => this.onInputEnd(why);
  }

  private get who(): string {
    return this.participant.name ?? this.participant.id;
  }

  /** A joined socket: the first one, or the one a reconnect brought back. */
  attach(j: Joined): void {
    if (this.finished) {
      j.ws.terminate();
      return;
    }
    this.ws = j.ws;
    const joined = j.frame;
    const first = this.joins++ === 0;
    const p = obj(joined.participant);
    if (first) {
      this.room = str(joined.room) ?? this.info.room ?? '';
      this.participant = { id: str(p?.id) ?? '', ...(str(p?.name) ? { name: str(p?.name) } : {}), role: str(p?.role) ?? 'member' };
      this.mySession = `${this.room}/${this.myChannel}/${this.myThread}`;
    }
    const history = Array.isArray(joined.history) ? joined.history : [];
    const resumed = joined.resumed === true && this.resume.epoch !== undefined && str(joined.epoch) === this.resume.epoch;
    if (first) {
      this.term.start();
      const records = this.resume.first(history);
      if (records.length) {
        this.print({ text: `── history of ${this.room} (${records.length} record${records.length === 1 ? '' : 's'}) ──`, tone: 'dim' });
        this.printRecords(records);
      }
      this.print({
        text: `── joined ${this.room} as ${this.who} (${this.participant.role}); posting to ${this.myChannel}/${this.myThread} · /quit or Ctrl-D to leave ──`,
        tone: 'dim',
      });
    } else {
      // Records that show nothing (a completed turn) are not counted as missed.
      const missed = (resumed ? [] : this.resume.unseen(history)).filter((r) => historyLines(r).length > 0);
      this.print({ text: `· back online${missed.length ? `; ${missed.length} missed record${missed.length === 1 ? '' : 's'}:` : ''}`, tone: 'green' }, { key: 'offline', replace: true });
      this.printRecords(missed);
    }
    this.resume.joined(joined);
    // Open approvals: the server lists them; prompts it no longer lists were resolved meanwhile.
    if (Array.isArray(joined.pending)) {
      const events = joined.pending.map(obj).filter((e): e is Json => e !== undefined);
      if (!first) this.approvals.keepOnly(new Set(events.map((e) => str(e.approvalId) ?? '')));
      for (const e of events) if (this.wanted(str(e.session))) this.approvals.request(e);
    }

    j.ws.removeAllListeners('message');
    for (const text of j.early.splice(0)) this.onFrame(text);
    j.ws.on('message', (data) => this.onFrame(String(data)));
    j.ws.on('error', () => {});
    j.ws.on('close', (code, reason) => this.onClose(j.ws, code, String(reason)));
    // Closed between the join and now: the close event is gone; treat it as a drop.
    if (j.ws.readyState !== WebSocket.OPEN) this.onClose(j.ws, 1006, '');
  }

  private printRecords(records: Json[]): void {
    for (const r of records) {
      const tag = this.tagOf(str(r.session));
      for (const l of historyLines(r, this.participant.id)) this.print({ ...l, text: tag + l.text });
    }
  }

  private onClose(ws: WebSocket, code: number, reason: string): void {
    if (this.finished || ws !== this.ws) return;
    this.ws = undefined;
    ws.removeAllListeners('message');
    const f = classifyClose(code, reason);
    if (f.kind === 'refused') return this.end(ChatExit.refused, f.text);
    if (f.kind === 'usage') return this.end(ChatExit.usage, f.text);
    for (const key of [...this.streamed.keys()]) this.term.endStream(key);
    this.streamed.clear();
    this.onDrop(f);
  }

  /** Shown while reconnecting; rewritten in place on a terminal. */
  offline(text: string): void {
    if (!this.finished) this.print({ text, tone: 'yellow' }, { key: 'offline', replace: true });
  }

  end(code: number, message?: string): void {
    if (this.finished) return;
    this.finished = true;
    if (message) this.print({ text: message, tone: code === ChatExit.ok ? 'dim' : 'red' });
    this.approvals.stop();
    clearTimeout(this.drainTimer);
    this.term.stop();
    const ws = this.ws;
    this.ws = undefined;
    if (ws) {
      ws.removeAllListeners('message');
      ws.removeAllListeners('close');
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) {
        ws.close(1000, 'bye');
        // Do not wait for the closing handshake of a peer that does not answer.
        setTimeout(() => ws.terminate(), 1000).unref();
      }
    }
    this.finish(code);
  }

  private send(frame: Json): boolean {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) {
      this.print({ text: '✗ offline: nothing sent (reconnecting; try again when back online)', tone: 'red' });
      return false;
    }
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  print(l: Line, key?: { key: string; replace?: boolean }): void {
    const width = this.info.interactive ? this.term.columns : undefined;
    // On a terminal a keyed line must stay one row so it can be rewritten in place.
    this.term.line(key && width ? { ...l, text: fit(l.text, width - 1) } : l, key);
  }

  decide(approvalId: string, decision: string, content?: unknown): boolean {
    this.decidedByMe.set(approvalId, decision);
    return this.send({ type: 'approval.decide', approvalId, decision, ...(content !== undefined ? { content } : {}) });
  }

  // ----- typed input

  private onTyped(line: string): void {
    const text = line.trim();
    if (!text) return;
    if (text === '/quit' || text === '/exit') return this.end(ChatExit.ok);
    if (line.length > MAX_TYPED) {
      this.print({ text: `✗ message too long (${MAX_TYPED} characters at most): not sent`, tone: 'red' });
      return;
    }
    this.print({ text: `${this.who}: ${line}`, tone: 'cyan' });
    if (this.send({ type: 'message', channel: this.myChannel, thread: this.myThread, text: line })) {
      this.resume.remember(sentSignature(this.participant.id, line));
      if (this.awaiting === 'idle') this.awaiting = 'sent';
    }
  }

  private onInputEnd(why: 'eof' | 'interrupt'): void {
    if (why === 'interrupt') return this.end(ChatExit.interrupted);
    this.inputEnded = true;
    // A person pressed Ctrl-D: leave now. Piped input: let the answer to it arrive first.
    if (this.info.interactive || this.awaiting === 'idle') return this.end(ChatExit.ok);
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
    if (!frame) return this.print({ text: `✗ unreadable frame from the room server: ${text.slice(0, 200)}`, tone: 'red' });
    if (this.inputEnded) this.armDrain();
    switch (frame.type) {
      case 'event': {
        const e = obj(frame.event);
        if (!this.resume.acceptLive(frame.seq)) return; // already shown before a resume
        if (e && typeof e.type === 'string') this.onEvent(e);
        return;
      }
      case 'decided': {
        const id = str(frame.approvalId) ?? '?';
        const choice = this.decidedByMe.get(id);
        this.decidedByMe.delete(id);
        const what = `decision ${choice ? `"${choice}" ` : ''}for ${id}`;
        if (frame.ok === true) this.print({ text: `→ ${what} accepted`, tone: 'green' });
        else this.print({ text: `✗ ${what} refused: ${str(frame.reason) ?? 'no reason given'}`, tone: 'red' });
        return;
      }
      case 'error': {
        const retry = typeof frame.retryAfterMs === 'number' ? ` (retry in ${Math.ceil(frame.retryAfterMs / 1000)}s)` : '';
        this.print({ text: `✗ error: ${str(frame.error) ?? JSON.stringify(frame.error)}${retry}`, tone: 'red' });
        if (this.awaiting === 'sent') this.settle('idle');
        return;
      }
      case 'joined':
      case 'history':
        return;
      default:
        this.print({ text: `· unknown frame from the room server: ${String(frame.type)}`, tone: 'dim' });
    }
  }

  /** `[channel/thread] ` for events outside the conversation we post to. */
  tagOf(session: string | undefined): string {
    if (!session || session === this.mySession) return '';
    const rest = session.split('/').slice(1).join('/');
    return `[${rest || session}] `;
  }

  private wanted(session: string | undefined): boolean {
    if (!session) return true;
    const [room, channel, thread] = session.split('/');
    if (room !== this.room) return false;
    if (this.info.channel && channel !== this.info.channel) return false;
    if (this.info.thread && thread !== this.info.thread) return false;
    return true;
  }

  private onEvent(e: Json): void {
    const session = str(e.session);
    if (!this.wanted(session)) return;
    const mine = session === undefined || session === this.mySession;
    const tag = this.tagOf(session);
    this.resume.remember(liveSignature(e));
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
        if (e.partial === true) this.print({ text: `${tag}(partial answer: the turn stopped before it finished)`, tone: 'yellow' });
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
      case 'message.posted': {
        // Someone else's message (mine is already on screen as I typed it), by its verified author.
        const from = obj(e.from);
        if (str(from?.id) === this.participant.id) return;
        for (const l of historyLines({ kind: 'message', role: 'user', author: from, text: e.text })) this.print({ ...l, text: tag + l.text });
        return;
      }
      case 'approval.requested':
        this.approvals.request(e);
        return;
      case 'guardian.review': {
        const l = guardianLine(e);
        this.print({ ...l, text: tag + l.text }, { key: `guardian:${str(e.reviewId) ?? ''}`, replace: e.status !== 'inProgress' });
        return;
      }
      case 'approval.resolved': {
        const l = resolvedLine(e);
        const dropped = this.approvals.drop(str(e.approvalId) ?? '');
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
}
