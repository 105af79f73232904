// Runs a scenario against the real runtime (Connection, SessionManager, ApprovalRouter and
// their machines), with the app-server and the room played by the script and time virtual.
//
// Time only moves when the script says so (`delay`, `until`, `within`): between steps the
// runner lets promises settle and fires timers that are already due, nothing else. So a
// scenario is deterministic, and a 10-minute timeout costs microseconds.
import { createActor, type InspectionEvent } from 'xstate';
import type { Logger } from 'pino';
import { connectionMachine } from '../../machines/connection.machine.js';
import { sessionMachine } from '../../machines/session.machine.js';
import { approvalMachine } from '../../machines/approval.machine.js';
import { Connection, type ConnectionStatus } from '../connection/connection.js';
import { connectionRuntimes } from '../connection/runtime.js';
import { ApprovalRouter } from '../approvals/router.js';
import { approvalRuntimes } from '../approvals/runtime.js';
import type { ApprovalAudit } from '../approvals/types.js';
import type { ToolCallResult } from '../approvals/tools.js';
import { SessionManager, type SessionStatus } from '../session/manager.js';
import { sessionRuntimes } from '../session/runtime.js';
import { MemoryBindingStore } from '../session/bindings.js';
import { bindingOf } from '../session/actors.js';
import type { RoomEvent } from '../events/room-events.js';
import { createLogger } from '../log/logger.js';
import { createTracer, instrumentMachine, type Tracer } from '../trace/tracer.js';
import { flushMicrotasks, VirtualClock } from './clock.js';
import { matchSubsequence, mismatch, type Mismatch } from './match.js';
import { ScriptedAppServer, type FrameLogEntry, type InboxEntry } from './peer.js';
import { parseScenario, type FinalExpect, type Scenario, type Step } from './scenario.js';

export interface RunOptions {
  /** Write a JSON Lines trace of every actor to this file. */
  trace?: string;
  /** An extra inspection observer (path coverage uses this). */
  inspect?: (ev: InspectionEvent) => void;
  /** Room events shown in a divergence (default 10). */
  lastEvents?: number;
  /** Logger for the runtime (default: silent). */
  log?: Logger;
}

export interface FinalStates {
  connection: string | undefined;
  connectionStatus: ConnectionStatus | undefined;
  session: unknown;
  sessionStatus: SessionStatus | undefined;
  pendingApprovals: number;
  answers: Record<string, { result?: unknown; error?: unknown } | null>;
  audits: ApprovalAudit[];
  requests: string[];
}

export type DivergenceKind = 'step' | 'event' | 'absent' | 'final' | 'unexpected' | 'error';

export interface Divergence {
  kind: DivergenceKind;
  /** One line: what went wrong. */
  message: string;
  /** Index of the failing step (kind `step`). */
  step?: number;
  /** Index of the expected event (kinds `event`, `absent`). */
  index?: number;
  expected?: unknown;
  /** The closest actual value (an event, a state, an answer). */
  actual?: unknown;
  /** Where exactly they differ. */
  mismatch?: Mismatch;
  details: string[];
  /** The last room events, with their indexes. */
  lastEvents: Array<{ index: number; event: RoomEvent }>;
  lastFrames: FrameLogEntry[];
}

export interface RunResult {
  ok: boolean;
  name: string;
  divergence?: Divergence;
  events: RoomEvent[];
  finalStates: FinalStates;
  /** Every frame both ways, with virtual times. */
  frames: FrameLogEntry[];
  /** The trace file written, if any. */
  trace?: string;
  /** Virtual time the run took (ms). */
  virtualMs: number;
  /** Steps executed (all of them unless a step diverged). */
  stepsRun: number;
  /** Whether any inspection observer was installed (false: tracing off, zero cost). */
  inspected: boolean;
}

const SIM_ID = 'sim';
const CONNECTION_ID = 'sim-connection';
const DEFAULT_UNTIL_MS = 24 * 60 * 60 * 1000;
const TEARDOWN_MS = 10 * 60 * 1000;

let queue: Promise<unknown> = Promise.resolve();

/**
 * Run a scenario (validated here if it is not already). Runs are serialized: the virtual
 * clock replaces process-wide timers while a run is in progress.
 */
