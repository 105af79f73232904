// The page's WebSocket to the room server (same origin). Joins with the credential; after a
// drop it rejoins with `resume:{epoch,seq}` (the last event it saw) after an exponential,
// jittered backoff capped near 10 s, so the server replays exactly what was missed; if the
// server cannot (new epoch, gap too old) the joined frame says `resumed:false` and the store
// rebuilds from history. Events at or below the seq already seen are dropped: nothing doubles.
import { parseFrame, type ServerFrame } from './frames.js';
import type { LinkStatus } from './state/types.js';

export interface JoinTarget {
  token: string;
  room?: string | undefined;
  channel?: string | undefined;
  thread?: string | undefined;
}

export interface LinkOptions extends JoinTarget {
  url: string;
  onFrame(f: ServerFrame): void;
  onStatus(s: LinkStatus, detail?: string): void;
  /** The credential was refused (close 4401): the page asks for another. */
  onRejected?(reason: string): void;
  createSocket?: (url: string) => WebSocket;
  random?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (t: unknown) => void;
}

/** WebSocket.OPEN (not read from the global, so the link runs under any WebSocket-like socket). */
const OPEN = 1;
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 10_000;
/** The history page a (non-resumed) join asks for. */
const JOIN_HISTORY = 500;

/** Close codes after which retrying cannot help (src/room/protocol.ts CloseCodes). */
const FINAL: Record<number, string> = {
  4400: 'The server refused the join',
  4401: 'The credential was refused',
  4403: 'This credential is not allowed here',
  4409: 'The room refused this participant',
};

/** Delay before reconnect attempt `n` (0-based): 0.5 s doubling, capped at 10 s, half of it jittered. */
export function backoffMs(attempt: number, random: () => number): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 10));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

export class Link {
  private ws: WebSocket | undefined;
  private epoch: string | undefined;
  private seq = 0;
  private attempt = 0;
  private joined = false;
  private everJoined = false;
  private stopped = false;
  private timer: unknown;
  private readonly random: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (t: unknown) => void;

  constructor(private readonly o: LinkOptions) {
    this.random = o.random ?? Math.random;
    this.setTimer = o.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = o.clearTimer ?? ((t) => clearTimeout(t as ReturnType<typeof setTimeout>));
  }

  get online(): boolean {
    return this.joined;
  }

  start(): void {
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimer(this.timer);
    this.ws?.close(1000, 'page closed');
  }

  /** The network came back: do not wait out the backoff. */
  nudge(): void {
    if (this.stopped || this.ws) return;
    this.clearTimer(this.timer);
    this.connect();
  }

  /** Sends a frame once joined; false when the socket is not usable (the caller keeps the input). */
  send(frame: Record<string, unknown>): boolean {
    const ws = this.ws;
    if (!ws || !this.joined || ws.readyState !== OPEN) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  private connect(): void {
    this.o.onStatus(this.everJoined ? 'reconnecting' : 'connecting');
    let ws: WebSocket;
    try {
      ws = (this.o.createSocket ?? ((u) => new WebSocket(u)))(this.o.url);
    } catch (err) {
      this.retry(`cannot open the socket: ${(err as Error).message}`);
      return;
    }
    this.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify(this.joinFrame()));
    ws.onmessage = (m) => {
      if (ws !== this.ws || typeof m.data !== 'string') return;
      const f = parseFrame(m.data);
      if (f) this.receive(f);
    };
    ws.onclose = (ev) => {
      if (ws !== this.ws) return;
      this.ws = undefined;
      this.joined = false;
      if (this.stopped) return;
      const final = FINAL[ev.code];
      if (final) {
        const reason = ev.reason ? `${final}: ${ev.reason}` : final;
        this.o.onStatus('failed', reason);
        if (ev.code === 4401) this.o.onRejected?.(reason);
        return;
      }
      this.retry(ev.reason || `connection closed (${ev.code})`);
    };
  }

  private joinFrame(): Record<string, unknown> {
    const { token, room, channel, thread } = this.o;
    return {
      type: 'join',
      token,
      ...(room ? { room } : {}),
      ...(channel ? { channel } : {}),
      ...(thread ? { thread } : {}),
      ...(this.epoch !== undefined ? { resume: { epoch: this.epoch, seq: this.seq } } : {}),
      historyLimit: JOIN_HISTORY,
    };
  }

  private receive(f: ServerFrame): void {
    if (f.type === 'joined') {
      // Resumed: the missed events follow and move `seq` on. Not resumed: start from the server's seq.
      if (!f.resumed || f.epoch !== this.epoch) this.seq = f.seq;
      this.epoch = f.epoch;
      this.joined = true;
      this.everJoined = true;
      this.attempt = 0;
      this.o.onFrame(f);
      return;
    }
    if (f.type === 'event') {
      if (f.seq <= this.seq) return;
      this.seq = f.seq;
    }
    this.o.onFrame(f);
  }

  private retry(detail: string): void {
    const delay = backoffMs(this.attempt++, this.random);
    this.o.onStatus('offline', detail);
    this.timer = this.setTimer(() => this.connect(), delay);
  }
}
