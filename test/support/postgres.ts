// A real PostgreSQL for tests: initdb into a temporary directory, a server on a free loopback
// port (its unix socket inside that directory), stopped by its pid and removed at the end. One
// server per test file (`startPostgres` in beforeAll), a fresh database per test (`freshDatabase`).
// As root the server runs as the `postgres` OS user (PostgreSQL refuses to run as root).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chownSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { freePort } from './ws-app-server.js';

/** Where initdb and postgres may be: on PATH (e.g. /usr/local/bin), else Debian's apt location. */
const BIN_DIRS = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/17/bin'];

function findBin(name: string): string {
  for (const dir of BIN_DIRS) {
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // next
    }
  }
  throw new Error(`${name} not found on PATH or in /usr/lib/postgresql/*/bin: install postgresql (apt-get install postgresql)`);
}

/** uid/gid to run the server as: the `postgres` user when we are root, else ourselves. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error('running as root needs a `postgres` OS user to run the test database (apt-get install postgresql creates it)');
  }
}

export interface TestPostgres {
  /** URL of the `postgres` maintenance database (superuser, trust auth on loopback). */
  readonly adminUrl: string;
  readonly port: number;
  /** A new empty database; its URL. Dropped when the server stops. */
  freshDatabase(): Promise<string>;
  stop(): Promise<void>;
}

export async function startPostgres(): Promise<TestPostgres> {
  const initdb = findBin('initdb');
  const postgres = findBin('postgres');
  const user = serverUser();
  const root = mkdtempSync(path.join(tmpdir(), 'sb-pg-'));
  const data = path.join(root, 'data');
  if (user) chownSync(root, user.uid, user.gid);
  const as = user ? { uid: user.uid, gid: user.gid } : {};
  let child: ChildProcess | undefined;
  try {
    execFileSync(initdb, ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C'], { ...as, stdio: 'pipe' });
    const port = await freePort();
    // fsync off: a test database need not survive a power cut, and the disk is shared.
    child = spawn(
      postgres,
      ['-D', data, '-p', String(port), '-k', root, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200', ...extraSettings()],
      { ...as, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr = (stderr + String(d)).slice(-4000)));
    const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
    await waitReady(adminUrl, child, () => stderr);
    const server = child;
    let n = 0;
    return {
      adminUrl,
      port,
      async freshDatabase() {
        const name = `t${process.pid}_${++n}`;
        const c = new pg.Client({ connectionString: adminUrl });
        await c.connect();
        try {
          await c.query(`CREATE DATABASE ${name}`);
        } finally {
          await c.end();
        }
        return `postgres://postgres@127.0.0.1:${port}/${name}`;
      },
      async stop() {
        await stopByPid(server);
        rmSync(root, { recursive: true, force: true });
      },
    };
  } catch (err) {
    if (child) await stopByPid(child);
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
}

/** SB_PG_SETTINGS="a=1 b=2": more server settings, for profiling (e.g. shared_preload_libraries=pg_stat_statements). */
function extraSettings(): string[] {
  return (process.env.SB_PG_SETTINGS ?? '').split(/\s+/).filter(Boolean).flatMap((kv) => ['-c', kv]);
}

async function waitReady(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`postgres exited with ${child.exitCode}: ${stderr()}`);
    const c = new pg.Client({ connectionString: url });
    try {
      await c.connect();
      await c.end();
      return;
    } catch (err) {
      await c.end().catch(() => undefined);
      if (Date.now() > deadline) throw new Error(`postgres did not accept connections in 30 s: ${(err as Error).message}\n${stderr()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** SIGINT is PostgreSQL's fast shutdown (clients disconnected); SIGKILL if it does not go. */
async function stopByPid(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  process.kill(child.pid!, 'SIGINT');
  const timer = setTimeout(() => child.exitCode === null && process.kill(child.pid!, 'SIGKILL'), 5_000);
  await gone;
  clearTimeout(timer);
}

/**
 * The file's PostgreSQL: started in beforeAll, stopped in afterAll. The handle is usable from the
 * tests on (it forwards to the server started for this file), so a file writes one line for it.
 */
export function postgresPerFile(): TestPostgres {
  let server: TestPostgres | undefined;
  beforeAll(async () => {
    server = await startPostgres();
  }, 60_000);
  afterAll(async () => server?.stop(), 60_000);
  return new Proxy({} as TestPostgres, {
    get(_, key) {
      if (!server) throw new Error('the PostgreSQL of this file is not started yet (use it inside a test)');
      const value = Reflect.get(server, key, server) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(server) : value;
    },
  });
}
