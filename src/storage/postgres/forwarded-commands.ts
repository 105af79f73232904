// Commands a node forwards to the node driving a conversation (`/stop`), in `postgres` storage.
// The row is the command and the NOTIFY (payload: the target node) only wakes the target, so a
// NOTIFY its LISTEN connection missed loses nothing: the target takes its rows after each
// reconnect too. Rows come from a database other nodes write: what leaves here is parsed.
import type { Pool } from 'pg';
import { z } from 'zod';
import { InboxMessageSchema, type InboxMessage } from '../types.js';

/** NOTIFY payload: the node that should take its forwarded commands now. */
export const COMMANDS_CHANNEL = 'switchboard_commands';
/** A forwarded message's JSON at most (a `/stop` is a line; a longer one is queued instead). */
export const MAX_COMMAND_BYTES = 16_000;
/** Rows nobody took for this long (their node never came back) are deleted when a node takes its own. */
const ABANDONED = `interval '1 hour'`;

const Row = z.object({
  id: z.uuid(),
  session: z.string().min(1).max(1000),
  from_node: z.string().max(200),
  message: InboxMessageSchema.refine((m) => JSON.stringify(m).length <= MAX_COMMAND_BYTES, 'too long'),
  age_ms: z.coerce.number(),
});
export type ForwardedCommand = z.infer<typeof Row>;

export interface Taken {
  /** In the order they were forwarded. */
  commands: ForwardedCommand[];
  /** Rows of an unexpected shape: taken (deleted), not returned. */
  bad: Array<{ id: string; err: string }>;
}

/**
 * Forwards `message` to the node holding the live lease of `session`, when that is another node
 * than `from`: the row and its NOTIFY in one statement. Returns the target, or undefined (no live
 * lease, this node's own lease, or a message too long): the caller queues it.
 */
export async function forwardCommand(pool: Pool, id: string, session: string, from: string, message: InboxMessage): Promise<string | undefined> {
  const body = JSON.stringify(message);
  if (Buffer.byteLength(body) > MAX_COMMAND_BYTES) return undefined;
  const r = await pool.query<{ to_node: string }>(
    `WITH l AS (SELECT node FROM session_leases WHERE session = $2 AND expires_at > now() AND node <> $3),
     ins AS (INSERT INTO forwarded_commands (id, session, to_node, from_node, body) SELECT $1, $2, node, $3, $4::jsonb FROM l RETURNING to_node)
     SELECT to_node, pg_notify('${COMMANDS_CHANNEL}', to_node) FROM ins`,
    [id, session, from, body],
  );
  return r.rows[0]?.to_node;
}

/**
 * Takes (deletes) every command forwarded to `node`, each by one taker only, with its age by the
 * database clock; abandoned rows of any node go in the same statement.
 */
export async function takeCommands(pool: Pool, node: string): Promise<Taken> {
  const r = await pool.query<Record<string, unknown>>(
    `WITH d AS (DELETE FROM forwarded_commands WHERE to_node = $1 OR created_at < now() - ${ABANDONED}
       RETURNING id, session, to_node, from_node, body, created_at)
     SELECT id, session, from_node, body AS message, extract(epoch FROM now() - created_at) * 1000 AS age_ms
     FROM d WHERE to_node = $1 ORDER BY created_at, id`,
    [node],
  );
  const out: Taken = { commands: [], bad: [] };
  for (const row of r.rows) {
    const c = Row.safeParse(row);
    if (c.success) out.commands.push(c.data);
    else out.bad.push({ id: String(row.id).slice(0, 100), err: c.error.message.slice(0, 300) });
  }
  return out;
}
