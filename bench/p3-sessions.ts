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
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Figure } from './common.js';
import type { Layer, P3Result } from './p3-child.js';

export type { Layer, P3Result } from './p3-child.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const CHILD = path.join(here, 'p3-child.ts');

// ---------------------------------------------------------------------------------------
// parent: run the children, build the figures

export function runChild(n: number, hibernate: boolean, layer: Layer = 'supervisor'): Promise<P3Result> {
  const args = ['--expose-gc', '--max-old-space-size=4096', '--import', 'tsx', CHILD, String(n), hibernate ? 'on' : 'off', layer];
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
if (isMain) {
  // `tsx bench/p3-sessions.ts [--compare] [--manager]`: P3 alone. --compare adds the design
  // before hibernation (hibernate: false); --manager adds the SessionManager-only layer.
  const hib = process.argv.includes('--off') ? [false] : process.argv.includes('--compare') ? [true, false] : [true];
  const layers: Layer[] = process.argv.includes('--manager-only') ? ['manager'] : process.argv.includes('--manager') ? ['supervisor', 'manager'] : ['supervisor'];
  for (const layer of layers) for (const h of hib) for (const f of await measure(h, layer)) print(f);
}
