// The simulated app-server: an in-memory transport the Connection opens like a process.
// Each open is a new "process" (its own handshake, hang and crash state). Client frames
// are logged; requests are answered by the auto-handshake or a rule, or wait in the inbox
// until a script step (`expect`) consumes them. Answers to server requests are kept by id.
import type { Transport, TransportExit, TransportFactory, TransportHandlers } from '../transport/types.js';
import { TransportError } from '../transport/types.js';
import type { ProcessConfig, Rule } from './scenario.js';
import { matches } from './match.js';

export interface FrameLogEntry {
  /** Virtual ms since the run started. */
  t: number;
  dir: 'client→server' | 'server→client' | 'event';
  process: number;
  text: string;
}

export interface InboxEntry {
  id: string | number;
  method: string;
  params: unknown;
  process: number;
  /** Received while that process was hung (never answered). */
  hung: boolean;
  consumed: boolean;
}

export interface ClientAnswer {
  id: string | number;
  result?: unknown;
  error?: unknown;
  t: number;
}

interface SimProcess {
  n: number;
  config: Required<Pick<ProcessConfig, 'userAgent' | 'handshake'>> & ProcessConfig;
  handlers: TransportHandlers;
  alive: boolean;
  hung: boolean;
}

export interface PeerOptions {
  userAgent: string;
  handshake: 'auto' | 'manual';
  processes: ProcessConfig[];
  rules: Rule[];
  now: () => number;
}

export class ScriptedAppServer {
  readonly frames: FrameLogEntry[] = [];
  readonly inbox: InboxEntry[] = [];
  /** Every client request method, in arrival order. */
  readonly requestMethods: string[] = [];
  readonly answers = new Map<string, ClientAnswer>();
  private current: SimProcess | undefined;
  private opens = 0;
  private readonly ruleUses = new Map<number, number>();
  /** Resolves pending `open()`s that hang; kept so nothing is garbage-collected mid-run. */
  private readonly hangingOpens: Array<Promise<Transport>> = [];

  constructor(private readonly opts: PeerOptions) {}

  get process(): number {
    return this.current?.n ?? 0;
  }

  get alive(): boolean {
    return this.current?.alive === true;
  }

  private log(dir: FrameLogEntry['dir'], text: string, process = this.process): void {
    this.frames.push({ t: this.opts.now(), dir, process, text });
  }

  readonly factory: TransportFactory = async (handlers) => {
    const n = ++this.opens;
    const per = this.opts.processes[n - 1] ?? {};
    const config = { ...per, userAgent: per.userAgent ?? this.opts.userAgent, handshake: per.handshake ?? this.opts.handshake };
    if (config.refuse) {
      this.log('event', `process #${n} refused to start: ${config.refuse.reason}`, n);
      throw new TransportError({ kind: config.refuse.kind ?? 'spawn-error', reason: config.refuse.reason, retryable: config.refuse.retryable });
    }
    if (config.hangOpen) {
      this.log('event', `process #${n} hangs while starting`, n);
      const never = new Promise<Transport>(() => {});
      this.hangingOpens.push(never);
      return never;
    }
    const proc: SimProcess = { n, config, handlers, alive: true, hung: false };
    this.current = proc;
    this.log('event', `process #${n} started`, n);
    const transport: Transport = {
      pid: 1000 + n,
      description: `simulated app-server #${n}`,
      send: (text) => {
        if (!proc.alive) return;
        this.receive(proc, text);
      },
      close: () => {
        if (!proc.alive) return Promise.resolve();
        if (proc.config.ignoreClose) {
          this.log('event', `process #${n} ignores the close request`, n);
          return new Promise<void>(() => {});
        }
        return new Promise<void>((resolve) => {
          queueMicrotask(() => {
            this.end(proc, { kind: 'exit', code: 0, signal: null, retryable: false, intentional: true, reason: 'closed by Switchboard' });
            resolve();
          });
        });
      },
    };
    return transport;
  };

