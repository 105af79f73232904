// Versioned schema migrations for `postgres` storage: plain SQL files `NNNN_name.sql` beside
// this module, applied in order at start, all in one transaction under an advisory lock (so
// several nodes starting at once apply each version exactly once). A database whose version
// is newer than the code's is refused: an older node must not write a schema it does not know.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Pool } from 'pg';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Taken for the migrating transaction only: 'SWBD' as a number. */
const MIGRATION_LOCK = 0x53574244;
const FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

/** The database was migrated by a newer Switchboard. */
export class DatabaseNewerError extends Error {
  constructor(
    readonly databaseVersion: number,
    readonly codeVersion: number,
  ) {
    super(
      `the PostgreSQL database has schema version ${databaseVersion}, newer than this Switchboard's ${codeVersion}: ` +
        'upgrade this node to the version the other nodes run (a database is never migrated down)',
    );
    this.name = 'DatabaseNewerError';
  }
}

/** The migrations in `dir`, by version; versions must run 1, 2, 3... with no gap. */
export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const out = readdirSync(dir)
    .map((f) => ({ f, m: FILE.exec(f) }))
    .filter((x): x is { f: string; m: RegExpExecArray } => x.m !== null)
    .map(({ f, m }) => ({ file: f, version: Number(m[1]), name: m[2]!, sql: readFileSync(path.join(dir, f), 'utf8') }))
    .sort((a, b) => a.version - b.version);
  out.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${m.file} in ${dir}: expected version ${i + 1} (no gaps, no duplicates)`);
  });
  return out.map(({ version, name, sql }) => ({ version, name, sql }));
}

/** Brings the database to the newest version in `migrations`; returns the versions before and after. */
export async function migrate(pool: Pool, migrations: Migration[] = loadMigrations()): Promise<{ from: number; to: number }> {
  const latest = migrations.at(-1)?.version ?? 0;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_version (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const r = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_version');
    const from = r.rows[0]?.v ?? 0;
    if (from > latest) throw new DatabaseNewerError(from, latest);
    for (const m of migrations.filter((x) => x.version > from)) {
      await client.query(m.sql);
      await client.query('INSERT INTO schema_version (version, name) VALUES ($1, $2)', [m.version, m.name]);
    }
    await client.query('COMMIT');
    return { from, to: Math.max(from, latest) };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
