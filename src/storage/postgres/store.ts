// `postgres` storage: the ThreadStore contract (history, inbox, owners, thread rooms) in a
// PostgreSQL database several Switchboard nodes share, through one `pg` pool. The schema is
// migrated at open (migrate.ts). Lease-fenced writes and the inbox queue are the cluster view
// (cluster.ts), bindings the binding view (bindings.ts); both share this pool.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Logger } from 'pino';
import type { BindingStore } from '../../session/bindings.js';
import { planPage } from '../page.js';
import {
  HistoryRecordSchema,
  InboxMessageSchema,
  roomOfSession,
  type HistoryPage,
  type HistoryRecord,
  type InboxEntry,
  type InboxMessage,
  type SessionOwner,
  type StoredRecord,
  type ThreadRoom,
  type ThreadStore,
} from '../types.js';
import { PostgresBindingStore } from './bindings.js';
import { AppendBatch } from './append-batch.js';
import type { GroupedStats } from './grouped.js';
import { PostgresClusterStore } from './cluster.js';
import { DatabaseNewerError, migrate, type Migration } from './migrate.js';
import { inboxRow, recordRows, type InboxRow } from './rows.js';

export interface PostgresStoreOptions {
  log?: Logger;
  /** Pool size per node (default 10). */
  maxConnections?: number;
  /** Tests: another set of migrations. */
  migrations?: Migration[];
}

/** The database cannot be reached or migrated: says which (never the password) and what to check. */
export class PostgresStorageError extends Error {
  constructor(target: string, detail: string) {
    super(`postgres storage ${target} cannot be used: ${detail}`);
    this.name = 'PostgresStorageError';
  }
}

/** host:port/database of a URL: what a message may show (no user, no password). */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}

export class PostgresStore implements ThreadStore {
  readonly kind = 'postgres' as const;
  private constructor(
    readonly pool: pg.Pool,
    private readonly log: Logger | undefined,
  ) {
    this.appends = new AppendBatch(pool);
  }

  static async open(url: string, opts: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const pool = new pg.Pool({ connectionString: url, max: opts.maxConnections ?? 10 });
    // An idle client's error (the server restarted) must not crash the process; the next query reconnects.
    pool.on('error', (err) => opts.log?.warn({ err: err.message }, 'postgres connection lost'));
    try {
      const { from, to } = await migrate(pool, opts.migrations);
      if (from !== to) opts.log?.info({ from, to }, 'postgres schema migrated');
    } catch (err) {
      await pool.end().catch(() => undefined);
      if (err instanceof DatabaseNewerError) throw err;
      throw new PostgresStorageError(describeUrl(url), (err as Error).message);
    }
    return new PostgresStore(pool, opts.log);
  }

  /** History appends, grouped: one statement per batch. */
  private readonly appends: AppendBatch;

  /** Statements and writes of the grouped history appends (a copy: for metrics). */
  groupedStats(): { append: GroupedStats } {
    return { append: { ...this.appends.stats } };
  }

  /** One per node: its writes are grouped (group commit), so every caller must share it. */
  private readonly clusters = new Map<string, PostgresClusterStore>();

  /** The lease-fenced view of this database for node `node`. */
  cluster(node: string): PostgresClusterStore {
    let c = this.clusters.get(node);
    if (!c) this.clusters.set(node, (c = new PostgresClusterStore(this.pool, node, this.log)));
    return c;
  }

  /** Thread bindings of one agent, kept in the database instead of JSON files. */
  bindings(agent: string): BindingStore {
    return new PostgresBindingStore(this.pool, agent);
  }

  async append(session: string, record: HistoryRecord): Promise<StoredRecord> {
    return this.appends.append(session, HistoryRecordSchema.parse(record), Date.now());
  }

  async history(session: string, opts: { afterSeq?: number; limit?: number } = {}): Promise<StoredRecord[]> {
    const r = await this.pool.query('SELECT seq, session, at, body FROM history WHERE session = $1 AND seq > $2 ORDER BY seq LIMIT $3', [
      session,
      opts.afterSeq ?? 0,
      opts.limit ?? 10_000,
    ]);
    return recordRows(r.rows, this.log);
  }

