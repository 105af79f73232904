// `/stop` across nodes. A post goes into the conversation's queue, which waits for the running
// turn: a `/stop` there would run after the turn it is meant to stop. So a `/stop` runs at once
// on the node driving the conversation: here when this node drives it, else it is forwarded to
// the driving node, which runs it with the same checks as a local post (who may stop, from the
// verified room role the post carried). Forwarding is durable: a row in `forwarded_commands`,
// and a NOTIFY that only wakes the target; the target takes its rows when woken and after each
// (re)connect of its LISTEN connection, so a NOTIFY it missed while that was down loses nothing.
// A forwarded `/stop` older than STALE_MS (by the database clock) is dropped, logged: it could
// stop a later turn than the one it was posted for. With no live lease nothing is forwarded:
// the `/stop` is queued like any message.
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { parseCommand } from '../session/types.js';
import { COMMANDS_CHANNEL, forwardCommand, takeCommands, type ForwardedCommand } from '../storage/postgres/forwarded-commands.js';
import type { InboxMessage } from '../storage/types.js';
import type { EventFeed } from './event-feed.js';

/** A forwarded `/stop` older than this is not run. */
export const STALE_MS = 15_000;

export interface StopForwardingOptions {
  pool: Pool;
  node: string;
  feed: Pick<EventFeed, 'listen'>;
  drives: (session: string) => boolean;
  runNow: (session: string, msg: InboxMessage, id: string) => Promise<unknown>;
  /** Into the shared queue (when no node drives the conversation any more). */
  enqueue: (session: string, msg: InboxMessage) => Promise<void>;
  log: Logger;
}

const isStop = (msg: InboxMessage): boolean => parseCommand(msg.text)?.name === 'stop' && !msg.attachments?.length;

export class StopForwarding {
  /** One take at a time, so the commands run in the order they were forwarded. */
  private taking: Promise<void> = Promise.resolve();

  constructor(private readonly o: StopForwardingOptions) {
    // A payload naming this node: it has rows. undefined: the feed (re)connected and may have missed some.
    o.feed.listen(COMMANDS_CHANNEL, (payload) => {
      if (payload === undefined || payload === o.node) this.take();
    });
  }

  /** True when `msg` was a `/stop` run here or forwarded to the driving node; false: queue it. */
  async forward(session: string, msg: InboxMessage, id: string): Promise<boolean> {
    if (!isStop(msg)) return false;
    if (this.o.drives(session)) {
      await this.o.runNow(session, msg, id);
      return true;
    }
    const to = await forwardCommand(this.o.pool, id, session, this.o.node, msg);
    if (to === undefined) return false;
    this.o.log.info({ session, to }, '/stop sent to the node driving the conversation');
    return true;
  }

  /** Takes this node's forwarded commands and runs them (resolves once they ran). */
  take(): Promise<void> {
    this.taking = this.taking.then(() => this.takeNow()).catch((err: unknown) => this.o.log.warn({ err: (err as Error).message }, 'taking forwarded commands failed'));
    return this.taking;
  }

  private async takeNow(): Promise<void> {
    const { commands, bad } = await takeCommands(this.o.pool, this.o.node);
    for (const b of bad) this.o.log.warn(b, 'a forwarded command of an unexpected shape was ignored');
    for (const c of commands) await this.run(c);
  }

  private async run(c: ForwardedCommand): Promise<void> {
    const at = { session: c.session, from: c.from_node, ageMs: Math.round(c.age_ms) };
    if (!isStop(c.message)) return void this.o.log.warn(at, 'a forwarded command that is not a /stop was ignored');
    if (c.age_ms > STALE_MS) return void this.o.log.warn({ ...at, staleMs: STALE_MS }, 'a forwarded /stop came too late and was dropped: it could stop a later turn');
    try {
      // The lease moved on between the forward and now: the /stop waits in the queue instead.
      if (this.o.drives(c.session)) await this.o.runNow(c.session, c.message, c.id);
      else await this.o.enqueue(c.session, c.message);
    } catch (err) {
      this.o.log.warn({ ...at, err: (err as Error).message }, 'a /stop sent by another node failed');
    }
  }
}