export function runScenario(scenario: Scenario | unknown, opts: RunOptions = {}): Promise<RunResult> {
  // Always validated (and defaulted): parsing a parsed scenario gives the same scenario.
  const s = parseScenario(scenario);
  const run = queue.then(() => runExclusive(s, opts));
  queue = run.catch(() => undefined);
  return run;
}

async function runExclusive(s: Scenario, opts: RunOptions): Promise<RunResult> {
  const clock = new VirtualClock(s.config.startAt, s.config.seed);
  // Leftovers of an earlier run that died mid-way would block the fixed ids.
  connectionRuntimes.unregister(CONNECTION_ID);
  sessionRuntimes.unregister(SIM_ID);
  approvalRuntimes.unregister(SIM_ID);
  clock.install();
  let tracer: Tracer | undefined;
  try {
    tracer = opts.trace ? createTracer(opts.trace) : undefined;
    const inspect = combine(tracer, opts.inspect);
    const world = new World(s, clock, opts, inspect);
    await world.setup();
    const result = await world.run();
    return { ...result, inspected: inspect !== undefined, ...(opts.trace ? { trace: opts.trace } : {}) };
  } finally {
    tracer?.close();
    clock.uninstall();
  }
}

function combine(a: ((ev: InspectionEvent) => void) | undefined, b: ((ev: InspectionEvent) => void) | undefined) {
  if (a && b) return (ev: InspectionEvent) => (a(ev), b(ev));
  return a ?? b;
}

type Participant = { id: string; name: string };
const participant = (p: string | { id: string; name?: string | undefined }): Participant =>
  typeof p === 'string' ? { id: p, name: p } : { id: p.id, name: p.name ?? p.id };

class StepFailure extends Error {
  constructor(
    message: string,
    readonly extra: Partial<Pick<Divergence, 'expected' | 'actual' | 'mismatch' | 'details'>> = {},
  ) {
    super(message);
  }
}

class World {
  readonly events: RoomEvent[] = [];
  readonly audits: ApprovalAudit[] = [];
  readonly peer: ScriptedAppServer;
  readonly conn: Connection;
  readonly router: ApprovalRouter;
  readonly mgr: SessionManager;
  private readonly store = new MemoryBindingStore();
  private readonly held = new Map<string, InboxEntry>();
  private readonly serverRequests = new Map<string, string | number>();
  private nextServerId = 0;
  private untilCursor = 0;
  private shutDown = false;
  private readonly key: string;
  private readonly owner: string;

