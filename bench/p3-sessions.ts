// P3: 10,000 concurrent sessions on one supervisor over fake connections.
//
// The real path: a real `Supervisor` (createSupervisor, default dataset thread store on tmpfs)
// whose default agent runs on a harness built exactly like `CodexHarness` — one
// `SessionManager` per agent with the same options (binding dir with real binding files, the
// supervisor's approval router and tools, settings from the config) — but over an in-process
// fake app-server connection instead of `codex app-server`. A message goes `Supervisor.post`
// (zod, durable inbox, history, hooks, harness selection) → harness → `SessionManager.post` →
// session actor → turn actor → fake connection, and its room events come back through the
// supervisor's `events$`. The built-in codex harness still starts (on the scripted fake
// app-server process), so the supervisor is the one a host runs.
//
// Load: after a 200-session warm-up, 10,000 new conversations each post one message, one
// message per event-loop turn (a host receives them frame by frame). The fake app-server holds
// every turn until all 10,000 have started, so all 10,000 sessions are in a turn at once; then
// it runs them all (turn/started, a delta, item/completed, turn/completed each).
//
// Each measurement runs in a fresh `node --expose-gc` child so heap figures are not polluted by
// other benches: 100 sessions (the baseline) and 10,000 sessions, P3_RUNS times each (default 3).
//
//   spawn latency   the duration of `SessionManager.post` for a session's first message, as the
//                   supervisor calls it: the session actor is created and started and holds the
//                   message when it returns (an upper bound of "post → actor started").
//                   p50/p99 over all sessions, from the least disturbed run (the bestOf rule of
//                   this shared 2-core machine; every run's p99 is listed). Reported too:
//                   `Supervisor.post` → actor started, which adds the durable inbox write.
//   heap/idle       (heapUsed after all turns completed and every session is idle, after GC −
//                   heapUsed before the first post, after GC) / sessions; median run.
//   turns           `turn.completed` events on `events$`; must equal the number of sessions in
//                   every run, none failed, and `status()` must list every session.
//
// `tsx bench/p3-sessions.ts --compare` also measures the design before hibernation
// (`hibernate: false`: one live actor per idle session); `--manager` the SessionManager alone.
import { spawn } from 'node:child_process';
import { PerformanceObserver } from 'node:perf_hooks';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { Figure } from './common.js';
import { createSupervisor, type Supervisor } from '../src/supervisor/supervisor.js';
import { SessionManager } from '../src/session/manager.js';
import { resolveApprovalSettings } from '../src/approvals/settings.js';
import { codexModelName, type AgentSpec, type Harness, type HarnessMessage } from '../src/supervisor/harness.js';
import { createLogger } from '../src/log/logger.js';
import { classifyNotification, type InboundNotification } from '../src/protocol/notifications.js';
import { MemoryStore } from '../src/storage/memory.js';
import type { HistoryRecord, StoredRecord } from '../src/storage/types.js';
import type { RoomEventSink } from '../src/events/room-events.js';
import type { SessionConnection } from '../src/turn/runtime.js';
import type { ConnectionLifecycleEvent } from '../src/connection/connection.js';
import type { Attachment } from '../src/turn/translate.js';

/** Messages handed over per event-loop turn (a host receives them one frame at a time). */
const BATCH = Number(process.env.P3_BATCH ?? 1);
/** How long the fake app-server takes to run a turn (0: the next event-loop turn). */
const TURN_MS = Number(process.env.P3_TURN_MS ?? 0);
/** The supervisor's thread store: `dataset` (the default libsql file, on tmpfs) or `counting` (history dropped). */
const STORE = process.env.P3_STORE ?? 'dataset';
/** Hold every turn until all sessions have posted, so all of them are in flight at once. */
const HOLD = (process.env.P3_HOLD ?? '1') !== '0';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');

export type Layer = 'supervisor' | 'manager';

