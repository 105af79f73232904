// P3's measuring child: one run of N sessions in a fresh `node --expose-gc` process, its
// result printed as one JSON line (bench/p3-sessions.ts runs it and builds the figures).
import { PerformanceObserver } from 'node:perf_hooks';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSupervisor } from '../src/supervisor/supervisor.js';
import { SessionManager } from '../src/session/manager.js';
import { resolveApprovalSettings } from '../src/approvals/settings.js';
import { createLogger } from '../src/log/logger.js';
import { CountingStore, FakeAppServer, FakeCodexHarness } from './p3-fakes.js';

/** Messages handed over per event-loop turn (a host receives them one frame at a time). */
const BATCH = Number(process.env.P3_BATCH ?? 1);
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

export async function child(n: number, hibernate: boolean, layer: Layer): Promise<P3Result> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');

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
  let manager: () => SessionManager | undefined;
  let flush: () => Promise<void>;
  let stop: () => Promise<void>;
  if (layer === 'supervisor') {
    const harness = new FakeCodexHarness(conn, log, hibernate);
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

const isMain = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const n = Number(process.argv[2] ?? 10_000);
  const hibernate = process.argv[3] !== 'off';
  const layer = (process.argv[4] ?? 'supervisor') as Layer;
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
}