  constructor(
    private readonly s: Scenario,
    private readonly clock: VirtualClock,
    private readonly opts: RunOptions,
    inspect: ((ev: InspectionEvent) => void) | undefined,
  ) {
    const log = opts.log ?? createLogger({ level: 'silent' });
    const c = s.config;
    const sink = (e: RoomEvent): void => {
      this.events.push(e);
      this.peer.frames.push({ t: this.clock.elapsed, dir: 'event', process: this.peer.process, text: `room: ${e.type}` });
    };
    this.peer = new ScriptedAppServer({ ...s.server, now: () => clock.elapsed });

    const cc = c.connection;
    const machine = Object.fromEntries(
      Object.entries({
        minVersion: cc.minVersion,
        versionPolicy: cc.versionPolicy,
        handshakeTimeoutMs: cc.handshakeTimeoutMs,
        stopTimeoutMs: cc.stopTimeoutMs,
        backoffBaseMs: cc.backoffBaseMs,
        backoffMaxMs: cc.backoffMaxMs,
        jitter: cc.jitter,
        maxFailures: cc.maxFailures,
        failureWindowMs: cc.failureWindowMs,
      }).filter(([, v]) => v !== undefined),
    );
    this.conn = new Connection({
      id: CONNECTION_ID,
      transport: { kind: 'custom', open: this.peer.factory, description: 'simulated app-server' },
      log,
      machine,
      spawnedByParent: true,
      ...(cc.requestTimeoutMs !== undefined ? { requestTimeoutMs: cc.requestTimeoutMs } : {}),
      ...(cc.methodTimeoutsMs ? { methodTimeoutsMs: cc.methodTimeoutsMs } : {}),
      ...(cc.overloadRetry ? { overloadRetry: cc.overloadRetry } : {}),
      ...(cc.serverRequestBackstopMs !== undefined ? { serverRequestBackstopMs: cc.serverRequestBackstopMs } : {}),
      ...(cc.experimentalApi !== undefined ? { experimentalApi: cc.experimentalApi } : {}),
    });
    const actor = createActor(connectionMachine, { id: 'connection', input: this.conn.connectionInput(), ...(inspect ? { inspect } : {}) });
    actor.start();
    this.conn.adopt(actor);

    const user = participant(c.room.user);
    this.owner = c.approvals.owner ?? user.id;
    const a = c.approvals;
    this.router = new ApprovalRouter({
      id: SIM_ID,
      sink,
      log,
      reviewer: a.reviewer,
      ...(a.escalateTo !== undefined ? { escalateTo: a.escalateTo } : {}),
      ...(a.guardian ? { guardian: a.guardian } : {}),
      ...(a.timeouts ? { timeouts: a.timeouts } : {}),
      ...(inspect ? { machine: instrumentMachine(approvalMachine, inspect) } : {}),
      resolveContext: (threadId) => {
        const ctx = this.mgr.threadContext(threadId);
        if (!ctx) return undefined;
        return { session: ctx.session, owner: a.owner ?? ctx.participants[0]?.id ?? this.owner, approvers: a.approvers };
      },
    });
    this.router.audit$.subscribe((x) => this.audits.push(x));
    for (const t of c.tools) this.router.registerTool(simulatedTool(t));
    this.router.attach(this.conn);

    const sc = c.session;
    const settings = Object.fromEntries(Object.entries(sc).filter(([k, v]) => v !== undefined && k !== 'perParticipant')) as typeof sc;
    this.mgr = new SessionManager({
      id: SIM_ID,
      connection: this.conn,
      sink,
      store: this.store,
      settings,
      approvals: this.router,
      log,
      ...(sc.perParticipant ? { perParticipant: true } : {}),
      ...(inspect ? { machine: instrumentMachine(sessionMachine, inspect) } : {}),
    });
    this.key = this.mgr.keyOf({ room: c.room.room, channel: c.room.channel, thread: c.room.thread, from: user });
  }

  async setup(): Promise<void> {
    for (const b of this.s.config.bindings) {
      await this.store.save(bindingOf(b.key ?? this.key, b.threadId, b.model ?? undefined, this.s.config.session.cwd, undefined));
    }
    // A refused or failed start shows in the connection's state; the script decides what it means.
    this.conn.start().catch(() => undefined);
    await this.settle();
  }

  // ---------------------------------------------------------------- time

  async settle(): Promise<void> {
    for (let i = 0; i < 100_000; i++) {
      await flushMicrotasks();
      if (!this.clock.fireDue()) {
        await flushMicrotasks();
        if (!this.clock.fireDue()) return;
      }
    }
    throw new Error('the runtime never settles: timers keep firing at the same instant');
  }

  /** Advance virtual time by `ms`, firing timers in order. */
  async advance(ms: number): Promise<void> {
    const target = this.clock.now + ms;
    await this.settle();
    for (let i = 0; i < 1_000_000; i++) {
      const next = this.clock.next();
      if (!next || next.at > target) break;
      this.clock.setTime(next.at);
      await this.settle();
    }
    this.clock.setTime(target);
    await this.settle();
  }

  /** Run until `pred` holds, moving time timer by timer for at most `within` ms. */
  async waitFor(pred: () => boolean, within: number): Promise<boolean> {
    await this.settle();
    if (pred()) return true;
    const deadline = this.clock.now + within;
    for (let i = 0; i < 1_000_000; i++) {
      const next = this.clock.next();
      if (!next || next.at > deadline) return false;
      this.clock.setTime(next.at);
      await this.settle();
      if (pred()) return true;
    }
    return pred();
  }

  /** Drive `p` to completion with virtual time (teardown). */
  private async drive(p: Promise<unknown>, maxMs = TEARDOWN_MS): Promise<boolean> {
    let done = false;
    p.then(
      () => (done = true),
      () => (done = true),
    );
    return this.waitFor(() => done, maxMs);
  }

  // ---------------------------------------------------------------- steps