export interface P3Result {
  layer: Layer;
  sessions: number;
  hibernate: boolean;
  /** `SessionManager.post` of a session's first message: the actor is created, started, has it. */
  spawnP50Ms: number;
  spawnP99Ms: number;
  spawnMaxMs: number;
  /** `Supervisor.post` until that actor started (durable inbox write, history, hooks included). */
  endToEndP50Ms: number;
  endToEndP99Ms: number;
  heapPerIdleBytes: number;
  heapBeforeBytes: number;
  heapAfterBytes: number;
  turnsCompleted: number;
  turnsFailed: number;
  /** Sessions with a live actor after the run (warm-up sessions included). */
  liveSessions: number;
  hibernated: number;
  listedByStatus: number;
  /** With the hold (default): turns that were running at the same time. */
  turnsInFlightAtOnce: number | undefined;
  /** With the hold: heap per session while every session is in its turn (after GC). */
  heapPerSessionInTurnBytes: number;
  wallMs: number;
  postsOver1Ms: number;
  scavenges: number;
  scavengeP50Ms: number;
  majorGcs: number;
  /** Other load on the machine while measuring. */
  loadAvg1m: number;
}

// ---------------------------------------------------------------------------------------
// child: one measurement

async function child(n: number, hibernate: boolean, layer: Layer): Promise<P3Result> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  type SessionManagerT = SessionManager;
  type HarnessT = Harness;
  type Notification = InboundNotification;
  type Lifecycle = ConnectionLifecycleEvent;

  /**
   * A minimal fast fake app-server: thread/start → a thread id; turn/start → a turn id, then
   * (next macrotask) turn/started, one agent message delta, item/completed, turn/completed to
   * the thread's subscribers, as validated notifications. It keeps nothing per session but the
   * live subscriptions.
   */
  class FakeAppServer implements SessionConnection {
    private readonly listeners = new Map<string, Set<(n: Notification) => void>>();
    private readonly lifecycle = new Set<(e: Lifecycle) => void>();
    private threads = 0;
    private turns = 0;
    requests = 0;
    async request(method: string, params: unknown): Promise<never> {
      this.requests++;
      const p = params as { threadId?: string; expectedTurnId?: string };
      switch (method) {
        case 'thread/start':
          return { thread: { id: `thr_${++this.threads}` } } as never;
        case 'thread/resume':
          return { thread: { id: p.threadId } } as never;
        case 'turn/start': {
          const turnId = `turn_${++this.turns}`;
          const threadId = p.threadId!;
          if (this.held) this.held.push([threadId, turnId]);
          else if (TURN_MS > 0) setTimeout(() => this.play(threadId, turnId), TURN_MS);
          else setImmediate(() => this.play(threadId, turnId));
          return { turn: { id: turnId, status: 'inProgress', items: [] } } as never;
        }
        case 'turn/steer':
          return { turnId: p.expectedTurnId } as never;
        case 'turn/interrupt':
          return {} as never;
        default:
          throw new Error(`fake app-server: no handler for ${method}`);
      }
    }
    /** Turns started while held: they all run (and complete) on `release()`. */
    held: Array<[string, string]> | undefined;
    hold(): void {
      this.held = [];
    }
    release(): number {
      const turns = this.held ?? [];
      this.held = undefined;
      for (const [threadId, turnId] of turns) setImmediate(() => this.play(threadId, turnId));
      return turns.length;
    }
    private play(threadId: string, turnId: string): void {
      const turn = { id: turnId, status: 'inProgress', items: [], error: null };
      this.notify('turn/started', { threadId, turn });
      this.notify('item/agentMessage/delta', { threadId, turnId, itemId: 'msg_1', delta: 'Hello' });
      this.notify('item/completed', { threadId, turnId, item: { type: 'agentMessage', id: 'msg_1', text: 'Hello' } });
      this.notify('turn/completed', { threadId, turn: { ...turn, status: 'completed' } });
    }
    private notify(method: string, params: Record<string, unknown>): void {
      const note = classifyNotification(method, params);
      const set = this.listeners.get(params.threadId as string);
      if (set) for (const l of [...set]) l(note);
    }
    subscribe(threadId: string, listener: (n: Notification) => void): () => void {
      let set = this.listeners.get(threadId);
      if (!set) this.listeners.set(threadId, (set = new Set()));
      set.add(listener);
      return () => {
        set!.delete(listener);
        if (set!.size === 0 && this.listeners.get(threadId) === set) this.listeners.delete(threadId);
      };
    }
    onLifecycle(listener: (e: Lifecycle) => void): () => void {
      this.lifecycle.add(listener);
      return () => this.lifecycle.delete(listener);
    }
    restart(): void {}
    withdrawServerRequests(): number {
      return 0;
    }
  }

  /**
   * The codex harness's session side over the fake connection: `manager()` is
   * `CodexHarness.manager` with the connection swapped.
   */
  class FakeCodexHarness implements HarnessT {
    readonly id = 'p3-fake';
    readonly managers = new Map<string, SessionManagerT>();
    sb!: Supervisor;
    /** performance.now() when the session's first `manager.post` returned (actor started). */
    spawnedAt = 0;
    managerMs = 0;
    constructor(
      readonly conn: FakeAppServer,
      readonly log: Logger,
    ) {}
    available() {
      return { ok: true as const };
    }
    supports() {
      return { ok: true, reason: 'bench' };
    }
    async start(): Promise<void> {}
    async stop(): Promise<void> {
      await Promise.all([...this.managers.values()].map((m) => m.stop({ interrupt: true })));
    }
    manager(agent: AgentSpec, sink: RoomEventSink): SessionManagerT {
      let m = this.managers.get(agent.id);
      if (m) return m;
      const cfg = this.sb.config;
      const a = cfg.appServer;
      const s = resolveApprovalSettings(a.mode, { approvalPolicy: a.approvalPolicy, sandbox: a.sandbox, approvalsReviewer: a.approvalsReviewer, reviewer: cfg.approvals.reviewer });
      const router = this.sb.codex.router;
      m = new SessionManager({
        id: `sessions:p3:${agent.id}`,
        connection: this.conn,
        sink,
        bindingDir: path.join(this.sb.statePaths.bindingsDir, agent.id),
        approvals: router,
        tools: () => router.tools.specs(),
        log: this.log,
        perParticipant: cfg.sessions.perParticipant,
        settings: {
          cwd: agent.cwd,
          model: codexModelName(agent.model),
          approvalPolicy: s.approvalPolicy,
          sandbox: s.sandbox,
          approvalsReviewer: s.approvalsReviewer,
          developerInstructions: agent.developerInstructions,
          busyMode: cfg.sessions.onMessageDuringTurn,
          watchdogMs: cfg.sessions.idleWatchdogSeconds * 1000,
          modelDiscoveryMs: a.discovery.enabled ? a.discovery.timeoutMs : 1,
        },
        hibernate,
      });
      this.managers.set(agent.id, m);
      return m;
    }
    post(agent: AgentSpec, msg: HarnessMessage, sink: RoomEventSink): void {
      const m = this.manager(agent, sink);
      const t0 = performance.now();
      m.post({ ...msg, attachments: msg.attachments as Attachment[] | undefined });
      this.spawnedAt = performance.now();
      this.managerMs = this.spawnedAt - t0;
    }
    status(): Record<string, unknown> {
      return { sessions: [...this.managers.values()].reduce((k, m) => k + m.status().sessions.length, 0) };
    }
  }

  /** A disk-like thread store: durable inbox and history are not kept on the heap. */
  class CountingStore extends MemoryStore {
    appended = 0;
    override async append(session: string, record: HistoryRecord): Promise<StoredRecord> {
      this.appended++;
      return { ...record, seq: this.appended, session, at: Date.now() } as StoredRecord;
    }
    override async history() {
      return [];
    }
  }

  const work = mkdtempSync(path.join(tmpdir(), 'sb-p3-'));
  // Bindings are real files (FileBindingStore, atomic write + fsync); on tmpfs when there is one.
  const bindRoot = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/sb-p3-bind-') : path.join(work, 'bindings');
  const log = createLogger({ level: 'silent' });
  const conn = new FakeAppServer();
  let completed = 0;
  let failed = 0;
  const count = (e: { type: string }) => {
    if (e.type === 'turn.completed') completed++;
    else if (e.type === 'turn.failed' || e.type === 'turn.interrupted') failed++;
  };

  // The two layers: the whole supervisor (the P3 figure), or the SessionManager alone.
  let post: (room: string, i: number) => Promise<{ key: string; spawnMs: number; endToEndMs: number }>;
  let manager: () => SessionManagerT | undefined;
  let flush: () => Promise<void>;
  let stop: () => Promise<void>;
  if (layer === 'supervisor') {
    const harness = new FakeCodexHarness(conn, log);
    const sb = createSupervisor(
      {
        appServer: { command: process.execPath, args: [path.join(root, 'test/support/fake-app-server.mjs')] },
        agents: { defaults: { cwd: work, embeddedHarness: { runtime: 'p3-fake', fallback: 'none' } } },
        sessions: { bindingsDir: bindRoot },
        storage: STORE === 'dataset' ? { kind: 'dataset', path: path.join(bindRoot, 'threads.db') } : { kind: 'none' },
        log: { level: 'silent' },
      },
      { log, harnesses: [harness], baseDir: work, stateDir: bindRoot, ...(STORE === 'dataset' ? {} : { store: new CountingStore() }) },
    );
    harness.sb = sb;
    sb.events$.subscribe(count);
    await sb.start();
    post = async (room, i) => {
      const start = performance.now();
      const { session } = await sb.post({ room, thread: `t${i}`, from: { id: `u${i}`, name: `User ${i}` }, text: `hello from session ${i}` });
      return { key: session, spawnMs: harness.managerMs, endToEndMs: harness.spawnedAt - start };
    };
    manager = () => harness.managers.get('default');
    flush = () => sb.flush();
    stop = () => sb.stop();
  } else {
    // As CodexHarness.manager builds it for the default config, minus the supervisor.
    const s = resolveApprovalSettings('yolo', {});
    const m = new SessionManager({
      id: 'sessions:p3:default',
      connection: conn,
      sink: count,
      bindingDir: path.join(bindRoot, 'default'),
      approvals: { withdrawTurn: () => 0 },
      tools: () => [],
      log,
      perParticipant: false,
      settings: {
        cwd: work,
        model: undefined,
        approvalPolicy: s.approvalPolicy,
        sandbox: s.sandbox,
        approvalsReviewer: s.approvalsReviewer,
        developerInstructions: undefined,
        busyMode: 'steer',
        watchdogMs: 300_000,
        modelDiscoveryMs: 2_500,
      },
      hibernate,
    });
    post = async (room, i) => {
      const start = performance.now();
      const key = m.post({ room, channel: 'chat', thread: `t${i}`, from: { id: `u${i}`, name: `User ${i}` }, text: `hello from session ${i}` });
      const ms = performance.now() - start;
      return { key, spawnMs: ms, endToEndMs: ms };
    };
    manager = () => m;
    flush = async () => {};
    stop = () => m.stop();
  }

  const settle = async (target: number, keys: string[]) => {
    const deadline = Date.now() + 300_000;
    while (completed + failed < target) {
      if (Date.now() > deadline) throw new Error(`only ${completed} of ${target} turns completed (${failed} failed)`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const m = manager();
    if (m) for (const k of keys) await m.whenIdle(k, 60_000);
    await flush();
    // Idle sessions are hibernated a batch at a time: wait for the steady state.
    while (hibernate && m && m.status().sessions.some((s) => !s.hibernated)) {
      if (Date.now() > deadline) throw new Error('sessions were not hibernated');
      await new Promise((r) => setTimeout(r, 20));
    }
    for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 20));
  };

  // Warm-up on another room (JIT, the manager, first-use allocations); part of the baseline heap.
  const WARM = 200;
  const warmKeys: string[] = [];
  for (let i = 0; i < WARM; i++) warmKeys.push((await post('warm', i)).key);
  await settle(WARM, warmKeys);
  completed = 0;
  failed = 0;

  const heapNow = () => {
    for (let i = 0; i < 4; i++) gc();
    return process.memoryUsage().heapUsed;
  };
  const heapBefore = heapNow();
  const spawn: number[] = [];
  const e2e: number[] = [];
  const keys: string[] = [];
  // GC pauses during the run (count and length; scavenges are what a spawn may run into).
  const gcs: Array<{ ms: number; kind: number }> = [];
  const gcObs = new PerformanceObserver((l) => {
    for (const e of l.getEntries()) gcs.push({ ms: e.duration, kind: (e as { detail?: { kind?: number } }).detail?.kind ?? 0 });
  });
  gcObs.observe({ entryTypes: ['gc'] });
  const t0 = performance.now();
  if (HOLD) conn.hold();
  let inFlight = 0;
  let heapInFlight = Number.NaN;
  for (let i = 0; i < n; i++) {
    const r = await post('p3', i);
    spawn.push(r.spawnMs);
    e2e.push(r.endToEndMs);
    keys.push(r.key);
    // Messages arrive over time: let turns progress between arrivals.
    if (i % BATCH === BATCH - 1) await new Promise((r) => setImmediate(r));
  }
  if (HOLD) {
    // Every session has its turn running (all bound, turn/start answered): release them together.
    const deadline = Date.now() + 120_000;
    while ((conn.held?.length ?? 0) < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    gcObs.disconnect();
    heapInFlight = heapNow();
    inFlight = conn.release();
  }
  await settle(n, keys);
  const wallMs = performance.now() - t0;
  gcObs.disconnect();
  const scavenges = gcs.filter((g) => g.kind === 1).map((g) => g.ms);
  const heapAfter = heapNow();
  const status = manager()!.status();
  const live = status.sessions.filter((s) => !s.hibernated).length;
  const listed = status.sessions.filter((s) => s.session.startsWith('p3/')).length;
  await stop();
  rmSync(work, { recursive: true, force: true });
  rmSync(bindRoot, { recursive: true, force: true });

  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const pct = (xs: number[], q: number) => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
  const s = sorted(spawn);
  const ee = sorted(e2e);
  return {
    layer,
    sessions: n,
    hibernate,
    spawnP50Ms: pct(s, 0.5),
    spawnP99Ms: pct(s, 0.99),
    spawnMaxMs: s.at(-1)!,
    endToEndP50Ms: pct(ee, 0.5),
    endToEndP99Ms: pct(ee, 0.99),
    heapPerIdleBytes: (heapAfter - heapBefore) / n,
    heapBeforeBytes: heapBefore,
    heapAfterBytes: heapAfter,
    turnsCompleted: completed,
    turnsFailed: failed,
    liveSessions: live,
    hibernated: status.sessions.length - live,
    listedByStatus: listed,
    turnsInFlightAtOnce: HOLD ? inFlight : undefined,
    heapPerSessionInTurnBytes: (heapInFlight - heapBefore) / n,
    wallMs,
    postsOver1Ms: spawn.filter((x) => x >= 1).length,
    scavenges: scavenges.length,
    scavengeP50Ms: scavenges.length ? pct(sorted(scavenges), 0.5) : 0,
    majorGcs: gcs.filter((g) => g.kind !== 1).length,
    loadAvg1m: loadavg()[0]!,
  };
}

