// `dataset` storage: an embedded SQLite database through @libsql/client (prebuilt binary,
// installs in seconds, and the same client can later talk to a libSQL server). WAL with
// synchronous=FULL: once a write resolves, a kill -9 of the host cannot lose it. Writes issued
// together share one transaction (./group-commit.ts): one fsync for all of them.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { createClient, type Client } from '@libsql/client';
import type { Logger } from 'pino';
import { GroupCommit } from './group-commit.js';
import { planPage } from './page.js';
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
} from './types.js';

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS history (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     session TEXT NOT NULL,
     at INTEGER NOT NULL,
     kind TEXT NOT NULL,
     body TEXT NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS history_session ON history (session, seq)`,
  `CREATE TABLE IF NOT EXISTS inbox (
     id TEXT PRIMARY KEY,
     session TEXT NOT NULL,
     at INTEGER NOT NULL,
     body TEXT NOT NULL)`,
  // The owner of a conversation: its first poster, never replaced (see claimOwner).
  `CREATE TABLE IF NOT EXISTS sessions (
     session TEXT PRIMARY KEY,
     owner TEXT NOT NULL,
     owner_name TEXT,
     at INTEGER NOT NULL)`,
  // Codex threads a room started or bound: `/codex threads|resume` see only their room's.
  `CREATE TABLE IF NOT EXISTS threads (
     thread_id TEXT PRIMARY KEY,
     room TEXT NOT NULL,
     session TEXT NOT NULL,
     at INTEGER NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS threads_room ON threads (room, at)`,
];
/** Columns added to an existing table after version 1 shipped (additive, so still version 1). */
const ADDED_COLUMNS: Array<[table: string, column: string, type: string]> = [
  ['inbox', 'turn_id', 'TEXT'],
  ['inbox', 'thread_id', 'TEXT'],
];
const SCHEMA_VERSION = '1';

/** A database that cannot be opened or read: names the file and what to do about it. */
class StorageFileError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(
      `thread storage ${file} cannot be used: ${detail}. If the file is damaged, move it aside (the conversation history in it is then not shown) ` +
        `or set storage.path to another file; check that its directory is writable.`,
    );
    this.name = 'StorageFileError';
  }
}

export class DatasetStore implements ThreadStore {
  readonly kind = 'dataset' as const;
  /** Every statement after opening, in call order; writes of one loop turn share a commit. */
  private readonly sql: GroupCommit;
  private constructor(
    private readonly db: Client,
    private readonly log: Logger | undefined,
  ) {
    this.sql = new GroupCommit(db);
  }

  /** Statements run and the transactions (fsyncs) they took. */
  get commitStats(): { statements: number; transactions: number } {
    return { ...this.sql.stats };
  }

  static async open(file: string, log?: Logger): Promise<DatasetStore> {
    const abs = path.resolve(file);
    let db: Client | undefined;
    try {
      mkdirSync(path.dirname(abs), { recursive: true });
      db = createClient({ url: `file:${abs}` });
      await db.execute('PRAGMA journal_mode=WAL');
      await db.execute('PRAGMA synchronous=FULL');
      await db.batch(SCHEMA, 'write');
      for (const [table, column, type] of ADDED_COLUMNS) {
        const cols = await db.execute(`PRAGMA table_info(${table})`);
        if (!cols.rows.some((r) => r.name === column)) await db.execute(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
      }
      const v = await db.execute({ sql: 'SELECT value FROM meta WHERE key = ?', args: ['schemaVersion'] });
      const found = v.rows[0]?.value;
      if (found === undefined) await db.execute({ sql: 'INSERT INTO meta (key, value) VALUES (?, ?)', args: ['schemaVersion', SCHEMA_VERSION] });
      else if (String(found) !== SCHEMA_VERSION) {
        throw new Error(`it has schema version ${String(found)}; this Switchboard reads version ${SCHEMA_VERSION}`);
      }
    } catch (err) {
      db?.close();
      throw new StorageFileError(abs, (err as Error).message);
    }
    return new DatasetStore(db, log);
  }

  async append(session: string, record: HistoryRecord): Promise<StoredRecord> {
    const rec = HistoryRecordSchema.parse(record);
    const at = Date.now();
    const r = await this.sql.run({
      sql: 'INSERT INTO history (session, at, kind, body) VALUES (?, ?, ?, ?)',
      args: [session, at, rec.kind, JSON.stringify(rec)],
    });
    return { ...rec, seq: Number(r.lastInsertRowid), session, at };
  }

  async history(session: string, opts: { afterSeq?: number; limit?: number } = {}): Promise<StoredRecord[]> {
    const r = await this.sql.run({
      sql: 'SELECT seq, session, at, body FROM history WHERE session = ? AND seq > ? ORDER BY seq LIMIT ?',
      args: [session, opts.afterSeq ?? 0, opts.limit ?? 10_000],
    });
    return this.rowsToRecords(r.rows);
  }

  async lastOfKind<K extends HistoryRecord['kind']>(session: string, kind: K): Promise<Extract<StoredRecord, { kind: K }> | undefined> {
    const r = await this.sql.run({ sql: 'SELECT seq, session, at, body FROM history WHERE session = ? AND kind = ? ORDER BY seq DESC LIMIT 1', args: [session, kind] });
    return this.rowsToRecords(r.rows)[0] as Extract<StoredRecord, { kind: K }> | undefined;
  }

  async historyByPrefix(prefix: string, opts: HistoryPage = {}): Promise<StoredRecord[]> {
    const p = planPage(opts);
    // Exact session, or anything below it; LIKE wildcards in names are escaped.
    const like = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}/%`;
    const r = await this.sql.run({
      sql: `SELECT seq, session, at, body FROM history WHERE (session = ? OR session LIKE ? ESCAPE '\\') AND seq > ? AND seq < ?
            ORDER BY seq ${p.direction === 'asc' ? 'ASC' : 'DESC'} LIMIT ?`,
      args: [prefix, like, p.after, p.before, p.limit],
    });
    const rows = p.direction === 'asc' ? r.rows : [...r.rows].reverse();
    return this.rowsToRecords(rows);
  }

  private rowsToRecords(rows: Array<Record<string, unknown>>): StoredRecord[] {
    const out: StoredRecord[] = [];
    for (const row of rows) {
      const session = String(row.session);
      const parsed = HistoryRecordSchema.safeParse(JSON.parse(String(row.body)));
      if (!parsed.success) {
        this.log?.warn({ session, seq: Number(row.seq) }, 'unreadable history record skipped');
        continue;
      }
      out.push({ ...parsed.data, seq: Number(row.seq), session, at: Number(row.at) });
    }
    return out;
  }

  async enqueue(session: string, message: InboxMessage): Promise<InboxEntry> {
    const msg = InboxMessageSchema.parse(message);
    const entry: InboxEntry = { id: randomUUID(), session, message: msg, at: Date.now() };
    await this.sql.run({
      sql: 'INSERT INTO inbox (id, session, at, body) VALUES (?, ?, ?, ?)',
      args: [entry.id, session, entry.at, JSON.stringify(msg)],
    });
    return entry;
  }

  async take(id: string, turnId: string, threadId: string | undefined): Promise<void> {
    await this.sql.run({ sql: 'UPDATE inbox SET turn_id = ?, thread_id = ? WHERE id = ?', args: [turnId, threadId ?? null, id] });
  }

  async ack(id: string): Promise<void> {
    await this.sql.run({ sql: 'DELETE FROM inbox WHERE id = ?', args: [id] });
  }

  async pending(): Promise<InboxEntry[]> {
    const r = await this.sql.run('SELECT id, session, at, body, turn_id, thread_id FROM inbox ORDER BY at, rowid');
    return r.rows.map((row) => ({
      id: String(row.id),
      session: String(row.session),
      at: Number(row.at),
      message: InboxMessageSchema.parse(JSON.parse(String(row.body))),
      ...(row.turn_id != null ? { turnId: String(row.turn_id) } : {}),
      ...(row.thread_id != null ? { threadId: String(row.thread_id) } : {}),
    }));
  }

  async claimOwner(session: string, owner: { id: string; name?: string }): Promise<SessionOwner> {
    // INSERT OR IGNORE: of two first posters racing, exactly one becomes the owner.
    await this.sql.run({
      sql: 'INSERT OR IGNORE INTO sessions (session, owner, owner_name, at) VALUES (?, ?, ?, ?)',
      args: [session, owner.id, owner.name ?? null, Date.now()],
    });
    const r = await this.sql.run({ sql: 'SELECT session, owner, owner_name, at FROM sessions WHERE session = ?', args: [session] });
    return ownerRow(r.rows[0]!);
  }

  async owners(): Promise<SessionOwner[]> {
    const r = await this.sql.run('SELECT session, owner, owner_name, at FROM sessions');
    return r.rows.map(ownerRow);
  }

  async recordThread(threadId: string, session: string): Promise<void> {
    await this.sql.run({
      sql: 'INSERT OR IGNORE INTO threads (thread_id, room, session, at) VALUES (?, ?, ?, ?)',
      args: [threadId, roomOfSession(session), session, Date.now()],
    });
  }

  async threadsOfRoom(room: string, limit = 50): Promise<ThreadRoom[]> {
    const r = await this.sql.run({ sql: 'SELECT thread_id, room, session, at FROM threads WHERE room = ? ORDER BY at DESC, rowid DESC LIMIT ?', args: [room, limit] });
    return r.rows.map((row) => ({ threadId: String(row.thread_id), room: String(row.room), session: String(row.session), at: Number(row.at) }));
  }

  async roomOfThread(threadId: string): Promise<string | undefined> {
    const r = await this.sql.run({ sql: 'SELECT room FROM threads WHERE thread_id = ?', args: [threadId] });
    const room = r.rows[0]?.room;
    return room == null ? undefined : String(room);
  }

  async close(): Promise<void> {
    await this.sql.drain();
    this.db.close();
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
