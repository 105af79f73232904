// P5: cold start to ready — `new Connection(...).start()` vs spawning the same binary and
// doing the raw handshake. Runs alternate so both see the same machine state.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Connection } from '../src/connection/connection.js';
import { resolveCodexCommand } from '../src/connection/codex-command.js';
import { createLogger } from '../src/log/logger.js';
import { RawDriver } from './raw-driver.js';
import type { Figure } from './common.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchColdStart(runs = 11): Promise<Figure> {
  const home = mkdtempSync(path.join(tmpdir(), 'sb-bench-home-'));
  const command = resolveCodexCommand();
  const env = { ...process.env, CODEX_HOME: home };
  const log = createLogger({ level: 'silent' });
  const raw: number[] = [];
  const ours: number[] = [];
  try {
    const rawOnce = async (): Promise<number> => {
      const t0 = performance.now();
      const d = new RawDriver(command, env);
      await d.handshake();
      const ms = performance.now() - t0;
      await d.close();
      return ms;
    };
    const oursOnce = async (): Promise<number> => {
      const t0 = performance.now();
      const c = new Connection({ transport: { kind: 'stdio', command, env }, log });
      await c.start();
      const ms = performance.now() - t0;
      await c.stop();
      return ms;
    };
    // The first pair warms the page cache for the binary; after it, the order alternates so
    // neither side always runs right after the other's teardown.
    for (let i = 0; i < runs + 1; i++) {
      let rawMs: number;
      let ourMs: number;
      if (i % 2 === 0) {
        rawMs = await rawOnce();
        ourMs = await oursOnce();
      } else {
        ourMs = await oursOnce();
        rawMs = await rawOnce();
      }
      if (i > 0) {
        raw.push(rawMs);
        ours.push(ourMs);
      }
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  const baseline = median(raw);
  const value = median(ours);
  const ratio = value / baseline;
  return {
    figure: 'P5 cold start to ready (median) vs raw spawn + handshake',
    value: Number(value.toFixed(1)),
    unit: 'ms',
    target: 'ratio <= 1.1',
    baseline: Number(baseline.toFixed(1)),
    ratio: Number(ratio.toFixed(3)),
    pass: ratio <= 1.1,
  };
}
