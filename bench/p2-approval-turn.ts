// P2: one real turn with one approval, through Switchboard vs a minimal raw JSON-RPC driver.
//
// Both sides drive the same kind of process (`node_modules/.bin/codex app-server`, the npm
// launcher around the native binary) against the same scripted Responses-API model: step 1
// an escalated `exec_command` that needs approval, step 2 `say('done')`.
//   - raw:        bench/raw-driver.ts: turn/start, answer the approval with accept, wait
//                 for turn/completed (no validation, no actors).
//   - Switchboard: Connection + SessionManager + ApprovalRouter whose guardian has an allow
//                 rule for the command (it accepts at once): room message in, room event out.
// The turn time runs from just before `turn/start` is sent (raw) / the room message is
// posted (Switchboard, earlier still) to `turn/completed` (raw) / the `turn.completed` room
// event (Switchboard, later still). Runs alternate, one warm-up each, median of N.
// A second, informational figure times the whole thing from process spawn (spawn,
// handshake, thread/start, the turn; its start-up part is what P5 measures). Run alone with `npx tsx bench/p2-approval-turn.ts`.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import type { DestinationStream } from 'pino';
import { ApprovalRouter } from '../src/approvals/router.js';
import { Connection } from '../src/connection/connection.js';
import { resolveCodexCommand } from '../src/connection/codex-command.js';
import { createLogger, type Logger } from '../src/log/logger.js';
import { MemoryBindingStore } from '../src/session/bindings.js';
import { SessionManager } from '../src/session/manager.js';
import type { RoomEvent } from '../src/events/room-events.js';
import { makeCodexHome, type CodexHome } from '../test/support/codex-home.js';
import { say, shell, startMockModel, type MockModel, type ResponsesRequest } from '../test/support/mock-model.js';
import { RawDriver } from './raw-driver.js';
import type { Figure } from './common.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const COMMAND = 'echo p2';
const TURN_TEXT = 'Run the command';

/** Production-like logging (info, JSON, redaction) into a sink that drops the bytes. */
function nullLogger(): Logger {
  const dest = new Writable({ write: (_c, _e, cb) => cb() });
  return createLogger({ level: 'info', destination: dest as unknown as DestinationStream });
}

interface World {
  mock: MockModel;
  home: CodexHome;
  base: string;
  cwd: string;
  env: Record<string, string | undefined>;
  command: string;
}

async function world(): Promise<World> {
  // Step 1 of every turn asks to run the command; after its output, step 2 says done.
  const mock = await startMockModel((req: ResponsesRequest) =>
    req.input.at(-1)?.type === 'function_call_output' ? say('done') : shell(COMMAND, { escalated: true, justification: 'bench' }),
  );
  const home = makeCodexHome({ modelUrl: mock.url });
  const base = mkdtempSync(path.join(tmpdir(), 'sb-bench-p2-'));
  const cwd = path.join(base, 'ws');
  const userHome = path.join(base, 'home');
  mkdirSync(cwd);
  mkdirSync(userHome);
  // A fresh HOME: Codex runs commands in a login shell, which must not source the host's profile.
  return { mock, home, base, cwd, env: { ...process.env, CODEX_HOME: home.dir, HOME: userHome }, command: resolveCodexCommand() };
}

