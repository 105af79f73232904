// Thread bindings of one agent in the `bindings` table, for `postgres` storage: every node sees
// the thread a conversation is bound to. Checked as the JSON files are (session/bindings.ts); an
// unusable row is moved aside under another key, never silently reused.
import type { Pool } from 'pg';
import { BindingCorruptError, BindingSchema, checkBinding, type Binding, type BindingStore } from '../../session/bindings.js';

export class PostgresBindingStore implements BindingStore {
  constructor(
    private readonly pool: Pool,
    private readonly agent: string,
  ) {}

  async load(key: string): Promise<Binding | undefined> {
    const r = await this.pool.query<{ body: unknown }>('SELECT body FROM bindings WHERE agent = $1 AND key = $2', [this.agent, key]);
    if (!r.rows[0]) return undefined;
    const problem = checkBinding(JSON.stringify(r.rows[0].body), key);
    if (typeof problem !== 'string') return problem;
    const movedTo = `${key}.corrupt-${Date.now()}`;
    const moved = await this.pool
      .query('UPDATE bindings SET key = $3 WHERE agent = $1 AND key = $2', [this.agent, key, movedTo])
      .then(() => movedTo)
      .catch(() => undefined);
    throw new BindingCorruptError(`postgres bindings (agent ${this.agent}, ${key})`, problem, moved);
  }

  async save(binding: Binding): Promise<void> {
    const checked = BindingSchema.parse(binding);
    await this.pool.query(
      `INSERT INTO bindings (agent, key, body) VALUES ($1, $2, $3)
       ON CONFLICT (agent, key) DO UPDATE SET body = excluded.body, updated_at = now()`,
      [this.agent, checked.key, JSON.stringify(checked)],
    );
  }

  async remove(key: string): Promise<void> {
    await this.pool.query('DELETE FROM bindings WHERE agent = $1 AND key = $2', [this.agent, key]);
  }
}

/**
 * The bindings of `agent` in the store the supervisor opens at start (the harness is built
 * before): each call asks the store then, so nothing is read before it is open.
 */
export function deferredBindings(store: () => unknown, agent: string): BindingStore {
  const of = (): BindingStore => {
    const s = store() as { bindings?: (agent: string) => BindingStore } | undefined;
    if (typeof s?.bindings !== 'function') throw new Error('thread bindings were used before the postgres store was opened');
    return s.bindings(agent);
  };
  return {
    load: async (key) => of().load(key),
    save: async (binding) => of().save(binding),
    remove: async (key) => of().remove(key),
  };
}
