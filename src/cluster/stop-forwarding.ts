// `/stop` across nodes. A post goes into the conversation's queue, which waits for the running
// turn: a `/stop` there would run after the turn it is meant to stop. So a `/stop` runs at once
// on the node driving the conversation: here when this node drives it, else it is sent to the
// driving node with a NOTIFY (on the event feed's LISTEN connection), which runs it with the
// same checks as a local post (who may stop, from the verified room role the post carried).
// With no live lease nothing runs: the `/stop` is queued like any message.
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { z } from 'zod';
import { parseCommand } from '../session/types.js';
import { InboxMessageSchema, type InboxMessage } from '../storage/types.js';
import type { EventFeed } from './event-feed.js';

const CHANNEL = 'switchboard_commands';
/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more. */
const MAX_PAYLOAD = 7_900;

// Payloads come from the shared database: checked before anything runs.
const Forwarded = z.object({
  session: z.string().min(1).max(1000),
  id: z.uuid(),
  from: z.string().min(1).max(200),
  to: z.string().min(1).max(200),
  message: InboxMessageSchema,
});

export interface StopForwardingOptions {
  pool: Pool;
  node: string;
  feed: Pick<EventFeed, 'listen' | 'notify'>;
  drives: (session: string) => boolean;
  runNow: (session: string, msg: InboxMessage, id: string) => Promise<unknown>;
  /** Into the shared queue (when no node drives the conversation any more). */
  enqueue: (session: string, msg: InboxMessage) => Promise<void>;
  log: Logger;
}

const isStop = (msg: InboxMessage): boolean => parseCommand(msg.text)?.name === 'stop' && !msg.attachments?.length;

export class StopForwarding {
  constructor(private readonly o: StopForwardingOptions) {
    // undefined: the feed (re)connected; a /stop sent meanwhile is lost (its sender may post it again).
    o.feed.listen(CHANNEL, (payload) => void (payload !== undefined && this.onForwarded(payload)));
  }

  /** True when `msg` was a `/stop` run here or sent to the driving node; false: queue it. */
  async forward(session: string, msg: InboxMessage, id: string): Promise<boolean> {
    if (!isStop(msg)) return false;
    if (this.o.drives(session)) {
      await this.o.runNow(session, msg, id);
      return true;
    }
    const r = await this.o.pool.query<{ node: string }>('SELECT node FROM session_leases WHERE session = $1 AND expires_at > now()', [session]);
    const to = r.rows[0]?.node;
    if (to === undefined || to === this.o.node) return false;
    const payload = JSON.stringify({ session, id, from: this.o.node, to, message: msg });
    if (Buffer.byteLength(payload) > MAX_PAYLOAD) return false;
    await this.o.feed.notify(CHANNEL, payload);
    this.o.log.info({ session, to }, '/stop sent to the node driving the conversation');
    return true;
  }

  private async onForwarded(payload: string): Promise<void> {
    let f: z.infer<typeof Forwarded>;
    try {
      if (payload.length > MAX_PAYLOAD) throw new Error('too long');
      f = Forwarded.parse(JSON.parse(payload));
      if (!isStop(f.message)) throw new Error('not a /stop');
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message.slice(0, 300) }, 'a forwarded command of an unexpected shape was ignored');
      return;
    }
    if (f.to !== this.o.node) return;
    try {
      // The lease moved on between the look-up and now: the /stop waits in the queue instead.
      if (this.o.drives(f.session)) await this.o.runNow(f.session, f.message, f.id);
      else await this.o.enqueue(f.session, f.message);
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message, session: f.session, from: f.from }, 'a /stop sent by another node failed');
    }
  }
}