// ---------------------------------------------------------------------------------------
// parent: run the children, build the figures

export function runChild(n: number, hibernate: boolean, layer: Layer = 'supervisor'): Promise<P3Result> {
  const args = ['--expose-gc', '--max-old-space-size=4096', '--import', 'tsx', fileURLToPath(import.meta.url), 'child', String(n), hibernate ? 'on' : 'off', layer];
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.on('error', reject);
    p.on('close', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0) return reject(new Error(`p3 child (${n}, hibernate ${hibernate}, ${layer}) exited ${code}: ${out.slice(-2000)}`));
      try {
        resolve(JSON.parse(line) as P3Result);
      } catch {
        reject(new Error(`p3 child printed no result: ${out.slice(-2000)}`));
      }
    });
  });
}

const round = (x: number, d = 3) => Number(x.toFixed(d));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * The figures of one configuration. Each size ran `runs` times in fresh processes: the spawn
 * latency is the least disturbed run's (the `bestOf` rule of this shared 2-core machine; every
 * run's p99 is listed), heap the median run's, and every run must complete every turn.
 */
export function figures(bigs: P3Result[], smalls: P3Result[]): Figure[] {
  const big = bigs.reduce((a, b) => (b.spawnP99Ms < a.spawnP99Ms ? b : a));
  const small = smalls.reduce((a, b) => (b.spawnP99Ms < a.spawnP99Ms ? b : a));
  const kib = (b: number) => b / 1024;
  const sup = big.layer === 'supervisor';
  const of = `${big.sessions.toLocaleString()} sessions ${sup ? 'on one supervisor' : 'on one SessionManager (no supervisor)'}${big.hibernate ? '' : ', hibernation off'}`;
  const base = `baseline: ${small.sessions} sessions`;
  const runs = (rs: P3Result[], f: (r: P3Result) => number) => rs.map((r) => round(f(r), 2)).join(', ');
  const heap = median(bigs.map((r) => r.heapPerIdleBytes));
  const heapBase = median(smalls.map((r) => r.heapPerIdleBytes));
  const completed = Math.min(...bigs.map((r) => r.turnsCompleted));
  const allDone = bigs.every((r) => r.turnsCompleted === r.sessions && r.turnsFailed === 0 && r.listedByStatus === r.sessions);
  const spawn = 'SessionManager.post of a first message → its actor created, started, message in';
  const out: Figure[] = [
    {
      figure: `P3 spawn latency p99, ${spawn}; ${of} (${base}; best of ${bigs.length} runs: ${runs(bigs, (r) => r.spawnP99Ms)} ms)`,
      value: round(big.spawnP99Ms),
      unit: 'ms',
      target: 'value < 1 ms',
      baseline: round(small.spawnP99Ms),
      ratio: round(big.spawnP99Ms / small.spawnP99Ms),
      pass: big.spawnP99Ms < 1,
    },
    {
      figure: `P3 spawn latency p50, ${spawn}; ${of} (${base}; same runs)`,
      value: round(big.spawnP50Ms),
      unit: 'ms',
      target: 'informational',
      baseline: round(small.spawnP50Ms),
      ratio: round(big.spawnP50Ms / small.spawnP50Ms),
      pass: true,
    },
  ];
  if (sup) {
    out.push({
      figure: `P3 Supervisor.post → session actor started, p99 (durable inbox write, history, hooks, harness selection included); ${of} (${base}; same runs; p50 ${round(big.endToEndP50Ms)} ms)`,
      value: round(big.endToEndP99Ms),
      unit: 'ms',
      target: 'informational',
      baseline: round(small.endToEndP99Ms),
      ratio: round(big.endToEndP99Ms / small.endToEndP99Ms),
      pass: true,
    });
  }
  out.push(
    {
      figure: `P3 heap per idle session after GC; ${of} (${base}; median of ${bigs.length} runs: ${runs(bigs, (r) => kib(r.heapPerIdleBytes))} KiB)`,
      value: round(kib(heap), 2),
      unit: 'KiB',
      target: 'value < 8 KiB',
      baseline: round(kib(heapBase), 2),
      ratio: round(heap / heapBase),
      pass: kib(heap) < 8,
    },
    {
      figure: `P3 turns completed; ${of} (${base}; fewest of ${bigs.length} runs, all ${big.turnsInFlightAtOnce === undefined ? '' : 'in flight at once, '}none failed)`,
      value: completed,
      unit: 'turns',
      target: `value = ${big.sessions}`,
      baseline: Math.min(...smalls.map((r) => r.turnsCompleted)),
      ratio: round(completed / big.sessions),
      pass: allDone,
    },
  );
  return out;
}

