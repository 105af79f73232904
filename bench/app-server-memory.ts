// Real app-server memory per idle session: N conversations (default 2,000) each run one real
// turn through Switchboard on the real `codex app-server` with the scripted model, then go
// idle. Measured twice, each in a fresh `node --expose-gc` child:
//
//   plain   one app-server, no pool (every loaded thread stays loaded: ≈ 0.9 MB each)
//   pool    appServer.pool { size, maxLoadedThreads, maxRssMb, recycleIdleAfterMs }: members
//           are drained at their limits and recycled when idle, which unloads their threads
//
//   per idle session  (RSS of Switchboard + every app-server process group, all sessions idle
//                     − the same after start and a warm-up) / N; the scripted model runs in a
//                     process of its own (it is not Switchboard's memory); each Usage also
//                     has the app-servers' file-backed part (pages of the codex executable)
//   budget            total app-server RSS sampled every 500 ms through the pool run, against
//                     size × maxRssMb: every sample must be within it
//   latency           after the run, sequentially: a fresh conversation's first message vs the
//                     next message of an idle conversation whose member was recycled (its
//                     thread is resumed on whichever member takes it), post → turn.completed;
//                     p99 of each, K of each (interleaved)
//
// Environment: APPSERVER_BENCH_N (sessions, default 2000), APPSERVER_BENCH_CONCURRENCY (turns
// at once, 16), APPSERVER_BENCH_K (latency samples of each kind, 100), APPSERVER_BENCH_PARALLEL=1
// (both runs at once), APPSERVER_BENCH_POOL
// (JSON of appServer.pool, default {"size":2,"maxLoadedThreads":100,"maxRssMb":400,"recycleIdleAfterMs":3000}).
// `tsx bench/app-server-memory.ts` runs it alone.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Figure } from './common.js';
import { createSupervisor, type Supervisor } from '../src/supervisor/supervisor.js';
import { createLogger } from '../src/log/logger.js';
import { makeCodexHome } from '../src/scripted-model/codex-home.js';
import { startScriptedModel } from '../src/scripted-model/server.js';
import { groupRssBytes, type RssPart } from '../src/metrics/process-rss.js';
import type { ConnectionPool } from '../src/pool/pool.js';
import type { RoomEvent } from '../src/events/room-events.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const N = Number(process.env.APPSERVER_BENCH_N ?? 2000);
const CONCURRENCY = Number(process.env.APPSERVER_BENCH_CONCURRENCY ?? 16);
const K = Number(process.env.APPSERVER_BENCH_K ?? 100);
const WARMUP = 20;
const POOL = JSON.parse(process.env.APPSERVER_BENCH_POOL ?? '{"size":2,"maxLoadedThreads":100,"maxRssMb":400,"recycleIdleAfterMs":3000}') as {
  size: number;
  maxLoadedThreads?: number;
  maxRssMb: number;
  recycleIdleAfterMs?: number;
};
const MB = 1024 * 1024;

type Mode = 'plain' | 'pool';

/** RSS of Switchboard (with its V8 heap and native parts) and of all app-servers, bytes. */
interface Usage {
  switchboard: number;
  appServers: number;
  /** The file-backed part of `appServers` (pages of the codex executable each process touched). */
  appServerFile: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}

