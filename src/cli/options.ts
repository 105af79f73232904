// Validation of command-line values. Every problem is a `UsageProblem` (exit 2) whose message
// names the flag or variable and says what to write instead; no stack trace is ever shown
// for one.
import { statSync } from 'node:fs';
import { createServer } from 'node:net';

export class UsageProblem extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageProblem';
  }
}

/** Largest delay a Node.js timer honours; above it a timer fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Room, channel, thread and participant names become parts of a `room/channel/thread` key. */
const NAME = /^[^/\s]+$/;

export function checkName(value: string, flag: string): string {
  if (value.length === 0 || value.length > 200 || !NAME.test(value) || /[\x00-\x1f\x7f-\x9f]/.test(value)) {
    throw new UsageProblem(`${flag}: use letters, digits, dashes; no slashes or spaces (1-200 characters), got ${JSON.stringify(value.slice(0, 60))}`);
  }
  return value;
}

export function parsePort(value: string, flag = '--port'): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new UsageProblem(`${flag}: "${value}" is not a port number: write an integer from 1 to 65535 (or 0 for any free port)`);
  }
  return n;
}

/** `250`, `250ms`, `30s`, `5m`, `2h`, `7d` → milliseconds, at most MAX_TIMER_MS. */
export function parseDuration(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/i.exec(value.trim());
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m?.[2] ?? 'ms').toLowerCase() as 'ms'];
  const ms = m ? Math.round(Number(m[1]) * unit) : NaN;
  if (!Number.isFinite(ms) || ms <= 0) throw new UsageProblem(`${flag}: "${value}" is not a duration: write e.g. 30s, 5m, 2h or a number of milliseconds`);
  if (ms > MAX_TIMER_MS) throw new UsageProblem(`${flag}: "${value}" is too long: at most ${MAX_TIMER_MS} ms (about 24.8 days)`);
  return ms;
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** A directory that exists (`--cwd`): a missing one is refused here, not deep in a turn. */
export function checkDirectory(value: string, flag: string): string {
  let isDir = false;
  try {
    isDir = statSync(value).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageProblem(`${flag}: "${value}" ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})`}: give an existing directory`);
  }
  if (!isDir) throw new UsageProblem(`${flag}: "${value}" is not a directory: give an existing directory`);
  return value;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** SWITCHBOARD_LOG_LEVEL, checked before any logger is made (pino would throw a stack). */
export function checkLogLevel(env: NodeJS.ProcessEnv): void {
  const v = env.SWITCHBOARD_LOG_LEVEL;
  if (v === undefined || v === '') return;
  if (!(LOG_LEVELS as readonly string[]).includes(v)) {
    throw new UsageProblem(`SWITCHBOARD_LOG_LEVEL=${JSON.stringify(v).slice(1, -1).slice(0, 40)}: write one of ${LOG_LEVELS.join(', ')}`);
  }
}

/**
 * Whether `host` (with `port`, 0 = any) can be bound: an address this machine does not have
 * (EADDRNOTAVAIL), a name that does not resolve, a port in use or a privileged port is a usage
 * error naming the flag, found before anything else starts.
 */
export async function checkBindable(host: string, port: number | undefined): Promise<void> {
  const err = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    const s = createServer();
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e));
    s.listen(port ?? 0, host, () => s.close(() => resolve(undefined)));
  });
  if (!err) return;
  switch (err.code) {
    case 'EADDRNOTAVAIL':
      throw new UsageProblem(`--host ${host}: this machine has no such address: use 127.0.0.1 (loopback) or one of its own addresses`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      throw new UsageProblem(`--host ${host}: the name does not resolve: use an IP address such as 127.0.0.1`);
    case 'EACCES':
      throw new UsageProblem(`--host ${host} --port ${port ?? 0}: permission denied: use a port above 1023`);
    case 'EADDRINUSE':
      throw new UsageProblem(`--port ${port}: already in use on ${host}: choose another port or 0 for any free one`);
    default:
      throw new UsageProblem(`--host ${host}: cannot listen there (${err.code ?? err.message})`);
  }
}

/** What `join` and `room serve` say when the room server cannot listen (a usage error: exit 2). */
export function listenProblem(err: unknown, host: string | undefined, port: number | undefined): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `cannot listen on --host ${host ?? '127.0.0.1'} --port ${port ?? 0}: ${e.code}` : e.message;
}

/** `--storage`: a kind (dataset, none, codex), or a postgres:// URL for `postgres` storage. */
export function parseStorage(value: string, flag = '--storage'): { kind: 'dataset' | 'none' | 'codex' } | { kind: 'postgres'; url: string } {
  const v = value.trim();
  if (v === 'dataset' || v === 'none' || v === 'codex') return { kind: v };
  if (/^postgres(ql)?:\/\/[^\s\x00-\x1f]+$/.test(v) && v.length <= 2000) return { kind: 'postgres', url: v };
  // The value may hold a password: never echo it.
  throw new UsageProblem(`${flag}: write dataset, none, codex or a postgres:// URL (user:password@host:port/database after the scheme; or set SWITCHBOARD_STORAGE_URL)`);
}
