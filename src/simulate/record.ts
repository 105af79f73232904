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
import { DEFAULT_APP_SERVER_ARGS, resolveCodexCommand } from '../connection/codex-command.js';
import type { SessionManager } from '../session/manager.js';
import { buildCodexStack } from '../stack/codex-stack.js';
import { participant, scenarioAgent, simulatedTool, stackSettingsFromScenario } from './scenario-stack.js';
import { SimAccess } from './sim-access.js';
import { MemoryBindingStore } from '../session/bindings.js';
import { bindingOf } from '../session/actors.js';
import type { RoomEvent } from '../events/room-events.js';
import { createLogger } from '../log/logger.js';
import { stdioTransport } from '../transport/stdio.js';
import { TransportError, type TransportExit, type TransportFactory } from '../transport/types.js';
import { mismatch } from './match.js';
import { parseScenario, type Scenario, type Step } from './scenario.js';
import { stripUndefined, toScenario } from './record-scenario.js';

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

export type Entry = { kind: 'tap'; e: TapEvent } | { kind: 'room'; step: Record<string, unknown> } | { kind: 'stop' };

const VOLATILE = new Set(['at', 'approvalId', 'expiresAt']);

/** A room event as an expectation: the fields that replay identically. */
export function eventExpectation(e: RoomEvent): Record<string, unknown> {
  return Object.fromEntries(Object.entries(e).filter(([k, v]) => !VOLATILE.has(k) && v !== undefined));
}

/** Play `plan`'s room side against the real app-server and return the recorded scenario. */
export async function recordScenario(opts: RecordOptions): Promise<Recording> {
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
  // The same composition root as the harness and the simulator (every retry/backoff field
  // included), on the tapped real app-server.
  const store = new MemoryBindingStore();
  const access = new SimAccess(log);
  const agent = scenarioAgent(c, cwd);
  const stack = buildCodexStack(stackSettingsFromScenario(c, { connection: 'record-connection', approvals: 'record', sessions: 'record' }, cwd), {
    transport: { kind: 'custom', open, description: 'recorded app-server' },
    sink,
    bindings: () => store,
    owners: access,
    log,
  });
  const conn = stack.connection;
  const router = stack.router;
  const mgr = stack.manager(agent);
  for (const t of c.tools) router.registerTool(simulatedTool(t));
  const r = c.room;
  const user = participant(r.user);
  const key = stack.keyOf({ room: r.room, channel: r.channel, thread: r.thread, from: user });
  for (const b of c.bindings) await store.save(bindingOf(b.key ?? key, b.threadId, b.model ?? undefined, cwd, undefined));
  if (c.approvals.owner !== undefined) await access.seed(key, c.approvals.owner);

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
      const post = (text: string, from: Parameters<typeof participant>[0] | undefined, thread: string | undefined): Promise<void> =>
        access.post(stack, agent, sink, { room: r.room, channel: r.channel, thread: thread ?? r.thread, from: from === undefined ? user : participant(from), text });
      if ('post' in step) {
        mark({ post: step.post, from: step.from, thread: step.thread });
        await post(step.post, step.from, step.thread);
        return;
      }
      if ('command' in step) {
        mark({ command: step.command, arg: step.arg, from: step.from });
        await post(`/${step.command}${step.arg ? ` ${step.arg}` : ''}`, step.from, undefined);
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
          by: step.by ?? access.ownerOf(key) ?? user.id,
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
    await stack.stop({ interrupt: false, reason: 'recording over' }).catch(() => undefined);
  }
}

function isDir(p: string): boolean {
  try {
    return existsSync(p) && statSync(p).isDirectory();
  } catch {
    return false;
  }
}