  async run(): Promise<Omit<RunResult, 'trace' | 'inspected'>> {
    let divergence: Divergence | undefined;
    let stepsRun = 0;
    try {
      for (let i = 0; i < this.s.steps.length; i++) {
        const step = this.s.steps[i]!;
        try {
          await this.step(step);
          await this.settle();
          this.checkClockErrors();
        } catch (err) {
          divergence = this.divergence(err instanceof StepFailure ? 'step' : 'error', stepMessage(i, step, err), {
            step: i,
            ...(err instanceof StepFailure ? err.extra : { details: [String((err as Error)?.stack ?? err)] }),
          });
          break;
        }
        stepsRun++;
      }
      await this.settle();
      this.checkClockErrors();
      if (!divergence) divergence = this.checkUnexpected();
      if (!divergence) divergence = this.checkEvents();
      const finalStates = this.finalStates();
      if (!divergence && this.s.expect.final) divergence = this.checkFinal(this.s.expect.final, finalStates, 'final');
      await this.teardown();
      if (!divergence && this.clock.errors.length) divergence = this.clockErrorDivergence();
      return {
        ok: !divergence,
        name: this.s.name,
        ...(divergence ? { divergence } : {}),
        events: this.events,
        finalStates,
        frames: this.peer.frames,
        virtualMs: this.clock.elapsed,
        stepsRun,
      };
    } catch (err) {
      await this.teardown().catch(() => undefined);
      throw err;
    }
  }

  private checkClockErrors(): void {
    if (this.clock.errors.length) throw new Error(`uncaught error in a timer callback: ${String((this.clock.errors[0] as Error)?.stack ?? this.clock.errors[0])}`);
  }

  private clockErrorDivergence(): Divergence {
    return this.divergence('error', `uncaught error in a timer callback: ${String((this.clock.errors[0] as Error)?.message ?? this.clock.errors[0])}`, {
      details: this.clock.errors.map((e) => String((e as Error)?.stack ?? e)),
    });
  }

