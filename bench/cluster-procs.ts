// The cluster benchmarks' plumbing: a PostgreSQL of their own (test/support/postgres.ts) and
// Switchboard nodes as OS processes (bench/cluster-node.ts over bench/cluster-app-server.mjs).
// `withCluster` stops every node it started and the database, also when the bench fails.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsxLoader } from '../test/support/cli-proc.js';
import { startPostgres, type TestPostgres } from '../test/support/postgres.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const NODE_SCRIPT = path.join(here, 'cluster-node.ts');
const FAKE = path.join(here, 'cluster-app-server.mjs');

export type NodeLine = { ready?: number; started?: string; notice?: string; failed?: string; error?: string; at?: number };

export interface NodeOptions {
  url: string;
  ttlMs?: number;
  maxSessions?: number;
  /** The fake app-server holds every turn open (failover). */
  hold?: boolean;
}

export interface NodeProc {
  name: string;
  child: ChildProcess;
  lines: NodeLine[];
  /** The tail of its log (warnings and errors). */
  stderr(): string;
  /** Called for each line as it arrives (after it is pushed to `lines`). */
  onLine(fn: (l: NodeLine) => void): void;
  post(msg: { room: string; thread: string; from: { id: string }; text: string }): void;
  exited: Promise<void>;
}

export interface ClusterWorld {
  pg: TestPostgres;
  /** Starts a node process and waits until it is ready. */
  node(name: string, o: NodeOptions): Promise<NodeProc>;
  /** kill -9 (the node's fake app-server ends with its stdin). */
  kill(n: NodeProc): Promise<void>;
  /** Ends every node this world started: stdin closed (a graceful stop), SIGKILL after 10 s. */
  stopNodes(): Promise<void>;
}

export const cores = availableParallelism();
export const load1 = (): number => Number(loadavg()[0]!.toFixed(2));

export async function withCluster<T>(fn: (w: ClusterWorld) => Promise<T>): Promise<T> {
  const pg = await startPostgres();
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-bench-cluster-'));
  /** Nodes not yet stopped by stopNodes; `all` keeps every one, for the log tails of a failure. */
  const started: NodeProc[] = [];
  const all: NodeProc[] = [];
  const kill = async (n: NodeProc) => {
    if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill('SIGKILL');
    await n.exited;
  };
  const world: ClusterWorld = {
    pg,
    async node(name, o) {
      const n = spawnNode(name, o, path.join(dir, name));
      started.push(n);
      all.push(n);
      await new Promise<void>((resolve, reject) => {
        n.onLine((l) => l.ready !== undefined && resolve());
        void n.exited.then(() => reject(new Error(`node ${name} exited before it was ready (${n.child.exitCode ?? n.child.signalCode})`)));
      });
      return n;
    },
    kill,
    async stopNodes() {
      await Promise.all(
        started.splice(0).map(async (n) => {
          if (n.child.exitCode !== null || n.child.signalCode !== null) return;
          n.child.stdin!.end();
          const timer = setTimeout(() => n.child.kill('SIGKILL'), 10_000);
          await n.exited;
          clearTimeout(timer);
        }),
      );
    },
  };
  try {
    return await fn(world);
  } catch (err) {
    for (const n of all) if (n.stderr()) console.error(`--- node ${n.name} log tail:\n${n.stderr()}`);
    throw err;
  } finally {
    for (const n of started) if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill('SIGKILL');
    await Promise.all(started.map((n) => n.exited));
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function spawnNode(name: string, o: NodeOptions, dir: string): NodeProc {
  const config = {
    appServer: { command: process.execPath, args: [FAKE], env: { CLUSTER_FAKE_HOLD: o.hold ? '1' : '0' } },
    agents: { defaults: { cwd: dir } },
    storage: { kind: 'postgres', url: o.url },
    cluster: { node: name, leaseTtlMs: o.ttlMs ?? 10_000, maxSessions: o.maxSessions ?? 64 },
    log: { level: 'warn' },
  };
  const child = spawn(process.execPath, [...(process.env.CLUSTER_NODE_FLAGS?.split(' ').filter(Boolean) ?? []), '--import', tsxLoader, NODE_SCRIPT], {
    env: { ...process.env, CLUSTER_NODE_CONFIG: JSON.stringify(config), CLUSTER_NODE_DIR: dir },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // Its warnings (e.g. leases lost) are kept, and shown only when the bench fails.
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-8000)));
  child.stdin!.on('error', () => undefined); // a killed node's stdin: nothing more to say to it
  const lines: NodeLine[] = [];
  const listeners: Array<(l: NodeLine) => void> = [];
  let buf = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop()!;
    for (const p of parts) {
      if (!p.trim()) continue;
      const l = JSON.parse(p) as NodeLine;
      lines.push(l);
      for (const fn of listeners) fn(l);
    }
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    name,
    child,
    lines,
    stderr: () => stderr,
    onLine: (fn) => listeners.push(fn),
    post: (msg) => void child.stdin!.write(`post ${JSON.stringify(msg)}\n`),
    exited,
  };
}

/** utime + stime of a process so far, in seconds (Linux /proc; 0 once it is gone). */
export function cpuOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds so far of the PostgreSQL server on `port` and its live backends (Linux /proc). */
export function postgresCpu(port: number): number {
  const procs = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  const cmd = (pid: string) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      return [];
    }
  };
  const server = procs.find((pid) => {
    const args = cmd(pid);
    return args[0]?.endsWith('postgres') === true && args.includes('-p') && args[args.indexOf('-p') + 1] === String(port);
  });
  if (!server) return 0;
  const parentOf = (pid: string) => {
    try {
      return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1];
    } catch {
      return undefined;
    }
  };
  return procs.filter((pid) => pid === server || parentOf(pid) === server).reduce((sum, pid) => sum + cpuOf(Number(pid)), 0);
}

export const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
};