export interface MemoryResult {
  mode: Mode;
  sessions: number;
  base: Usage;
  idle: Usage;
  perIdleBytes: number;
  appServerSamples: number;
  peakAppServerBytes: number;
  budgetBytes: number | undefined;
  overBudgetSamples: number;
  latency: { fresh: number[]; recycled: number[] } | undefined;
  turns: { completed: number; other: number };
  recycles: number;
  elapsedMs: number;
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : NaN;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function appServerRss(sb: Supervisor, part: RssPart = 'VmRSS'): Promise<number> {
  const pids = sb.codex.appServers().map((c) => c.status().pid);
  const sizes = await Promise.all(pids.map((pid) => (pid !== undefined ? groupRssBytes(pid, part) : undefined)));
  return sizes.reduce<number>((n, s) => n + (s ?? 0), 0);
}

async function usage(sb: Supervisor): Promise<Usage> {
  for (let i = 0; i < 3; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await sleep(50);
  }
  const m = process.memoryUsage();
  return {
    switchboard: m.rss,
    appServers: await appServerRss(sb),
    appServerFile: await appServerRss(sb, 'RssFile'),
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
  };
}

/** One child run: a Supervisor with one app-server or a pool, N one-turn conversations, then idle. */
async function measure(mode: Mode, n: number): Promise<MemoryResult> {
  const t0 = Date.now();
  const dir = mkdtempSync(path.join(tmpdir(), `sb-appmem-${mode}-`));
  const home = path.join(dir, 'home');
  const workspace = path.join(dir, 'workspace');
  mkdirSync(home);
  mkdirSync(workspace);
  // The scripted model runs in a process of its own: its buffers are not Switchboard's memory.
  const model = await modelProcess();
  const codexHome = makeCodexHome({ modelUrl: model.url });
  const env = { CODEX_HOME: codexHome.dir, HOME: home };
  const sb = createSupervisor(
    {
      appServer: { env, ...(mode === 'pool' ? { pool: POOL } : {}) },
      agents: { defaults: { cwd: workspace } },
      sessions: { bindingsDir: path.join(dir, 'bindings') },
      storage: { kind: 'dataset', path: path.join(dir, 'threads.db') },
      log: { level: 'silent' },
    },
    { log: createLogger({ level: 'silent' }), baseDir: dir, stateDir: dir },
  );
  const waiting = new Map<string, (e: RoomEvent) => void>();
  const turns = { completed: 0, other: 0 };
  sb.events$.subscribe((e) => {
    if (e.type !== 'turn.completed' && e.type !== 'turn.failed' && e.type !== 'turn.interrupted') return;
    if (e.type === 'turn.completed') turns.completed++;
    else turns.other++;
    waiting.get(e.session)?.(e);
  });
  const turn = async (room: string, text: string): Promise<number> => {
    const session = `${room}/chat/main`;
    const started = performance.now();
    const ended = new Promise<RoomEvent>((resolve) => waiting.set(session, resolve));
    await sb.post({ room, from: { id: 'u', name: 'U' }, text });
    const e = await ended;
    waiting.delete(session);
    if (e.type !== 'turn.completed') throw new Error(`${session}: ${e.type} ${JSON.stringify(e).slice(0, 300)}`);
    return performance.now() - started;
  };
  const pool = () => (mode === 'pool' ? (sb.codex.clientFor('default') as ConnectionPool) : undefined);
  const allIdle = async (timeoutMs: number) => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const members = pool()?.status().members ?? [];
      if (members.every((m) => m.loadedThreads === 0 && m.phase === 'active' && m.state === 'running.ready')) return;
      if (Date.now() > end) throw new Error(`members not idle: ${JSON.stringify(members.map((m) => [m.id, m.phase, m.loadedThreads]))}`);
      await sleep(200);
    }
  };
  const budgetBytes = mode === 'pool' ? POOL.size * POOL.maxRssMb * MB : undefined;
  try {
    await sb.start();
    for (let i = 0; i < WARMUP; i++) await turn(`warm${i}`, 'warm up');
    await allIdle(120_000);
    await sleep(1_000);
    const base = await usage(sb);

    let sampling = true;
    const samples: number[] = [];
    const sampler = (async () => {
      while (sampling) {
        samples.push(await appServerRss(sb));
        await sleep(500);
      }
    })();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < n) {
          const i = next++;
          if (i % 250 === 0) console.error(`[${mode}] session ${i}/${n} at ${Math.round((Date.now() - t0) / 1000)} s`);
          await turn(`s${i}`, 'Say ok.');
        }
      }),
    );
    await allIdle(180_000);
    await sleep(2_000);
    const idle = await usage(sb);

    let latency: MemoryResult['latency'];
    if (mode === 'pool') {
      latency = { fresh: [], recycled: [] };
      const p = pool()!;
      const threadOf = (i: number) => sb.codex.allSessions().find((s) => s.status?.session === `s${i}/chat/main`)?.status?.threadId;
      for (let k = 0; k < K; k++) {
        latency.fresh.push(await turn(`fresh${k}`, 'Say ok.'));
        const i = Math.floor((k * n) / K);
        const t = threadOf(i);
        if (!t || p.memberOf(t) !== undefined) throw new Error(`s${i}: its thread ${t} is still loaded: not a recycled session`);
        latency.recycled.push(await turn(`s${i}`, 'Say ok again.'));
      }
    }
    sampling = false;
    await sampler;
    return {
      mode,
      sessions: n,
      base,
      idle,
      perIdleBytes: Math.round((idle.switchboard + idle.appServers - base.switchboard - base.appServers) / n),
      appServerSamples: samples.length,
      peakAppServerBytes: Math.max(...samples),
      budgetBytes,
      overBudgetSamples: budgetBytes === undefined ? 0 : samples.filter((s) => s > budgetBytes).length,
      latency,
      turns,
      recycles: pool()?.status().members.reduce((r, m) => r + m.recycles, 0) ?? 0,
      elapsedMs: Date.now() - t0,
    };
  } finally {
    await sb.stop();
    await model.close();
    codexHome.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The scripted model in a child process (it keeps no request bodies); resolves with its URL. */
function modelProcess(): Promise<{ url: string; close(): Promise<void> }> {
  const p = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'model'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  return new Promise((resolve, reject) => {
    p.once('error', reject);
    p.stdout.setEncoding('utf8').once('data', (url: string) =>
      resolve({
        url: url.trim(),
        close: async () => {
          p.kill('SIGTERM');
          await exited;
        },
      }),
    );
  });
}

async function serveModel(): Promise<void> {
  let requests: unknown[] = [];
  const model = await startScriptedModel((_req, i) => {
    requests.length = 0;
    return { text: `ok ${i}`, chunks: 1 };
  });
  requests = model.requests;
  console.log(model.url);
  process.once('SIGTERM', () => void model.close().then(() => process.exit(0)));
}

function runChild(mode: Mode, n: number): Promise<MemoryResult> {
  const args = ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), 'child', mode, String(n)];
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.on('error', reject);
    p.on('close', (code, signal) => {
      if (code !== 0) return reject(new Error(`app-server memory child (${mode}, ${n}) exited ${code ?? signal}: ${out.slice(-2000)}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '') as MemoryResult);
      } catch {
        reject(new Error(`app-server memory child printed no result: ${out.slice(-2000)}`));
      }
    });
  });
}

const kib = (b: number) => Math.round((b / 1024) * 10) / 10;
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

export async function benchAppServerMemory(): Promise<Figure[]> {
  // In parallel (APPSERVER_BENCH_PARALLEL=1) the two runs share the CPU: memory is per process
  // tree either way, and the latency figure compares samples interleaved in one run.
  const run = async (mode: Mode) => {
    const r = await runChild(mode, N);
    console.error(JSON.stringify({ ...r, latency: undefined }));
    return r;
  };
  const [plain, pooled] = process.env.APPSERVER_BENCH_PARALLEL === '1' ? await Promise.all([run('plain'), run('pool')]) : [await run('plain'), await run('pool')];
  const allTurns = (r: MemoryResult) => r.turns.other === 0 && r.turns.completed >= r.sessions + WARMUP;
  const perIdle = kib(pooled.perIdleBytes);
  const fresh = pct(pooled.latency!.fresh, 99);
  const recycled = pct(pooled.latency!.recycled, 99);
  return [
    {
      figure: `real app-server memory per idle session (RSS of Switchboard + all app-servers, ${N} sessions after one real turn each): pool recycling vs one app-server without`,
      value: perIdle,
      unit: 'KiB per idle session',
      target: '≤ 64 KiB per idle session with recycling (≈ 900 KiB without)',
      baseline: kib(plain.perIdleBytes),
      ratio: round(pooled.perIdleBytes / plain.perIdleBytes, 3),
      pass: perIdle <= 64 && allTurns(pooled) && allTurns(plain),
    },
    {
      figure: `app-server pool: peak total app-server RSS over ${pooled.appServerSamples} samples vs the configured budget (size ${POOL.size} × maxRssMb ${POOL.maxRssMb})`,
      value: Math.round(pooled.peakAppServerBytes / MB),
      unit: 'MB',
      target: 'every sample within the budget',
      baseline: Math.round(pooled.budgetBytes! / MB),
      ratio: round(pooled.peakAppServerBytes / pooled.budgetBytes!),
      pass: pooled.overBudgetSamples === 0,
    },
    {
      figure: `app-server pool: p99 first-message latency of an idle session whose member was recycled vs a fresh thread's (${K} each, post → turn.completed)`,
      value: round(recycled, 1),
      unit: 'ms',
      target: '≤ 1.5 × the fresh thread p99',
      baseline: round(fresh, 1),
      ratio: round(recycled / fresh),
      pass: recycled <= 1.5 * fresh,
    },
  ];
}

const isMain = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain && process.argv[2] === 'model') {
  await serveModel();
} else if (isMain && process.argv[2] === 'child') {
  const result = await measure(process.argv[3] as Mode, Number(process.argv[4] ?? N));
  console.log(JSON.stringify(result));
  process.exit(0);
} else if (isMain) {
  for (const f of await benchAppServerMemory()) console.log(JSON.stringify(f));
}