  async lastOfKind<K extends HistoryRecord['kind']>(session: string, kind: K): Promise<Extract<StoredRecord, { kind: K }> | undefined> {
    const r = await this.pool.query('SELECT seq, session, at, body FROM history WHERE session = $1 AND kind = $2 ORDER BY seq DESC LIMIT 1', [session, kind]);
    return recordRows(r.rows, this.log)[0] as Extract<StoredRecord, { kind: K }> | undefined;
  }

  async historyByPrefix(prefix: string, opts: HistoryPage = {}): Promise<StoredRecord[]> {
    const p = planPage(opts);
    // Exact session, or anything below it; LIKE wildcards in names are escaped.
    const like = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}/%`;
    const r = await this.pool.query(
      `SELECT seq, session, at, body FROM history WHERE (session = $1 OR session LIKE $2 ESCAPE '\\') AND seq > $3 AND seq < $4
       ORDER BY seq ${p.direction === 'asc' ? 'ASC' : 'DESC'} LIMIT $5`,
      [prefix, like, p.after, p.before, p.limit],
    );
    return recordRows(p.direction === 'asc' ? r.rows : [...r.rows].reverse(), this.log);
  }

  async enqueue(session: string, message: InboxMessage): Promise<InboxEntry> {
    const msg = InboxMessageSchema.parse(message);
    const r = await this.pool.query<InboxRow>(
      `INSERT INTO inbox (id, session, at, body, client_user_message_id) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
      [randomUUID(), session, Date.now(), JSON.stringify(msg), randomUUID()],
    );
    return inboxRow(r.rows[0]!);
  }

  async take(id: string, turnId: string, threadId: string | undefined): Promise<void> {
    await this.pool.query('UPDATE inbox SET turn_id = $2, thread_id = $3 WHERE id = $1', [id, turnId, threadId ?? null]);
  }

  async ack(id: string): Promise<void> {
    await this.pool.query('DELETE FROM inbox WHERE id = $1', [id]);
  }

  async pending(): Promise<InboxEntry[]> {
    const r = await this.pool.query<InboxRow>('SELECT * FROM inbox ORDER BY position');
    return r.rows.map(inboxRow);
  }

  async claimOwner(session: string, owner: { id: string; name?: string }): Promise<SessionOwner> {
    // ON CONFLICT DO NOTHING: of two first posters racing (on any node), exactly one becomes the owner.
    await this.pool.query('INSERT INTO sessions (session, owner, owner_name, at) VALUES ($1, $2, $3, $4) ON CONFLICT (session) DO NOTHING', [
      session,
      owner.id,
      owner.name ?? null,
      Date.now(),
    ]);
    const r = await this.pool.query('SELECT session, owner, owner_name, at FROM sessions WHERE session = $1', [session]);
    return ownerRow(r.rows[0]!);
  }

  async owners(): Promise<SessionOwner[]> {
    const r = await this.pool.query('SELECT session, owner, owner_name, at FROM sessions');
    return r.rows.map(ownerRow);
  }

  async recordThread(threadId: string, session: string): Promise<void> {
    await this.pool.query('INSERT INTO threads (thread_id, room, session, at) VALUES ($1, $2, $3, $4) ON CONFLICT (thread_id) DO NOTHING', [
      threadId,
      roomOfSession(session),
      session,
      Date.now(),
    ]);
  }

  async threadsOfRoom(room: string, limit = 50): Promise<ThreadRoom[]> {
    const r = await this.pool.query('SELECT thread_id, room, session, at FROM threads WHERE room = $1 ORDER BY at DESC, ord DESC LIMIT $2', [room, limit]);
    return r.rows.map((row) => ({ threadId: String(row.thread_id), room: String(row.room), session: String(row.session), at: Number(row.at) }));
  }

  async roomOfThread(threadId: string): Promise<string | undefined> {
    const r = await this.pool.query('SELECT room FROM threads WHERE thread_id = $1', [threadId]);
    const room = r.rows[0]?.room;
    return room == null ? undefined : String(room);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

function ownerRow(row: Record<string, unknown>): SessionOwner {
  return {
    session: String(row.session),
    owner: String(row.owner),
    ...(row.owner_name != null ? { name: String(row.owner_name) } : {}),
    at: Number(row.at),
  };
}