  private async step(step: Step): Promise<void> {
    if ('post' in step) return this.post(step.post, step.from, step.thread);
    if ('command' in step) return this.post(`/${step.command}${step.arg ? ` ${step.arg}` : ''}`, step.from, undefined);
    if ('decide' in step) return this.decide(step);
    if ('expect' in step) {
      let entry: InboxEntry | undefined;
      const found = await this.waitFor(() => (entry = this.peer.take(step.expect, step.params)) !== undefined, step.within ?? 0);
      if (!found || !entry) {
        const waiting = this.peer.unconsumed();
        throw new StepFailure(`expected the client to send ${step.expect}${step.params !== undefined ? ` with ${json(step.params)}` : ''}, but it did not`, {
          expected: { method: step.expect, params: step.params },
          actual: waiting.map((w) => ({ method: w.method, params: w.params })),
          details: waiting.length
            ? ['client requests not consumed by the script:', ...waiting.map((w) => `  ${w.method} ${json(w.params, 300)}`), ...this.sameMethodHint(step.expect, step.params)]
            : ['the client sent no request the script has not consumed'],
        });
      }
      if (step.respond !== undefined || step.error !== undefined) this.reply(entry, step.error ? { error: step.error } : { result: step.respond });
      else if (step.as) this.held.set(step.as, entry);
      return;
    }
    if ('respond' in step) {
      const entry = this.held.get(step.respond);
      if (!entry) throw new StepFailure(`no request named "${step.respond}" is held (name it with "as" on its expect step)`);
      this.held.delete(step.respond);
      this.reply(entry, step.error ? { error: step.error } : { result: step.result ?? {} });
      return;
    }
    if ('notify' in step) {
      if (!this.peer.push(step.params === undefined ? { method: step.notify } : { method: step.notify, params: step.params })) {
        throw new StepFailure(`cannot send ${step.notify}: no app-server process is running`);
      }
      return;
    }
    if ('request' in step) {
      const id = step.id ?? this.nextServerId++;
      const name = step.as ?? String(id);
      this.serverRequests.set(name, id);
      if (!this.peer.push({ id, method: step.request, params: step.params ?? {} })) {
        throw new StepFailure(`cannot send ${step.request}: no app-server process is running`);
      }
      return;
    }
    if ('answer' in step) {
      const id = this.serverRequests.get(step.answer);
      if (id === undefined) throw new StepFailure(`no server request named "${step.answer}" was sent`);
      if (step.none) {
        const a = this.peer.answers.get(String(id));
        if (a) throw new StepFailure(`expected no answer to ${step.answer}, but the client answered`, { actual: strip(a) });
        return;
      }
      const got = await this.waitFor(() => this.peer.answers.has(String(id)), step.within ?? 0);
      if (!got) throw new StepFailure(`expected the client to answer server request ${step.answer} (id ${String(id)}), but it did not`, { expected: { result: step.result, error: step.error } });
      const a = strip(this.peer.answers.get(String(id))!);
      const expected = { ...(step.result !== undefined ? { result: step.result } : {}), ...(step.error !== undefined ? { error: step.error } : {}) };
      const m = mismatch(a, expected);
      if (m) throw new StepFailure(`the answer to ${step.answer} differs at ${m.path}: ${m.why}`, { expected, actual: a, mismatch: m });
      return;
    }
    if ('send' in step) {
      if (!this.peer.push(step.send)) throw new StepFailure('cannot send: no app-server process is running');
      return;
    }
    if ('malformed' in step) {
      if (!this.peer.push(step.malformed)) throw new StepFailure('cannot send: no app-server process is running');
      return;
    }
    if ('crash' in step) {
      const k = step.crash;
      const ok = this.peer.crash({
        ...(k.code !== undefined ? { code: k.code } : {}),
        ...(k.signal !== undefined ? { signal: k.signal } : {}),
        ...(k.kind ? { kind: k.kind } : {}),
        ...(k.reason ? { reason: k.reason } : {}),
        ...(k.stderr ? { stderrTail: k.stderr } : {}),
        ...(k.retryable !== undefined ? { retryable: k.retryable } : {}),
      });
      if (!ok) throw new StepFailure('cannot crash: no app-server process is running');
      return;
    }
    if ('hang' in step) {
      if (!this.peer.hang()) throw new StepFailure('cannot hang: no app-server process is running');
      return;
    }
    if ('restart' in step) {
      this.conn.restart(step.restart);
      return;
    }
    if ('shutdown' in step) {
      this.shutDown = true;
      await this.drive(this.mgr.stop({ interrupt: step.shutdown.interrupt }));
      this.router.dispose('host shut down');
      await this.drive(this.conn.stop());
      return;
    }
    if ('delay' in step) return this.advance(step.delay);
    if ('until' in step) {
      let at = -1;
      const found = await this.waitFor(() => {
        at = this.events.findIndex((e, i) => i >= this.untilCursor && !mismatch(e, step.until));
        return at >= 0;
      }, step.within ?? DEFAULT_UNTIL_MS);
      if (!found) {
        throw new StepFailure(`no room event matching ${json(step.until)} within ${step.within ?? DEFAULT_UNTIL_MS} ms (virtual)`, {
          expected: step.until,
          ...this.closest(step.until, this.untilCursor),
        });
      }
      this.untilCursor = at + 1;
      return;
    }
    if ('assert' in step) {
      const d = this.checkFinal(step.assert, this.finalStates(), 'assert');
      if (d) throw new StepFailure(d.message, { expected: d.expected, actual: d.actual, ...(d.mismatch ? { mismatch: d.mismatch } : {}) });
      return;
    }
    throw new StepFailure(`unknown step ${json(step)}`);
  }

  private sameMethodHint(method: string, params: unknown): string[] {
    if (params === undefined) return [];
    const same = this.peer.inbox.filter((x) => x.method === method);
    return same.flatMap((x) => {
      const m = mismatch(x.params, params);
      return m ? [`a ${method} ${x.consumed ? 'already consumed' : 'was sent'} but differs at ${m.path}: ${m.why}`] : [];
    });
  }

  private reply(entry: InboxEntry, answer: { result?: unknown; error?: unknown }): void {
    if (entry.process !== this.peer.process || !this.peer.alive) {
      throw new StepFailure(`cannot answer ${entry.method}: the app-server process that received it (#${entry.process}) is gone`);
    }
    this.peer.reply(entry.id, answer);
  }