async function disposeWorld(w: World): Promise<void> {
  await w.mock.close();
  w.home.cleanup();
  rmSync(w.base, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------
// raw

interface Side {
  /** Spawn and handshake (and for the raw side, thread/start). */
  open(): Promise<void>;
  /** One turn with one approval; ms. */
  turn(): Promise<number>;
  close(): Promise<void>;
}

function rawSide(w: World): Side {
  let d: RawDriver | undefined;
  let threadId = '';
  let approvals = 0;
  return {
    async open() {
      d = new RawDriver(w.command, w.env);
      await d.handshake();
      const res = await d.request('thread/start', { cwd: w.cwd, approvalPolicy: 'untrusted', sandbox: 'workspace-write' });
      threadId = ((res.result as { thread: { id: string } }).thread).id;
      d.on((m) => {
        if (m.method === 'item/commandExecution/requestApproval' && m.id !== undefined) {
          approvals++;
          d!.respond(m.id, { decision: 'accept' });
        }
      });
    },
    async turn() {
      const before = approvals;
      const done = new Promise<string>((resolve) => {
        const off = d!.on((m) => {
          const p = m.params as { threadId?: string; turn?: { status?: string } } | undefined;
          if (m.method === 'turn/completed' && p?.threadId === threadId) {
            off();
            resolve(p.turn?.status ?? '?');
          }
        });
      });
      const t0 = performance.now();
      const res = await d!.request('turn/start', { threadId, input: [{ type: 'text', text: TURN_TEXT, text_elements: [] }] });
      if (res.error) throw new Error(`raw turn/start failed: ${JSON.stringify(res.error)}`);
      const status = await done;
      const ms = performance.now() - t0;
      if (status !== 'completed' || approvals !== before + 1) throw new Error(`raw turn: ${status}, ${approvals - before} approvals`);
      return ms;
    },
    async close() {
      await d?.close();
    },
  };
}

// ---------------------------------------------------------------------------------------
// Switchboard

function switchboardSide(w: World): Side {
  const log = nullLogger();
  let conn: Connection | undefined;
  let mgr: SessionManager | undefined;
  let router: ApprovalRouter | undefined;
  let approved = 0;
  let waiter: ((e: RoomEvent) => void) | undefined;
  const sink = (e: RoomEvent): void => {
    if (e.type === 'turn.completed' || e.type === 'turn.failed' || e.type === 'turn.interrupted') waiter?.(e);
  };
  const turn = async (): Promise<number> => {
    const before = approved;
    const done = new Promise<RoomEvent>((resolve) => (waiter = resolve));
    const t0 = performance.now();
    mgr!.post({ room: 'bench', channel: 'p2', thread: 't', from: { id: 'u1', name: 'Bench' }, text: TURN_TEXT });
    const end = await done;
    const ms = performance.now() - t0;
    if (end.type !== 'turn.completed' || approved !== before + 1) {
      throw new Error(`switchboard turn: ${end.type} ${'error' in end ? end.error : ''}, ${approved - before} approvals`);
    }
    return ms;
  };
  return {
    async open() {
      conn = new Connection({ transport: { kind: 'stdio', command: w.command, env: w.env }, log });
      await conn.start();
      router = new ApprovalRouter({
        sink,
        resolveContext: (threadId) => {
          const c = mgr?.threadContext(threadId);
          return c ? { session: c.session, owner: c.participants[0]?.id ?? 'u1', approvers: [], reviewer: 'policy' } : undefined;
        },
        reviewer: 'policy',
        policy: { rules: [{ effect: 'allow', command: 'echo' }], fallback: 'deny' },
        log,
      });
      router.audit$.subscribe((a) => a.outcome === 'approved' && approved++);
      router.attach(conn);
      mgr = new SessionManager({
        connection: conn,
        sink,
        store: new MemoryBindingStore(),
        settings: { cwd: w.cwd, approvalPolicy: 'untrusted', sandbox: 'workspace-write', busyMode: 'queue' },
        approvals: router,
        log,
      });
    },
    turn,
    async close() {
      await mgr?.stop({ interrupt: false });
      router?.dispose();
      await conn?.stop();
    },
  };
}

// ---------------------------------------------------------------------------------------

export interface P2Result {
  turnRaw: number;
  turnSb: number;
  wholeRaw: number;
  wholeSb: number;
  runs: number;
}

export async function measureP2(runs = 11, wholeRuns = 5): Promise<P2Result> {
  const w = await world();
  try {
    // Turn time: one long-lived process per side, alternating, one warm-up turn each (the
    // Switchboard warm-up also binds the session: thread/start happens there).
    const raw = rawSide(w);
    const sb = switchboardSide(w);
    await raw.open();
    await sb.open();
    const rawTurns: number[] = [];
    const sbTurns: number[] = [];
    try {
      await raw.turn();
      await sb.turn();
      for (let i = 0; i < runs; i++) {
        if (i % 2 === 0) {
          rawTurns.push(await raw.turn());
          sbTurns.push(await sb.turn());
        } else {
          sbTurns.push(await sb.turn());
          rawTurns.push(await raw.turn());
        }
      }
    } finally {
      await raw.close();
      await sb.close();
    }

    // Whole: spawn → handshake → thread/start → the turn, fresh processes each time.
    const whole = async (side: Side): Promise<number> => {
      const t0 = performance.now();
      try {
        await side.open();
        await side.turn();
        return performance.now() - t0;
      } finally {
        await side.close();
      }
    };
    const rawWhole: number[] = [];
    const sbWhole: number[] = [];
    for (let i = 0; i < wholeRuns + 1; i++) {
      let rawMs: number;
      let sbMs: number;
      if (i % 2 === 0) {
        rawMs = await whole(rawSide(w));
        sbMs = await whole(switchboardSide(w));
      } else {
        sbMs = await whole(switchboardSide(w));
        rawMs = await whole(rawSide(w));
      }
      if (i === 0) continue; // warm-up
      rawWhole.push(rawMs);
      sbWhole.push(sbMs);
    }
    return { turnRaw: median(rawTurns), turnSb: median(sbTurns), wholeRaw: median(rawWhole), wholeSb: median(sbWhole), runs };
  } finally {
    await disposeWorld(w);
  }
}

export async function benchP2(): Promise<Figure[]> {
  const r = await measureP2();
  const turnRatio = r.turnSb / r.turnRaw;
  const wholeRatio = r.wholeSb / r.wholeRaw;
  return [
    {
      figure: `P2 one real turn with one approval (median of ${r.runs}), Switchboard (room message → turn.completed) vs raw JSON-RPC driver (turn/start → turn/completed)`,
      value: Number(r.turnSb.toFixed(1)),
      unit: 'ms',
      target: 'ratio <= 1.05',
      baseline: Number(r.turnRaw.toFixed(1)),
      ratio: Number(turnRatio.toFixed(3)),
      pass: turnRatio <= 1.05,
    },
    {
      // Informational: the start-up part is P5's figure (target <= 1.1); P2's target is the turn.
      figure: 'P2 (whole, incl. spawn + handshake + thread/start) one real turn with one approval, Switchboard vs raw driver',
      value: Number(r.wholeSb.toFixed(1)),
      unit: 'ms',
      target: 'informational',
      baseline: Number(r.wholeRaw.toFixed(1)),
      ratio: Number(wholeRatio.toFixed(3)),
      pass: true,
    },
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const f of await benchP2()) console.log(`${f.pass ? 'PASS' : 'MISS'}  ${f.figure}\n      ${f.value} ${f.unit} vs ${f.baseline}  ratio ${f.ratio}`);
}
