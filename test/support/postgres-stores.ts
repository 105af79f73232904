// PostgreSQL stores for storage tests: "nodes" (each its own pool, as separate processes would
// have) on a fresh database per call, closed after each test; and a record of the statements a
// store sends, by prepared-statement name.
import { afterEach, vi } from 'vitest';
import { PostgresStore } from '../../src/storage/postgres/store.js';
import type { TestPostgres } from './postgres.js';

export interface StoresPerTest {
  /** `n` stores on one new database. */
  nodes(n: number): Promise<PostgresStore[]>;
  /** The URL of the database the last `nodes` call made. */
  readonly lastUrl: string;
}

/** Call at the top of a file: the stores `nodes` opens are closed (and query spies undone) after each test. */
export function storesPerTest(server: TestPostgres): StoresPerTest {
  const open: PostgresStore[] = [];
  let lastUrl = '';
  afterEach(async () => {
    vi.restoreAllMocks();
    // A test may have closed one already (a database that stops answering).
    await Promise.all(open.splice(0).map((s) => s.close().catch(() => undefined)));
  }, 60_000);
  return {
    async nodes(n) {
      const url = (lastUrl = await server.freshDatabase());
      const stores: PostgresStore[] = [];
      for (let i = 0; i < n; i++) stores.push(await PostgresStore.open(url));
      open.push(...stores);
      return stores;
    },
    get lastUrl() {
      return lastUrl;
    },
  };
}

/** The names of the queries `s` sends from now on ('' for an unnamed one). */
export function queryNames(s: PostgresStore): string[] {
  const names: string[] = [];
  const real = s.pool.query.bind(s.pool) as (...a: unknown[]) => unknown;
  vi.spyOn(s.pool, 'query').mockImplementation(((...a: unknown[]) => {
    const q = a[0];
    names.push(typeof q === 'object' && q !== null && 'name' in q ? String(q.name) : '');
    return real(...a);
  }) as never);
  return names;
}
