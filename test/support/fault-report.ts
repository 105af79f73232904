// Figures of the fault & security suite, reported at the end of the test run.
//
// Vitest runs each test file in its own worker process, in an order it chooses, so no file
// can know it is the last one. Each fault/security file therefore publishes its own figures
// into a directory shared by the whole run (keyed by the vitest main process: the workers'
// parent pid and its start time) and prints the totals of every file published so far; the
// last file to finish prints the complete figures ("5 of 5 files").
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface FileFigures {
  file: string;
  faults: Record<string, { injected: number; survived: number }>;
  /** Approval answers that said yes on the wire, or approved audits, in fault scenarios. */
  acceptedByFault: number;
  /** Log lines this file captured and grepped for secrets. */
  logLines: number;
  /** Log lines that leaked a secret (must be 0). */
  leaks: number;
}

const testDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Identifies one vitest run: its main process (the workers' parent) and that process's start time. */
function runKey(mainPid: number): string {
  let start = '0';
  try {
    // Field 22 of /proc/PID/stat: the process start time.
    const stat = readFileSync(`/proc/${mainPid}/stat`, 'latin1');
    start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '0';
  } catch {
    /* not Linux: the pid alone */
  }
  return `${mainPid}-${start}`;
}

/** The run's directory; `mainPid` is the vitest main process (default: this worker's parent). */
export function reportDir(mainPid = process.ppid): string {
  const root = path.join(tmpdir(), 'switchboard-fault-report');
  mkdirSync(root, { recursive: true });
  // Old runs' figures: drop after a day.
  for (const d of readdirSync(root)) {
    try {
      if (Date.now() - statSync(path.join(root, d)).mtimeMs > 86_400_000) rmSync(path.join(root, d), { recursive: true, force: true });
    } catch {
      /* another worker removed it */
    }
  }
  const dir = path.join(root, runKey(mainPid));
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The fault & security files of this suite (what "complete" means for the totals). */
export function suiteFiles(): string[] {
  return readdirSync(testDir)
    .filter((f) => /^(fault|security).*\.test\.ts$/.test(f))
    .sort();
}

/** Frames fuzzed by test/fault/fuzz-frames.test.ts (read from its source: that file runs in another worker). */
export function fuzzedFrames(): number {
  try {
    const src = readFileSync(path.join(testDir, 'fuzz.frames.test.ts'), 'utf8');
    const m = /numRuns:\s*([\d_]+)/.exec(src);
    return m ? Number(m[1]!.replaceAll('_', '')) : 0;
  } catch {
    return 0;
  }
}

export function publish(fig: FileFigures): void {
  writeFileSync(path.join(reportDir(), `${fig.file}.json`), JSON.stringify(fig));
}

export function readAll(mainPid = process.ppid): FileFigures[] {
  const dir = reportDir(mainPid);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as FileFigures);
}

/** Totals of every file published so far in this run, as printed at the end. */
export function summary(mainPid = process.ppid): string {
  const all = readAll(mainPid);
  const expected = suiteFiles();
  const kinds = new Map<string, { injected: number; survived: number }>();
  for (const f of all) {
    for (const [k, v] of Object.entries(f.faults)) {
      const e = kinds.get(k) ?? { injected: 0, survived: 0 };
      e.injected += v.injected;
      e.survived += v.survived;
      kinds.set(k, e);
    }
  }
  const injected = [...kinds.values()].reduce((s, v) => s + v.injected, 0);
  const survived = [...kinds.values()].reduce((s, v) => s + v.survived, 0);
  const accepted = all.reduce((s, f) => s + f.acceptedByFault, 0);
  const lines = all.reduce((s, f) => s + f.logLines, 0);
  const leaks = all.reduce((s, f) => s + f.leaks, 0);
  const done = all.length >= expected.length ? 'complete' : 'so far';
  return [
    `fault & security suite (${all.length} of ${expected.length} files, ${done}):`,
    `  faults injected: ${injected}, survived: ${survived}; approvals accepted by a fault: ${accepted}; frames fuzzed: ${fuzzedFrames()} (test/fault/fuzz-frames.test.ts)`,
    `  log lines grepped for tokens/auth headers: ${lines}, leaks: ${leaks}`,
    ...[...kinds.entries()].sort().map(([k, v]) => `    ${k}: ${v.survived}/${v.injected}`),
    `  also covered elsewhere: half-open WebSocket heartbeat (test/integration/transport-websocket.test.ts), -32001 retry with backoff (test/unit/connection/machine.test.ts)`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------
// secret grep

const GENERIC: RegExp[] = [
  /\bBearer\s+(?!\[REDACTED\])[A-Za-z0-9._~+/=-]{4,}/i,
  /"authorization"\s*:\s*"(?!\[REDACTED\])[^"]+"/i,
  /\bauthorization:\s*(?!\[REDACTED\])\S+/i,
  /\bsk-[A-Za-z0-9_-]{8,}/,
];

/** Lines that carry one of `secrets` verbatim, a bearer token, an auth header value or an API key. */
export function leakedLines(lines: string[], secrets: string[]): string[] {
  return lines.filter((l) => secrets.some((s) => s && l.includes(s)) || GENERIC.some((re) => re.test(l)));
}
