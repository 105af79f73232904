// P6: 64 conversations, one real turn each, all at once, through Switchboard vs a raw JSON-RPC
// driver on the same number of real app-servers (one), against the same scripted model, which
// runs in a process of its own (bench/model-process.ts), as a real model is remote.
//   - raw:         bench/raw-driver.ts: 64 × (thread/start, turn/start) at once, until 64 turn/completed.
//   - Switchboard: a real Supervisor (dataset storage, production logging into a sink): 64 room
//                  messages posted at once, until 64 `turn.completed` room events.
// Both sides spawn the same binary with the same arguments, environment (isolated HOME and
// CODEX_HOME over the process environment) and thread/start settings (never, workspace-write).
// Both clocks start after the app-server is up (spawn and handshake are P5's); turns/s each,
// the two sides back to back in each run (alternating which goes first), each run on a fresh
// CODEX_HOME; the figure is the median of the runs' ratios. Run alone with
// `npx tsx bench/p6-concurrent-turns.ts` (P6_RUNS, P6_TRACE=1 prints each run).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import type { DestinationStream } from 'pino';
import { filter, firstValueFrom, take, toArray } from 'rxjs';
import { resolveCodexCommand } from '../src/connection/codex-command.js';
import { createLogger } from '../src/log/logger.js';
import { createSupervisor } from '../src/supervisor/supervisor.js';
import { makeCodexHome } from '../test/support/codex-home.js';
import { startModelProcess } from './model-process.js';
import { RawDriver } from './raw-driver.js';
import type { Figure } from './common.js';

const CONVERSATIONS = Number(process.env.P6_CONVERSATIONS ?? 64);
const RUNS = Number(process.env.P6_RUNS ?? 5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface World {
  /** A fresh CODEX_HOME per run: the app-server's cost grows with the threads a home holds, and a
   * side that always ran second would pay for the first side's 64. */
  env(): Record<string, string>;
  cwd: string;
  base: string;
  close(): Promise<void>;
}

async function world(): Promise<World> {
  const mock = await startModelProcess();
  const homes: Array<ReturnType<typeof makeCodexHome>> = [];
  const base = mkdtempSync(path.join(tmpdir(), 'sb-bench-p6-'));
  const cwd = path.join(base, 'ws');
  mkdirSync(cwd);
  mkdirSync(path.join(base, 'home'));
  return {
    env() {
      for (const h of homes.splice(0)) h.cleanup();
      const home = makeCodexHome({ modelUrl: mock.url });
      homes.push(home);
      return { CODEX_HOME: home.dir, HOME: path.join(base, 'home') };
    },
    cwd,
    base,
    async close() {
      await mock.close();
      for (const h of homes.splice(0)) h.cleanup();
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/** turns/s of the raw driver. */
async function rawRun(w: World): Promise<number> {
  const d = new RawDriver(resolveCodexCommand(), { ...process.env, ...w.env() });
  try {
    await d.handshake();
    let done = 0;
    const all = new Promise<void>((resolve) =>
      d.on((m) => {
        if (m.method === 'turn/completed' && ++done === CONVERSATIONS) resolve();
      }),
    );
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONVERSATIONS }, async (_, i) => {
        const t = await d.request('thread/start', { cwd: w.cwd, approvalPolicy: 'never', sandbox: 'workspace-write' });
        const threadId = ((t.result as { thread: { id: string } }).thread).id;
        await d.request('turn/start', { threadId, input: [{ type: 'text', text: `hello ${i}`, text_elements: [] }] });
      }),
    );
    await all;
    return CONVERSATIONS / ((performance.now() - t0) / 1000);
  } finally {
    await d.close();
  }
}

/** turns/s through a real Supervisor. */
async function switchboardRun(w: World, run: number): Promise<number> {
  const log = createLogger({ level: 'info', destination: new Writable({ write: (_c, _e, cb) => cb() }) as unknown as DestinationStream });
  const state = path.join(w.base, `state-${run}`);
  const sb = createSupervisor(
    {
      // The raw driver's thread/start asks for workspace-write; so does this side (Switchboard's
      // default yolo mode would ask for danger-full-access), so both make Codex do the same work.
      appServer: { env: w.env(), sandbox: 'workspace-write' },
      agents: { defaults: { cwd: w.cwd } },
      sessions: { bindingsDir: path.join(state, 'bindings') },
      storage: { kind: 'dataset', path: path.join(state, 'threads.db') },
    },
    { log, baseDir: w.base, stateDir: state },
  );
  await sb.start();
  try {
    const completed = firstValueFrom(
      sb.events$.pipe(
        filter((e) => e.type === 'turn.completed' || e.type === 'turn.failed'),
        take(CONVERSATIONS),
        toArray(),
      ),
    );
    const t0 = performance.now();
    await Promise.all(Array.from({ length: CONVERSATIONS }, (_, i) => sb.post({ room: 'p6', thread: `t${i}`, from: { id: `u${i}` }, text: `hello ${i}` })));
    const ends = await completed;
    const secs = (performance.now() - t0) / 1000;
    const failed = ends.filter((e) => e.type === 'turn.failed');
    if (failed.length) throw new Error(`${failed.length} turns failed: ${JSON.stringify(failed[0])}`);
    return CONVERSATIONS / secs;
  } finally {
    await sb.stop();
  }
}

export async function benchP6(): Promise<Figure> {
  const w = await world();
  try {
    // Warm the binary and the model server once on each side.
    await rawRun(w);
    await switchboardRun(w, 0);
    const raw: number[] = [];
    const sbx: number[] = [];
    for (let i = 1; i <= RUNS; i++) {
      // Sides alternate which goes first (raw-sb, sb-raw, …): neither always runs in the other's wake.
      for (const side of i % 2 ? (['raw', 'sb'] as const) : (['sb', 'raw'] as const)) {
        const c0 = process.cpuUsage();
        const perSec = side === 'raw' ? await rawRun(w) : await switchboardRun(w, i);
        (side === 'raw' ? raw : sbx).push(perSec);
        const c = process.cpuUsage(c0);
        if (process.env.P6_TRACE) console.error(`P6 run ${i} ${side}: ${perSec.toFixed(2)} turns/s (own CPU ${Math.round((c.user + c.system) / 1000)} ms)`);
      }
    }
    // Each run's two sides ran back to back under the same conditions; the load of this shared
    // machine drifts between runs (one side's turns/s varies by ±10 % from run to run, more than
    // the difference measured). So the figure is the median of the runs' own ratios (paired).
    const pairs = raw.map((r, i) => sbx[i]! / r);
    const ratio = Number(median(pairs).toFixed(3));
    const r = median(raw);
    const s = median(sbx);
    const list = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');
    return {
      figure: `P6 ${CONVERSATIONS} concurrent real turns (one each) through Switchboard vs a raw JSON-RPC driver, 1 real app-server, turns/s; median of ${RUNS} paired runs' ratios (${list(pairs)}; raw ${list(raw)}; switchboard ${list(sbx)}; value and baseline are the medians)`,
      value: Number(s.toFixed(2)),
      unit: 'turns/s',
      target: 'ratio >= 0.95',
      baseline: Number(r.toFixed(2)),
      ratio,
      pass: ratio >= 0.95,
    };
  } finally {
    await w.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(await benchP6());
}
