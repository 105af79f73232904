// The world a scenario runs in: the production Codex stack (built by the composition root
// from the scenario's config) on a scripted app-server, the room's dispatch with production's
// access rules, and virtual time (the injected SimClock) that only moves when the script says so.
import { createActor, type InspectionEvent } from 'xstate';
import type { Connection, ConnectionStatus } from '../connection/connection.js';
import type { ApprovalRouter } from '../approvals/router.js';
import type { ApprovalAudit } from '../approvals/types.js';
import type { SessionManager } from '../session/manager.js';
import { MemoryBindingStore } from '../session/bindings.js';
import { bindingOf } from '../session/actors.js';
import type { RoomEvent, RoomEventSink } from '../events/room-events.js';
import { createLogger } from '../log/logger.js';
import type { AgentSpec } from '../supervisor/harness.js';
import { buildCodexStack, type CodexStack } from '../stack/codex-stack.js';
import { flushMicrotasks, type SimClock } from './clock.js';
import { ScriptedAppServer, type InboxEntry } from './peer.js';
import type { Scenario, Step } from './scenario.js';
import type { Divergence, DivergenceKind, FinalStates, RunOptions, RunResult } from './runner.js';
import { participant, scenarioAgent, simulatedTool, stackSettingsFromScenario, type Participant } from './scenario-stack.js';
import { SimAccess } from './sim-access.js';
import { runStep } from './steps.js';
import { checkEvents, checkFinal, checkUnexpected } from './checks.js';
import { json, stepMessage, strip } from './format.js';
import { mismatch } from './match.js';

export const DEFAULT_UNTIL_MS = 24 * 60 * 60 * 1000;
const TEARDOWN_MS = 10 * 60 * 1000;

export class StepFailure extends Error {
  constructor(
    message: string,
    readonly extra: Partial<Pick<Divergence, 'expected' | 'actual' | 'mismatch' | 'details'>> = {},
  ) {
    super(message);
  }
}

export class World {
  readonly events: RoomEvent[] = [];
  readonly audits: ApprovalAudit[] = [];
  readonly peer: ScriptedAppServer;
  readonly stack: CodexStack;
  readonly conn: Connection;
  readonly router: ApprovalRouter;
  readonly mgr: SessionManager;
  readonly agent: AgentSpec;
  readonly user: Participant;
  readonly access: SimAccess;
  readonly sink: RoomEventSink;
  private readonly store = new MemoryBindingStore();
  readonly held = new Map<string, InboxEntry>();
  readonly serverRequests = new Map<string, string | number>();
  nextServerId = 0;
  untilCursor = 0;
  shutDown = false;
  readonly key: string;

  constructor(
    readonly s: Scenario,
    readonly clock: SimClock,
    ids: () => string,
    readonly opts: RunOptions,
    inspect: ((ev: InspectionEvent) => void) | undefined,
  ) {
    const log = opts.log ?? createLogger({ level: 'silent' });
    const c = s.config;
    this.sink = (e: RoomEvent): void => {
      this.events.push(e);
      this.peer.frames.push({ t: this.clock.elapsed, dir: 'event', process: this.peer.process, text: `room: ${e.type}` });
    };
    this.peer = new ScriptedAppServer({ ...s.server, now: () => clock.elapsed });
    this.access = new SimAccess(log, () => clock.now());
    this.agent = scenarioAgent(c);
    this.stack = buildCodexStack(stackSettingsFromScenario(c), {
      transport: { kind: 'custom', open: this.peer.factory, description: 'simulated app-server' },
      sink: this.sink,
      bindings: () => this.store,
      owners: this.access,
      log,
      spawnedByParent: true,
      clock,
      ids,
      ...(inspect ? { inspect } : {}),
    });
    this.conn = this.stack.connection;
    this.router = this.stack.router;
    this.mgr = this.stack.manager(this.agent);
    // The simulator plays the supervisor: it spawns the connection's own logic.
    const actor = createActor(this.conn.logic, { id: 'connection', input: this.conn.connectionInput(), clock, ...(inspect ? { inspect } : {}) });
    actor.start();
    this.conn.adopt(actor);
    this.router.audit$.subscribe((x) => this.audits.push(x));
    for (const t of c.tools) this.router.registerTool(simulatedTool(t, clock));
    this.user = participant(c.room.user);
    this.key = this.stack.keyOf({ room: c.room.room, channel: c.room.channel, thread: c.room.thread, from: this.user });
  }

