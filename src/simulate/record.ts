// Record mode: play the room side of a scenario against a REAL app-server (in real time),
// tap the transport to log every frame both ways, and turn the log into a scenario whose
// app-server side is scripted, so it replays without the binary.
//
//   client request        → {"expect": method, "params": …, "respond"/"error": …}
//                           (or "as" + a later {"respond": name} when the answer came later)
//   server notification   → {"notify": method, "params": …}
//   server request        → {"request": method, "id": …, "params": …} and the client's
//                           answer → {"answer": name, "result"/"error": …}
//   unexpected exit       → {"crash": {…}}
//   room steps            → as they were played, in the order they happened
//   room events           → expect.events (volatile fields removed)
import { existsSync, statSync } from 'node:fs';
import type { Logger } from 'pino';
import { Connection } from '../connection/connection.js';
import { DEFAULT_APP_SERVER_ARGS, resolveCodexCommand } from '../connection/codex-command.js';
import { ApprovalRouter } from '../approvals/router.js';
import type { ToolCallResult } from '../approvals/tools.js';
import { SessionManager } from '../session/manager.js';
import { MemoryBindingStore } from '../session/bindings.js';
import { bindingOf } from '../session/actors.js';
import type { RoomEvent } from '../events/room-events.js';
import { createLogger } from '../log/logger.js';
import { stdioTransport } from '../transport/stdio.js';
import { TransportError, type TransportExit, type TransportFactory } from '../transport/types.js';
import { VirtualClock } from './clock.js';
import { mismatch } from './match.js';
import { parseScenario, type Scenario, type Step } from './scenario.js';

export type TapEvent =
  | { kind: 'open'; process: number; t: number }
  | { kind: 'refused'; process: number; t: number; exit: TransportExit }
  | { kind: 'out'; process: number; t: number; text: string }
  | { kind: 'in'; process: number; t: number; text: string }
  | { kind: 'close'; process: number; t: number; exit: TransportExit };

/** Wrap a transport factory so every frame, open and close is reported to `tap`. */
export function tapTransport(open: TransportFactory, tap: (e: TapEvent) => void): TransportFactory {
  let n = 0;
  return async (handlers) => {
    const proc = ++n;
    tap({ kind: 'open', process: proc, t: Date.now() });
    let transport;
    try {
      transport = await open({
        onLine: (text) => {
          tap({ kind: 'in', process: proc, t: Date.now(), text });
          handlers.onLine(text);
        },
        onClose: (exit) => {
          tap({ kind: 'close', process: proc, t: Date.now(), exit });
          handlers.onClose(exit);
        },
      });
    } catch (err) {
      if (err instanceof TransportError) tap({ kind: 'refused', process: proc, t: Date.now(), exit: err.exit });
      throw err;
    }
    const inner = transport;
    return {
      get pid() {
        return inner.pid;
      },
      description: inner.description,
      send: (text: string) => {
        tap({ kind: 'out', process: proc, t: Date.now(), text });
        inner.send(text);
      },
      close: () => inner.close(),
    };
  };
}

export interface RecordOptions {
  /** The scenario whose room steps are played (its app-server steps are ignored). */
  plan: Scenario | unknown;
  /** How to start the real app-server (default: `codex app-server --listen stdio://`). */
  appServer?: { command?: string; args?: string[]; env?: Record<string, string | undefined>; cwd?: string };
  /** Real-time bound on each waiting step and on the final wait for idle (default 60 s). */
  stepTimeoutMs?: number;
  log?: Logger;
}

export interface Recording {
  /** The recorded scenario, ready to write as JSON and replay with runScenario. */
  scenario: Record<string, unknown>;
  tap: TapEvent[];
  events: RoomEvent[];
}

type Entry = { kind: 'tap'; e: TapEvent } | { kind: 'room'; step: Record<string, unknown> } | { kind: 'stop' };

const VOLATILE = new Set(['at', 'approvalId', 'expiresAt']);

/** A room event as an expectation: the fields that replay identically. */
export function eventExpectation(e: RoomEvent): Record<string, unknown> {
  return Object.fromEntries(Object.entries(e).filter(([k, v]) => !VOLATILE.has(k) && v !== undefined));
}

