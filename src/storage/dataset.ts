// `dataset` storage: an embedded SQLite database through @libsql/client (prebuilt binary,
// installs in seconds, and the same client can later talk to a libSQL server). WAL with
// synchronous=FULL: once a write resolves, a kill -9 of the host cannot lose it.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { createClient, type Client } from '@libsql/client';
import type { Logger } from 'pino';
import {
  HistoryRecordSchema,
  InboxMessageSchema,
  type HistoryRecord,
  type InboxEntry,
  type InboxMessage,
  type StoredRecord,
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
];
const SCHEMA_VERSION = '1';

export class DatasetStore implements ThreadStore {
  readonly kind = 'dataset' as const;
  private constructor(
    private readonly db: Client,
    private readonly log: Logger | undefined,
  ) {}

  static async open(file: string, log?: Logger): Promise<DatasetStore> {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const db = createClient({ url: `file:${path.resolve(file)}` });
    await db.execute('PRAGMA journal_mode=WAL');
    await db.execute('PRAGMA synchronous=FULL');
    await db.batch(SCHEMA, 'write');
    const v = await db.execute({ sql: 'SELECT value FROM meta WHERE key = ?', args: ['schemaVersion'] });
    const found = v.rows[0]?.value;
    if (found === undefined) await db.execute({ sql: 'INSERT INTO meta (key, value) VALUES (?, ?)', args: ['schemaVersion', SCHEMA_VERSION] });
    else if (String(found) !== SCHEMA_VERSION) {
      db.close();
      throw new Error(`thread storage ${file} has schema version ${String(found)}; this Switchboard reads version ${SCHEMA_VERSION}`);
    }
    return new DatasetStore(db, log);
  }

  async append(session: string, record: HistoryRecord): Promise<StoredRecord> {
    const rec = HistoryRecordSchema.parse(record);
    const at = Date.now();
    const r = await this.db.execute({
      sql: 'INSERT INTO history (session, at, kind, body) VALUES (?, ?, ?, ?)',
      args: [session, at, rec.kind, JSON.stringify(rec)],
    });
    return { ...rec, seq: Number(r.lastInsertRowid), session, at };
  }

  async history(session: string, opts: { afterSeq?: number; limit?: number } = {}): Promise<StoredRecord[]> {
    const r = await this.db.execute({
      sql: 'SELECT seq, session, at, body FROM history WHERE session = ? AND seq > ? ORDER BY seq LIMIT ?',
      args: [session, opts.afterSeq ?? 0, opts.limit ?? 10_000],
    });
    return this.rowsToRecords(r.rows);
  }

  async historyByPrefix(prefix: string, opts: { limit?: number } = {}): Promise<StoredRecord[]> {
    // Exact session, or anything below it; LIKE wildcards in names are escaped.
    const like = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}/%`;
    const r = await this.db.execute({
      sql: "SELECT seq, session, at, body FROM history WHERE session = ? OR session LIKE ? ESCAPE '\\' ORDER BY seq LIMIT ?",
      args: [prefix, like, opts.limit ?? 10_000],
    });
    return this.rowsToRecords(r.rows);
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
    await this.db.execute({
      sql: 'INSERT INTO inbox (id, session, at, body) VALUES (?, ?, ?, ?)',
      args: [entry.id, session, entry.at, JSON.stringify(msg)],
    });
    return entry;
  }

  async ack(id: string): Promise<void> {
    await this.db.execute({ sql: 'DELETE FROM inbox WHERE id = ?', args: [id] });
  }

  async pending(): Promise<InboxEntry[]> {
    const r = await this.db.execute('SELECT id, session, at, body FROM inbox ORDER BY at, rowid');
    return r.rows.map((row) => ({
      id: String(row.id),
      session: String(row.session),
      at: Number(row.at),
      message: InboxMessageSchema.parse(JSON.parse(String(row.body))),
    }));
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