  private async post(text: string, from: string | { id: string; name?: string | undefined } | undefined, thread: string | undefined): Promise<void> {
    const r = this.s.config.room;
    try {
      this.mgr.post({ room: r.room, channel: r.channel, thread: thread ?? r.thread, from: participant(from ?? r.user), text });
    } catch (err) {
      throw new StepFailure(`posting ${json(text)} failed: ${(err as Error).message}`);
    }
  }

  private async decide(step: Extract<Step, { decide: string }>): Promise<void> {
    const requested = this.events
      .map((e, index) => ({ e, index }))
      .filter((x): x is { e: Extract<RoomEvent, { type: 'approval.requested' }>; index: number } => x.e.type === 'approval.requested');
    const resolved = new Set(this.events.filter((e) => e.type === 'approval.resolved').map((e) => (e as { approvalId: string }).approvalId));
    const sel = step.approval;
    let pick: (typeof requested)[number] | undefined;
    if (typeof sel === 'number') pick = requested[sel];
    else if (sel === 'last') pick = requested.at(-1);
    else {
      const candidates = sel ? requested.filter((x) => !mismatch(x.e, sel)) : requested;
      pick = candidates.find((x) => !resolved.has(x.e.approvalId)) ?? candidates.at(-1);
    }
    if (!pick) {
      throw new StepFailure(`no approval prompt${sel !== undefined ? ` matching ${json(sel)}` : ''} to decide`, {
        details: [`approval.requested events so far: ${requested.length}`],
      });
    }
    const result = this.router.decide({
      approvalId: pick.e.approvalId,
      by: step.by ?? this.owner,
      decision: step.decide,
      ...(step.content !== undefined ? { content: step.content } : {}),
      ...(step.reason !== undefined ? { reason: step.reason } : {}),
    });
    const expected = step.result ?? { ok: true };
    const m = mismatch(result, expected);
    if (m) throw new StepFailure(`decide ${step.decide} on ${pick.e.kind} prompt [${pick.index}] returned ${json(result)}`, { expected, actual: result, mismatch: m });
  }

  // ---------------------------------------------------------------- checks

  private checkUnexpected(): Divergence | undefined {
    if (this.s.server.allowUnexpected) return undefined;
    const left = this.peer.unconsumed().filter((x) => !x.hung);
    if (left.length === 0) return undefined;
    return this.divergence('unexpected', `the client sent ${left.length} request(s) the script never expected: ${left.map((x) => x.method).join(', ')}`, {
      actual: left.map((x) => ({ method: x.method, params: x.params, process: x.process })),
      details: [...left.map((x) => `  ${x.method} ${json(x.params, 300)}`), 'add an "expect" step for each (or a server rule, or server.allowUnexpected)'],
    });
  }

  private checkEvents(): Divergence | undefined {
    const exp = this.s.expect;
    const r = matchSubsequence(this.events, exp.events);
    if (!r.ok) {
      const expected = exp.events[r.failedAt];
      return this.divergence('event', `expected room event #${r.failedAt} was not seen (searched from room event [${r.from}])`, {
        index: r.failedAt,
        expected,
        ...this.closest(expected, r.from),
        details: [
          r.indexes.length ? `matched so far: ${r.indexes.map((idx, e) => `#${e}→[${idx}]`).join(' ')}` : 'no expected event matched before it',
        ],
      });
    }
    for (let a = 0; a < exp.absent.length; a++) {
      const idx = this.events.findIndex((e) => !mismatch(e, exp.absent[a]));
      if (idx >= 0) {
        return this.divergence('absent', `room event [${idx}] matches absent #${a}, which must not appear`, {
          index: a,
          expected: { absent: exp.absent[a] },
          actual: { index: idx, event: this.events[idx] },
          details: [],
        });
      }
    }
    return undefined;
  }