/** Runs of each size (P3_RUNS); the spawn figure takes the least disturbed one. */
const RUNS = Math.max(1, Number(process.env.P3_RUNS ?? 3));

export async function measure(hibernate: boolean, layer: Layer, n = 10_000, runs = RUNS): Promise<Figure[]> {
  const smalls: P3Result[] = [];
  const bigs: P3Result[] = [];
  for (let i = 0; i < runs; i++) {
    smalls.push(await runChild(100, hibernate, layer));
    bigs.push(await runChild(n, hibernate, layer));
  }
  for (const r of [...smalls, ...bigs]) console.error(`p3 ${JSON.stringify(r)}`);
  return figures(bigs, smalls);
}

/** `npm run bench`: the P3 figures (the whole supervisor, hibernation on). */
export async function benchP3(): Promise<Figure[]> {
  return measure(true, 'supervisor');
}

const print = (f: Figure) =>
  console.log(`${f.pass ? 'PASS' : 'MISS'}  ${f.figure}\n      ${f.value.toLocaleString()} ${f.unit} vs baseline ${f.baseline.toLocaleString()}  ratio ${f.ratio}  (target ${f.target})`);

const isMain = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain && process.argv[2] === 'child') {
  const n = Number(process.argv[3] ?? 10_000);
  const hibernate = process.argv[4] !== 'off';
  const layer = (process.argv[5] ?? 'supervisor') as Layer;
  child(n, hibernate, layer).then(
    (r) => {
      process.stdout.write(`${JSON.stringify(r)}\n`);
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
} else if (isMain) {
  // `tsx bench/p3-sessions.ts [--compare] [--manager]`: P3 alone. --compare adds the design
  // before hibernation (hibernate: false); --manager adds the SessionManager-only layer.
  const hib = process.argv.includes('--off') ? [false] : process.argv.includes('--compare') ? [true, false] : [true];
  const layers: Layer[] = process.argv.includes('--manager-only') ? ['manager'] : process.argv.includes('--manager') ? ['supervisor', 'manager'] : ['supervisor'];
  for (const layer of layers) for (const h of hib) for (const f of await measure(h, layer)) print(f);
}
