// `switchboard join --url`: bridges a local supervisor to a remote room server as the room's
// agent participant, authenticated with an agent credential. When the room server restarts
// or the link drops it reconnects (capped exponential backoff + jitter) and rejoins; room
// events produced meanwhile are buffered (bounded) and sent in order once it is back.
import WebSocket from 'ws';
import type { Subscription } from 'rxjs';
import type { Logger } from 'pino';
import type { RoomEvent } from '../events/room-events.js';
import type { Role } from '../auth/names.js';
import { CloseCodes } from './protocol.js';

/** What the agent drives: the supervisor's embedding API. */
export interface AgentTarget {
  readonly events$: { subscribe(fn: (e: RoomEvent) => void): Subscription };
  post(m: { room: string; channel: string; thread: string; from: { id: string; name?: string; role?: Role }; text: string; attachments?: Array<Record<string, unknown>> }): Promise<unknown>;
  /** A Promise when the decision waits on another node (several nodes). */
  decide(d: { approvalId: string; by: string; role?: Role; decision: string; content?: unknown; room?: string }): Decided | Promise<Decided>;
}
type Decided = { ok: true } | { ok: false; reason: string };

export interface AgentClientOptions {
  url: string;
  room: string;
  /** An agent credential for `room` (switchboard token --role agent). */
  token: string;
  log?: Logger;
  /** First retry delay, cap of the delay, and how long to keep trying before giving up (ms). */
  retryInitialMs?: number;
  retryMaxMs?: number;
  giveUpAfterMs?: number;
  /** Room events kept while disconnected (oldest dropped beyond it). */
  maxBufferedEvents?: number;
}

// A refused credential will not get better by retrying.
const FATAL = new Set<number>([CloseCodes.unauthorized, CloseCodes.forbidden, CloseCodes.badJoin]);

export class AgentClient {
  private ws: WebSocket | undefined;
  private sub: Subscription | undefined;
  private joined = false;
  private stopped = false;
  private attempt = 0;
  private downSince = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly buffer: string[] = [];
  private dropped = 0;
  private settleDone!: (err: Error) => void;
  /** Resolves with the reason when the client gives up reconnecting. */
  readonly done: Promise<Error> = new Promise((r) => (this.settleDone = r));

  constructor(
    private readonly sb: AgentTarget,
    private readonly o: AgentClientOptions,
  ) {}

  /** Resolves once joined; rejects with the close reason when the room refuses us or cannot be reached. */
  connect(): Promise<void> {
    this.sub ??= this.sb.events$.subscribe((e) => {
      if (e.session.split('/', 1)[0] === this.o.room) this.emit(JSON.stringify({ type: 'agent.event', event: e }));
    });
    return new Promise((resolve, reject) => this.open(resolve, reject));
  }

  private emit(frame: string): void {
    const ws = this.ws;
    if (this.joined && ws?.readyState === WebSocket.OPEN) return ws.send(frame);
    this.buffer.push(frame);
    if (this.buffer.length > (this.o.maxBufferedEvents ?? 10_000)) {
      this.buffer.shift();
      this.dropped++;
    }
  }

  private open(onJoined?: () => void, onRefused?: (err: Error) => void): void {
    const ws = new WebSocket(this.o.url);
    this.ws = ws;
    let joined = false;
    let failure: Error | undefined;
    ws.on('open', () => ws.send(JSON.stringify({ type: 'join', token: this.o.token, room: this.o.room })));
    ws.on('error', (err) => (failure = new Error(`cannot reach room server ${this.o.url}: ${err.message}`)));
    ws.on('close', (code, reasonBuf) => {
      const reason = String(reasonBuf);
      this.joined = false;
      if (this.ws !== ws || this.stopped) return;
      const err = Object.assign(failure && code === 1006 ? failure : new Error(`room refused the join (${code}): ${reason || 'closed'}`), { code });
      if (onRefused && !joined) return onRefused(err);
      if (FATAL.has(code)) return this.giveUp(err);
      this.o.log?.warn({ code, reason }, 'room connection lost; reconnecting');
      this.retry(err);
    });
    ws.on('message', (data) => {
      let f: Record<string, unknown>;
      try {
        f = JSON.parse(String(data)) as Record<string, unknown>;
      } catch {
        return;
      }
      if (f.type === 'joined') {
        const role = (f.participant as { role?: string } | undefined)?.role;
        if (role !== 'agent') {
          // A member credential would join as a user: never act as the agent with it.
          failure = undefined;
          this.stopped = true;
          ws.close();
          const err = Object.assign(new Error(`the credential is not an agent credential (role ${String(role)}); mint one with --role agent`), { code: CloseCodes.forbidden });
          if (onRefused) onRefused(err);
          else this.giveUp(err);
          return;
        }
        joined = true;
        this.joined = true;
        this.attempt = 0;
        this.downSince = 0;
        if (this.dropped) this.o.log?.warn({ dropped: this.dropped }, 'room events dropped while disconnected (buffer full)');
        this.dropped = 0;
        // In order, before any new event: emit() only sends directly once the buffer is empty.
        for (const frame of this.buffer.splice(0)) ws.send(frame);
        onJoined?.();
        onJoined = undefined;
        onRefused = undefined;
      } else if (f.type === 'agent.message') {
        const m = f.message as Parameters<AgentTarget['post']>[0];
        this.sb.post(m).catch((err: unknown) => this.o.log?.error({ err: (err as Error).message }, 'post from room failed'));
      } else if (f.type === 'agent.decide') {
        const answer = (r: Decided) => ws.send(JSON.stringify({ type: 'agent.decided', requestId: f.requestId, ok: r.ok, ...(r.ok ? {} : { reason: r.reason }) }));
        const r = this.sb.decide({ approvalId: String(f.approvalId), by: String(f.by), ...(typeof f.role === 'string' ? { role: f.role as Role } : {}), decision: String(f.decision), content: f.content, room: this.o.room });
        if ('then' in r) void r.then(answer, (err: unknown) => answer({ ok: false, reason: `not decided: ${(err as Error).message}` }));
        else answer(r);
      } else if (f.type === 'error') {
        this.o.log?.warn({ error: String(f.error).slice(0, 300) }, 'room server error');
      }
    });
  }

  private retry(last: Error): void {
    const now = Date.now();
    this.downSince ||= now;
    const giveUp = this.o.giveUpAfterMs ?? 300_000;
    if (now - this.downSince >= giveUp) {
      return this.giveUp(new Error(`gave up reconnecting to ${this.o.url} after ${Math.round(giveUp / 1000)} s: ${last.message}`));
    }
    const cap = this.o.retryMaxMs ?? 10_000;
    const base = Math.min(cap, (this.o.retryInitialMs ?? 250) * 2 ** this.attempt++);
    // Full jitter in [base/2, base]: many agents restarting together do not retry in lockstep.
    const delay = Math.min(base / 2 + Math.random() * (base / 2), Math.max(0, this.downSince + giveUp - now));
    this.timer = setTimeout(() => {
      if (this.stopped) return;
      this.open(undefined, (err) => (FATAL.has((err as Error & { code?: number }).code ?? 0) ? this.giveUp(err) : this.retry(err)));
    }, delay);
  }

  private giveUp(err: Error): void {
    this.o.log?.error({ err: err.message }, 'relay agent stopped');
    this.close();
    this.settleDone(err);
  }

  close(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.sub?.unsubscribe();
    this.ws?.close();
  }
}