  /** The nearest actual event to an expected one: same type first, from `from` on. */
  private closest(expected: unknown, from: number): Pick<Divergence, 'actual' | 'mismatch' | 'details'> {
    const type = (expected as { type?: unknown } | undefined)?.type;
    const sameType = this.events.map((e, i) => ({ e, i })).filter((x) => x.i >= from && (type === undefined || x.e.type === type));
    const before = this.events.map((e, i) => ({ e, i })).filter((x) => x.i < from && !mismatch(x.e, expected));
    const hints: string[] = [];
    if (before.length) hints.push(`a matching event exists earlier, at [${before.map((x) => x.i).join(', ')}] (the order differs)`);
    if (!sameType.length) {
      hints.push(type !== undefined ? `no "${String(type)}" event at or after [${from}]` : `no event at or after [${from}]`);
      return { details: hints };
    }
    const best = sameType[0]!;
    const m = mismatch(best.e, expected);
    if (m) hints.push(`closest: [${best.i}] differs at ${m.path}: ${m.why}`);
    return { actual: { index: best.i, event: best.e }, ...(m ? { mismatch: m } : {}), details: hints };
  }

  private checkFinal(exp: FinalExpect, actual: FinalStates, kind: 'final' | 'assert'): Divergence | undefined {
    const what = kind === 'final' ? 'final state' : 'asserted state';
    const check = (field: string, expected: unknown, got: unknown): Divergence | undefined => {
      const m = mismatch(got, expected);
      if (!m) return undefined;
      return this.divergence('final', `${what} "${field}" differs at ${m.path}: ${m.why}`, {
        expected: { [field]: expected },
        actual: { [field]: got },
        mismatch: m,
        details: [],
      });
    };
    if (exp.connection !== undefined) {
      const d = check('connection', exp.connection, actual.connection);
      if (d) return d;
    }
    if (exp.connectionStatus) {
      const d = check('connectionStatus', exp.connectionStatus, actual.connectionStatus);
      if (d) return d;
    }
    if (exp.session !== undefined) {
      const d = check('session', exp.session, actual.session);
      if (d) return d;
    }
    if (exp.sessionStatus) {
      const d = check('sessionStatus', exp.sessionStatus, actual.sessionStatus);
      if (d) return d;
    }
    if (exp.pendingApprovals !== undefined) {
      const d = check('pendingApprovals', exp.pendingApprovals, actual.pendingApprovals);
      if (d) return d;
    }
    if (exp.answers) {
      for (const [name, want] of Object.entries(exp.answers)) {
        if (!this.serverRequests.has(name)) {
          return this.divergence('final', `${what} "answers.${name}": no server request of that name was sent`, { details: [] });
        }
        const got = actual.answers[name] ?? null;
        if (want === null) {
          if (got !== null) return this.divergence('final', `${what} "answers.${name}": expected no answer, got one`, { expected: null, actual: got, details: [] });
          continue;
        }
        if (got === null) return this.divergence('final', `${what} "answers.${name}": expected an answer, none was sent`, { expected: want, actual: null, details: [] });
        const d = check(`answers.${name}`, want, got);
        if (d) return d;
      }
    }
    if (exp.audits) {
      const r = matchSubsequence(actual.audits, exp.audits);
      if (!r.ok) {
        return this.divergence('final', `${what} "audits": expected audit #${r.failedAt} not found`, {
          expected: exp.audits[r.failedAt],
          actual: actual.audits.map((a) => ({ kind: a.kind, outcome: a.outcome, decision: a.decision, by: a.by, reason: a.reason })),
          details: [],
        });
      }
    }
    if (exp.requests) {
      const d = check('requests', exp.requests, actual.requests);
      if (d) return d;
    }
    return undefined;
  }

  finalStates(): FinalStates {
    let connectionStatus: ConnectionStatus | undefined;
    try {
      connectionStatus = this.conn.status();
    } catch {
      connectionStatus = undefined;
    }
    const sessionStatus = this.shutDown ? undefined : this.mgr.sessionStatus(this.key);
    const answers: FinalStates['answers'] = {};
    for (const [name, id] of this.serverRequests) {
      const a = this.peer.answers.get(String(id));
      answers[name] = a ? strip(a) : null;
    }
    return {
      connection: connectionStatus?.state,
      connectionStatus,
      session: sessionStatus?.state,
      sessionStatus,
      pendingApprovals: this.shutDown ? 0 : this.router.pending().length,
      answers,
      audits: [...this.audits],
      requests: [...this.peer.requestMethods],
    };
  }