/** Play `plan`'s room side against the real app-server and return the recorded scenario. */
export async function recordScenario(opts: RecordOptions): Promise<Recording> {
  if (VirtualClock.current) throw new Error('cannot record while a simulation runs (virtual time is installed)');
  const plan = parseScenario(opts.plan);
  const log = opts.log ?? createLogger({ level: 'silent' });
  const stepTimeout = opts.stepTimeoutMs ?? 60_000;
  const c = plan.config;
  const cwd = opts.appServer?.cwd ?? (isDir(c.session.cwd) ? c.session.cwd : process.cwd());
  const timeline: Entry[] = [];
  const events: RoomEvent[] = [];
  const taps: TapEvent[] = [];
  let recording = true;
  const waiters = new Set<() => void>();
  const wake = (): void => {
    for (const w of [...waiters]) w();
  };

  const open = tapTransport(
    stdioTransport({
      command: resolveCodexCommand(opts.appServer?.command),
      args: opts.appServer?.args ?? DEFAULT_APP_SERVER_ARGS,
      env: opts.appServer?.env,
      cwd,
      log,
    }),
    (e) => {
      taps.push(e);
      if (recording) timeline.push({ kind: 'tap', e });
      wake();
    },
  );
  const sink = (e: RoomEvent): void => {
    events.push(e);
    wake();
  };
  const cc = c.connection;
  const conn = new Connection({
    transport: { kind: 'custom', open, description: 'recorded app-server' },
    log,
    machine: Object.fromEntries(
      Object.entries({ minVersion: cc.minVersion, versionPolicy: cc.versionPolicy, handshakeTimeoutMs: cc.handshakeTimeoutMs, stopTimeoutMs: cc.stopTimeoutMs, backoffBaseMs: cc.backoffBaseMs, maxFailures: cc.maxFailures }).filter(
        ([, v]) => v !== undefined,
      ),
    ),
    ...(cc.experimentalApi !== undefined ? { experimentalApi: cc.experimentalApi } : {}),
  });
  const store = new MemoryBindingStore();
  const r = c.room;
  const user = typeof r.user === 'string' ? { id: r.user, name: r.user } : { id: r.user.id, name: r.user.name ?? r.user.id };
  const a = c.approvals;
  let mgr: SessionManager | undefined;
  const router = new ApprovalRouter({
    sink,
    log,
    reviewer: a.reviewer,
    ...(a.escalateTo !== undefined ? { escalateTo: a.escalateTo } : {}),
    ...(a.guardian ? { guardian: a.guardian } : {}),
    ...(a.timeouts ? { timeouts: a.timeouts } : {}),
    resolveContext: (threadId) => {
      const ctx = mgr?.threadContext(threadId);
      return ctx ? { session: ctx.session, owner: a.owner ?? ctx.participants[0]?.id ?? user.id, approvers: a.approvers } : undefined;
    },
  });
  for (const t of c.tools) {
    router.registerTool({
      name: t.name,
      ...(t.namespace ? { namespace: t.namespace } : {}),
      description: t.description,
      inputSchema: t.inputSchema,
      execute: async () => {
        if (t.throws) throw new Error(t.throws);
        return t.result as ToolCallResult | string;
      },
    });
  }
  router.attach(conn);
  const settings = Object.fromEntries(Object.entries({ ...c.session, cwd }).filter(([k, v]) => v !== undefined && k !== 'perParticipant')) as typeof c.session;
  mgr = new SessionManager({ connection: conn, sink, store, settings, approvals: router, log, ...(c.session.perParticipant ? { perParticipant: true } : {}) });
  const key = mgr.keyOf({ room: r.room, channel: r.channel, thread: r.thread, from: user });
  for (const b of c.bindings) await store.save(bindingOf(b.key ?? key, b.threadId, b.model ?? undefined, cwd, undefined));

  const waitFor = <T>(find: () => T | undefined, what: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const hit = find();
        if (hit !== undefined) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(hit);
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`recording: no ${what} within ${stepTimeout} ms; room saw: ${events.map((e) => e.type).join(', ') || 'nothing'}`));
      }, stepTimeout);
      waiters.add(check);
      check();
    });

  try {
    await conn.start();
    let untilCursor = 0;
    // Each room step is logged right before it acts: what it causes comes after it.
    const mark = (step: Record<string, unknown>): void => void timeline.push({ kind: 'room', step: stripUndefined(step) });
    for (const step of plan.steps) await playRoomStep(step);
    await mgr.whenIdle(key, stepTimeout).catch(() => undefined);
    const status = mgr.sessionStatus(key);
    const connState = conn.status().state;
    recording = false;
    timeline.push({ kind: 'stop' });
    const scenario = toScenario(plan, timeline, events, { cwd, connection: connState, status });
    return { scenario, tap: taps, events };

    async function playRoomStep(step: Step): Promise<void> {
      const post = (text: string, from: unknown, thread: string | undefined): void => {
        const f = from === undefined ? user : typeof from === 'string' ? { id: from, name: from } : (from as { id: string; name?: string });
        mgr!.post({ room: r.room, channel: r.channel, thread: thread ?? r.thread, from: { id: f.id, name: f.name ?? f.id }, text });
      };
      if ('post' in step) {
        mark({ post: step.post, from: step.from, thread: step.thread });
        post(step.post, step.from, step.thread);
        return;
      }
      if ('command' in step) {
        mark({ command: step.command, arg: step.arg, from: step.from });
        post(`/${step.command}${step.arg ? ` ${step.arg}` : ''}`, step.from, undefined);
        return;
      }
      if ('decide' in step) {
        const sel = step.approval;
        const prompt = await waitFor(() => {
          const requested = events.filter((e): e is Extract<RoomEvent, { type: 'approval.requested' }> => e.type === 'approval.requested');
          const resolved = new Set(events.filter((e) => e.type === 'approval.resolved').map((e) => (e as { approvalId: string }).approvalId));
          if (typeof sel === 'number') return requested[sel];
          if (sel === 'last') return requested.at(-1);
          const candidates = sel ? requested.filter((x) => !mismatch(x, sel)) : requested;
          return candidates.find((x) => !resolved.has(x.approvalId));
        }, 'approval prompt to decide');
        mark({ decide: step.decide, approval: step.approval, by: step.by, content: step.content, reason: step.reason });
        router.decide({
          approvalId: prompt.approvalId,
          by: step.by ?? a.owner ?? user.id,
          decision: step.decide,
          ...(step.content !== undefined ? { content: step.content } : {}),
          ...(step.reason !== undefined ? { reason: step.reason } : {}),
        });
        return;
      }
      if ('until' in step) {
        const at = await waitFor(() => {
          const i = events.findIndex((e, idx) => idx >= untilCursor && !mismatch(e, step.until));
          return i >= 0 ? i : undefined;
        }, `room event matching ${JSON.stringify(step.until)}`);
        untilCursor = at + 1;
        mark({ until: step.until });
        return;
      }
      if ('delay' in step) {
        mark({ delay: step.delay });
        await new Promise((res) => setTimeout(res, step.delay));
        return;
      }
      if ('restart' in step) {
        mark({ restart: step.restart });
        conn.restart(step.restart);
      }
      // App-server steps, shutdown and asserts are the real server's and the replay's business.
    }
  } finally {
    await mgr.stop({ interrupt: false }).catch(() => undefined);
    router.dispose('recording over');
    await conn.stop().catch(() => undefined);
  }
}

