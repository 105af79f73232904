// Versioned migrations of `postgres` storage against a real PostgreSQL: a fresh database, a
// re-run, a database newer than the code, and several nodes starting at once.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { loadMigrations, migrate } from '../../../src/storage/postgres/migrate.js';
import { PostgresStore } from '../../../src/storage/postgres/store.js';
import { postgresPerFile } from '../../support/postgres.js';

const server = postgresPerFile();

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}
const versions = (url: string) => query<{ version: number }>(url, 'SELECT version FROM schema_version ORDER BY version').then((r) => r.map((x) => x.version));

/** The newest version the code has. */
const N = loadMigrations().length;

describe('postgres migrations', () => {
  it('a fresh database gets every version, recorded once', async () => {
    const url = await server.freshDatabase();
    const s = await PostgresStore.open(url);
    await s.close();
    expect(await versions(url)).toEqual(loadMigrations().map((m) => m.version));
    const tables = await query<{ t: string }>(url, "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
    expect(tables.map((x) => x.t)).toEqual(['approval_decisions', 'approval_pending', 'bindings', 'forwarded_commands', 'history', 'inbox', 'nodes', 'room_events', 'schema_version', 'session_leases', 'sessions', 'threads']);
  });

  it('a re-run applies nothing and keeps the data', async () => {
    const url = await server.freshDatabase();
    const s1 = await PostgresStore.open(url);
    await s1.append('r/c/t', { kind: 'model', model: 'm1' });
    await s1.close();
    const pool = new pg.Pool({ connectionString: url });
    expect(await migrate(pool)).toEqual({ from: N, to: N });
    await pool.end();
    const s2 = await PostgresStore.open(url);
    expect(await s2.history('r/c/t')).toMatchObject([{ kind: 'model', model: 'm1' }]);
    await s2.close();
    expect(await versions(url)).toEqual(loadMigrations().map((m) => m.version));
  });

  it('a database newer than the code is refused, naming both versions', async () => {
    const url = await server.freshDatabase();
    await (await PostgresStore.open(url)).close();
    await query(url, "INSERT INTO schema_version (version, name) VALUES (7, 'from_the_future')");
    await expect(PostgresStore.open(url)).rejects.toThrow(new RegExp(`schema version 7, newer than this Switchboard's ${N}: upgrade this node`));
  });

  it('several nodes starting at once apply each version exactly once', async () => {
    const url = await server.freshDatabase();
    // Version N + 1 would fail if run twice (the column exists): the advisory lock serializes the starters.
    const withV2 = [...loadMigrations(), { version: N + 1, name: 'test_column', sql: 'ALTER TABLE nodes ADD COLUMN zone text' }];
    const stores = await Promise.all(Array.from({ length: 4 }, () => PostgresStore.open(url, { migrations: withV2 })));
    await Promise.all(stores.map((s) => s.close()));
    expect(await versions(url)).toEqual([...loadMigrations().map((m) => m.version), N + 1]);
    // An older node (code at version N) now refuses this database.
    await expect(PostgresStore.open(url)).rejects.toThrow(new RegExp(`schema version ${N + 1}, newer than this Switchboard's ${N}`));
  });

  it('migration files must be numbered without gaps', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-mig-'));
    try {
      writeFileSync(path.join(dir, '0001_a.sql'), 'SELECT 1');
      writeFileSync(path.join(dir, '0003_c.sql'), 'SELECT 1');
      expect(() => loadMigrations(dir)).toThrow(/0003_c.*expected version 2/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an unreachable database names host, port and database, never the password', async () => {
    const url = `postgres://sb:s3cret@127.0.0.1:${server.port + 1}/nowhere`;
    const err = await PostgresStore.open(url).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toContain(`postgres storage 127.0.0.1:${server.port + 1}/nowhere cannot be used`);
    expect(err?.message).not.toContain('s3cret');
  });
});