  private async teardown(): Promise<void> {
    if (!this.shutDown) {
      this.shutDown = true;
      await this.drive(this.mgr.stop({ interrupt: false }));
      this.router.dispose('simulation over');
      await this.drive(this.conn.stop());
    }
    // Whatever is left (a stuck stop) must not leak into the next run.
    connectionRuntimes.unregister(CONNECTION_ID);
    sessionRuntimes.unregister(SIM_ID);
    approvalRuntimes.unregister(SIM_ID);
  }

  private divergence(kind: DivergenceKind, message: string, extra: Partial<Divergence>): Divergence {
    const n = this.opts.lastEvents ?? 10;
    const start = Math.max(0, this.events.length - n);
    return {
      kind,
      message,
      details: [],
      ...extra,
      lastEvents: this.events.slice(start).map((event, i) => ({ index: start + i, event })),
      lastFrames: this.peer.frames.filter((f) => f.dir !== 'event').slice(-n),
    };
  }
}

function simulatedTool(t: Scenario['config']['tools'][number]) {
  return {
    name: t.name,
    ...(t.namespace ? { namespace: t.namespace } : {}),
    description: t.description,
    inputSchema: t.inputSchema,
    execute: (_args: unknown, ctx: { signal: AbortSignal }): Promise<ToolCallResult | string> =>
      new Promise<ToolCallResult | string>((resolve, reject) => {
        const finish = (): void => {
          if (t.throws) reject(new Error(t.throws));
          else resolve(t.result as ToolCallResult | string);
        };
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason ?? new Error('aborted')), { once: true });
        if (t.hang) return;
        if (t.delayMs) setTimeout(finish, t.delayMs);
        else finish();
      }),
  };
}

const strip = (a: { result?: unknown; error?: unknown }): { result?: unknown; error?: unknown } =>
  a.error !== undefined ? { error: a.error } : { result: a.result };

function json(v: unknown, max = 200): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? 'undefined';
  } catch {
    s = String(v);
  }
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

function stepMessage(i: number, step: Step, err: unknown): string {
  const verb = Object.keys(step).find((k) => k !== 'note') ?? '?';
  return `step ${i} (${verb}${step.note ? `: ${step.note}` : ''}) failed: ${(err as Error)?.message ?? String(err)}`;
}

// ---------------------------------------------------------------------------------------
// printing

function eventLine(index: number, e: RoomEvent): string {
  const { type, session: _s, at: _a, ...rest } = e as RoomEvent & Record<string, unknown>;
  return `[${index}] ${type} ${json(rest, 240)}`;
}

/** A divergence as the text a person reads: expected vs actual, where, and what happened last. */
export function formatDivergence(d: Divergence, name?: string): string {
  const lines = [`✗ ${name ? `scenario "${name}" ` : ''}diverged (${d.kind}): ${d.message}`];
  if (d.expected !== undefined) lines.push(`  expected: ${json(d.expected, 600)}`);
  if (d.actual !== undefined) {
    const a = d.actual as { index?: unknown; event?: RoomEvent };
    if (typeof a.index === 'number' && a.event) lines.push(`  actual:   ${eventLine(a.index, a.event)}`);
    else lines.push(`  actual:   ${json(d.actual, 600)}`);
  }
  if (d.mismatch) lines.push(`  differs at ${d.mismatch.path}: ${d.mismatch.why}`);
  for (const x of d.details) lines.push(`  ${x}`);
  if (d.lastEvents.length) {
    lines.push(`  last ${d.lastEvents.length} room event(s):`);
    for (const { index, event } of d.lastEvents) lines.push(`    ${eventLine(index, event)}`);
  } else {
    lines.push('  the room saw no events');
  }
  if (d.lastFrames.length) {
    lines.push(`  last ${d.lastFrames.length} frame(s):`);
    for (const f of d.lastFrames) lines.push(`    +${Math.round(f.t)}ms #${f.process} ${f.dir === 'client→server' ? '→' : '←'} ${f.text.length > 200 ? `${f.text.slice(0, 197)}...` : f.text}`);
  }
  return lines.join('\n');
}

/** A one-line summary of a run. */
export function summarize(r: RunResult): string {
  return r.ok
    ? `✓ ${r.name}: ${r.stepsRun} steps, ${r.events.length} room events, ${Math.round(r.virtualMs)} ms virtual`
    : formatDivergence(r.divergence!, r.name);
}