  async setup(): Promise<void> {
    for (const b of this.s.config.bindings) {
      await this.store.save(bindingOf(b.key ?? this.key, b.threadId, b.model ?? undefined, this.s.config.session.cwd, undefined, this.clock.now()));
    }
    if (this.s.config.approvals.owner !== undefined) await this.access.seed(this.key, this.s.config.approvals.owner);
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
    const target = this.clock.now() + ms;
    await this.settle();
    for (let i = 0; i < 1_000_000; i++) {
      const next = this.clock.next();
      if (!next || next.at > target) break;
      this.clock.advanceTo(next.at);
      await this.settle();
    }
    this.clock.advanceTo(target);
    await this.settle();
  }

  /** Run until `pred` holds, moving time timer by timer for at most `within` ms. */
  async waitFor(pred: () => boolean, within: number): Promise<boolean> {
    await this.settle();
    if (pred()) return true;
    const deadline = this.clock.now() + within;
    for (let i = 0; i < 1_000_000; i++) {
      const next = this.clock.next();
      if (!next || next.at > deadline) return false;
      this.clock.advanceTo(next.at);
      await this.settle();
      if (pred()) return true;
    }
    return pred();
  }

  /** Drive `p` to completion with virtual time (teardown). */
  async drive(p: Promise<unknown>, maxMs = TEARDOWN_MS): Promise<boolean> {
    let done = false;
    p.then(
      () => (done = true),
      () => (done = true),
    );
    return this.waitFor(() => done, maxMs);
  }

  // ---------------------------------------------------------------- run

  async run(): Promise<Omit<RunResult, 'trace' | 'inspected'>> {
    let divergence: Divergence | undefined;
    let stepsRun = 0;
    try {
      for (let i = 0; i < this.s.steps.length; i++) {
        const step = this.s.steps[i]!;
        try {
          await runStep(this, step);
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
      if (!divergence) divergence = checkUnexpected(this);
      if (!divergence) divergence = checkEvents(this);
      const finalStates = this.finalStates();
      if (!divergence && this.s.expect.final) divergence = checkFinal(this, this.s.expect.final, finalStates, 'final');
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
      details: this.clock.errors.map((e: unknown) => String((e as Error)?.stack ?? e)),
    });
  }

  // ---------------------------------------------------------------- room

  reply(entry: InboxEntry, answer: { result?: unknown; error?: unknown }): void {
    if (entry.process !== this.peer.process || !this.peer.alive) {
      throw new StepFailure(`cannot answer ${entry.method}: the app-server process that received it (#${entry.process}) is gone`);
    }
    this.peer.reply(entry.id, answer);
  }

  async post(text: string, from: string | { id: string; name?: string | undefined } | undefined, thread: string | undefined): Promise<void> {
    const r = this.s.config.room;
    try {
      await this.access.post(this.stack, this.agent, this.sink, { room: r.room, channel: r.channel, thread: thread ?? r.thread, from: participant(from ?? r.user), text });
    } catch (err) {
      throw new StepFailure(`posting ${json(text)} failed: ${(err as Error).message}`);
    }
  }

  async decide(step: Extract<Step, { decide: string }>): Promise<void> {
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
      by: step.by ?? this.access.ownerOf(this.key) ?? this.user.id,
      decision: step.decide,
      ...(step.content !== undefined ? { content: step.content } : {}),
      ...(step.reason !== undefined ? { reason: step.reason } : {}),
    });
    const expected = step.result ?? { ok: true };
    const m = mismatch(result, expected);
    if (m) throw new StepFailure(`decide ${step.decide} on ${pick.e.kind} prompt [${pick.index}] returned ${json(result)}`, { expected, actual: result, mismatch: m });
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

  async teardown(): Promise<void> {
    if (this.shutDown) return;
    this.shutDown = true;
    await this.drive(this.mgr.stop({ interrupt: false }));
    this.router.dispose('simulation over');
    await this.drive(this.conn.stop());
  }

  divergence(kind: DivergenceKind, message: string, extra: Partial<Divergence>): Divergence {
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