  private receive(proc: SimProcess, text: string): void {
    this.log('client→server', text, proc.n);
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    const id = msg.id as string | number | undefined;
    if (typeof msg.method === 'string' && id !== undefined) {
      this.requestMethods.push(msg.method);
      this.onRequest(proc, id, msg.method, msg.params);
    } else if (id !== undefined && ('result' in msg || 'error' in msg)) {
      this.answers.set(String(id), { id, result: msg.result, error: msg.error, t: this.opts.now() });
    }
    // Client notifications (`initialized`) are only logged.
  }

  private onRequest(proc: SimProcess, id: string | number, method: string, params: unknown): void {
    if (!proc.hung) {
      if (method === 'initialize' && proc.config.handshake === 'auto') {
        this.replyLater(proc, { id, result: this.initializeResult(proc) });
        return;
      }
      const rule = this.findRule(method, params);
      if (rule) {
        this.replyLater(proc, rule.error ? { id, error: rule.error } : { id, result: rule.result });
        return;
      }
    }
    this.inbox.push({ id, method, params, process: proc.n, hung: proc.hung, consumed: false });
  }

  initializeResult(proc: SimProcess | undefined = this.current): Record<string, unknown> {
    return { userAgent: proc?.config.userAgent ?? this.opts.userAgent, codexHome: '/sim/codex-home', platformFamily: 'unix', platformOs: 'linux' };
  }

  private findRule(method: string, params: unknown): Rule | undefined {
    for (let i = 0; i < this.opts.rules.length; i++) {
      const r = this.opts.rules[i]!;
      if (r.method !== method) continue;
      if (r.params !== undefined && !matches(params, r.params)) continue;
      const used = this.ruleUses.get(i) ?? 0;
      if (r.times !== undefined && used >= r.times) continue;
      this.ruleUses.set(i, used + 1);
      return r;
    }
    return undefined;
  }

  /** Answers go out asynchronously, like a real server's. */
  private replyLater(proc: SimProcess, frame: Record<string, unknown>): void {
    queueMicrotask(() => {
      if (proc.alive && proc === this.current) this.deliver(proc, JSON.stringify(frame));
    });
  }

  private deliver(proc: SimProcess, text: string): void {
    this.log('server→client', text, proc.n);
    proc.handlers.onLine(text);
  }

  /** The first unconsumed request of `method` (matching `params`), consumed. */
  take(method: string, params: unknown): InboxEntry | undefined {
    const e = this.inbox.find((x) => !x.consumed && x.method === method && (params === undefined || matches(x.params, params)));
    if (e) e.consumed = true;
    return e;
  }

  unconsumed(): InboxEntry[] {
    return this.inbox.filter((x) => !x.consumed);
  }

  /** Send a frame (object or raw line) to the client from the current process. */
  push(frame: unknown): boolean {
    const proc = this.current;
    if (!proc?.alive) return false;
    this.deliver(proc, typeof frame === 'string' ? frame : JSON.stringify(frame));
    return true;
  }

  /** Answer request `id` (consumed earlier) from the current process. */
  reply(id: string | number, answer: { result?: unknown; error?: unknown }): boolean {
    return this.push(answer.error !== undefined ? { id, error: answer.error } : { id, result: answer.result ?? {} });
  }

  /** The current process dies. */
  crash(exit: Partial<TransportExit>): boolean {
    const proc = this.current;
    if (!proc?.alive) return false;
    const code = exit.code === undefined ? (exit.signal ? null : 1) : exit.code;
    const signal = exit.signal ?? null;
    this.end(proc, {
      kind: exit.kind ?? 'exit',
      code,
      signal,
      retryable: exit.retryable ?? true,
      ...(exit.stderrTail ? { stderrTail: exit.stderrTail } : {}),
      reason: exit.reason ?? `codex app-server exited ${signal ? `on ${signal}` : `with code ${code ?? 'unknown'}`}`,
    });
    return true;
  }

  /** The current process stops answering anything (it stays alive). */
  hang(): boolean {
    const proc = this.current;
    if (!proc?.alive) return false;
    proc.hung = true;
    this.log('event', `process #${proc.n} hangs`, proc.n);
    return true;
  }

  private end(proc: SimProcess, exit: TransportExit): void {
    if (!proc.alive) return;
    proc.alive = false;
    this.log('event', `process #${proc.n} ended: ${exit.reason}`, proc.n);
    proc.handlers.onClose(exit);
  }
}