function isDir(p: string): boolean {
  try {
    return existsSync(p) && statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function stripUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

interface Final {
  cwd: string;
  connection: string;
  status: ReturnType<SessionManager['sessionStatus']>;
}

/** The recorded timeline as a scenario (plain JSON). */
function toScenario(plan: Scenario, timeline: Entry[], events: RoomEvent[], final: Final): Record<string, unknown> {
  const steps: Array<Record<string, unknown>> = [];
  const processes: Array<Record<string, unknown>> = [];
  const clientRequests = new Map<string, { step: Record<string, unknown>; index: number; process: number }>();
  const serverRequests = new Map<string, string>();
  const handshakes: Array<{ ok: boolean; userAgent: string | undefined }> = [];
  const initIds = new Map<string, number>();
  const initNames = new Set<unknown>();
  let lastServerFrameAt = -1;

  for (const entry of timeline) {
    if (entry.kind === 'stop') break;
    if (entry.kind === 'room') {
      steps.push(entry.step);
      continue;
    }
    const e = entry.e;
    if (e.kind === 'open') {
      processes[e.process - 1] = {};
      continue;
    }
    if (e.kind === 'refused') {
      processes[e.process - 1] = { refuse: { kind: e.exit.kind === 'auth' ? 'auth' : e.exit.kind === 'spawn-error' ? 'spawn-error' : 'error', reason: e.exit.reason, retryable: e.exit.retryable } };
      continue;
    }
    if (e.kind === 'close') {
      if (!e.exit.intentional) {
        steps.push({
          crash: stripUndefined({
            code: e.exit.code,
            signal: e.exit.signal,
            reason: e.exit.reason,
            retryable: e.exit.retryable,
            ...(e.exit.kind !== 'exit' ? { kind: e.exit.kind } : {}),
            ...(e.exit.stderrTail ? { stderr: e.exit.stderrTail } : {}),
          }),
        });
      }
      continue;
    }
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(e.text) as Record<string, unknown>;
    } catch {
      if (e.kind === 'in') steps.push({ malformed: e.text });
      continue;
    }
    const id = msg.id as string | number | undefined;
    const hasMethod = typeof msg.method === 'string';
    if (e.kind === 'out') {
      if (hasMethod && id !== undefined) {
        if (msg.method === 'initialize') {
          initIds.set(`${e.process}:${String(id)}`, handshakes.length);
          handshakes.push({ ok: false, userAgent: undefined });
        }
        const step: Record<string, unknown> = { expect: msg.method, ...(msg.params !== undefined ? { params: msg.params } : {}), as: `r${String(id)}` };
        if (msg.method === 'initialize') initNames.add(step.as);
        clientRequests.set(`${e.process}:${String(id)}`, { step, index: steps.length, process: e.process });
        steps.push(step);
      } else if (!hasMethod && id !== undefined) {
        const name = serverRequests.get(`${e.process}:${String(id)}`);
        if (name) steps.push('error' in msg ? { answer: name, error: msg.error } : { answer: name, result: msg.result });
      }
      continue;
    }
    // server → client
    if (hasMethod && id !== undefined) {
      const name = `s${String(id)}`;
      serverRequests.set(`${e.process}:${String(id)}`, name);
      steps.push({ request: msg.method, id, params: msg.params ?? {}, as: name });
      lastServerFrameAt = steps.length - 1;
    } else if (hasMethod) {
      steps.push(msg.params === undefined ? { notify: msg.method } : { notify: msg.method, params: msg.params });
      lastServerFrameAt = steps.length - 1;
    } else if (id !== undefined) {
      const k = `${e.process}:${String(id)}`;
      const hs = initIds.get(k);
      if (hs !== undefined) handshakes[hs] = { ok: 'result' in msg, userAgent: (msg.result as { userAgent?: string } | undefined)?.userAgent };
      const req = clientRequests.get(k);
      const answer = 'error' in msg ? { error: msg.error } : { result: msg.result };
      if (req && req.index === steps.length - 1 && lastServerFrameAt < req.index) {
        // Answered before anything else happened: answer inline.
        delete req.step.as;
        if ('error' in answer) req.step.error = answer.error;
        else req.step.respond = answer.result ?? {};
      } else if (req) {
        steps.push({ respond: req.step.as, ...answer });
      } else {
        steps.push({ send: msg });
      }
      lastServerFrameAt = steps.length - 1;
    }
  }

  const autoHandshake = handshakes.every((h) => h.ok);
  const userAgent = handshakes.find((h) => h.userAgent)?.userAgent;
  const config = JSON.parse(JSON.stringify({ ...plan.config, session: { ...plan.config.session, cwd: final.cwd } })) as Record<string, unknown>;
  const st = final.status;
  const scenario = {
    name: `${plan.name} (recorded)`,
    description: `Recorded from a real codex app-server run of "${plan.name}". The app-server side is scripted from the frames it sent; replays without the binary.`,
    tags: [...plan.tags, 'recorded'],
    config,
    server: {
      ...(userAgent ? { userAgent } : {}),
      handshake: autoHandshake ? 'auto' : 'manual',
      ...(processes.some((p) => Object.keys(p).length) ? { processes } : {}),
    },
    // With every handshake answered, the auto-handshake replays them: drop their steps.
    steps: autoHandshake ? steps.filter((st) => st.expect !== 'initialize' && !initNames.has(st.respond)) : steps,
    expect: {
      events: events.map(eventExpectation),
      final: {
        connection: final.connection,
        ...(st ? { sessionStatus: stripUndefined({ threadId: st.threadId, turns: st.turns, lastTurn: st.lastTurn ? stripUndefined({ ...st.lastTurn }) : undefined }) } : {}),
      },
    },
  };
  return scenario;
}
