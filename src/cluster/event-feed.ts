// Room events across nodes. The driving node publishes the room events of its conversations
// into `room_events`, one row per batch (its body the batch's events in order, see feed-rows.ts),
// and NOTIFYs `<seq>:<node>`; every node LISTENs on one dedicated connection and hands the rows
// other nodes published to its room server, so a client on node A sees live the turn node B
// drives. A node never reads its own rows: the seq its INSERT returns counts as read at once, and
// its own NOTIFY makes it read only while seqs below are still missing (SeqGaps). After a lost
// connection the feed reconnects and catches up by seq. The hot statements are named, so each
// connection plans them once. Other notifications a node needs (forwarded approval decisions)
// share the LISTEN connection: listen().
import pg from 'pg';
import type { Logger } from 'pino';
import { createActor, fromCallback, fromPromise, type Actor } from 'xstate';
import { eventFeedMachine } from '../../machines/event-feed.machine.js';
import type { RoomEvent } from '../events/room-events.js';
import { MAX_EVENTS_PER_ROW, payloadNode, publisherOf, rowEvents, rowSession } from './feed-rows.js';
import { SeqGaps } from './seq-gaps.js';

const CHANNEL = 'switchboard_room_events';
/** Rows read per query while catching up (each up to MAX_EVENTS_PER_ROW events). */
const PAGE = 100;
/** Publishes between two prunes of rows older than an hour. */
const PRUNE_EVERY = 1_000;
/** Missing seqs tracked at once (a wider gap is given up, logged). */
const MAX_GAPS = 1_000;
/** Room events per published row at most (readers skip a longer one). */
const PUBLISH_BATCH = MAX_EVENTS_PER_ROW;

// Fixed text, named: PostgreSQL parses and plans them once per pool connection, not per call.
const PUBLISH = {
  name: 'switchboard_room_events_publish',
  text: `WITH ins AS (INSERT INTO room_events (node, session, body) VALUES ($1, $2, $3::jsonb) RETURNING seq)
         SELECT seq, pg_notify('${CHANNEL}', seq::text || coalesce(':' || $4::text, '')) FROM ins`,
};
const READ = {
  name: 'switchboard_room_events_read',
  // This node's own rows come without their bodies: only their seqs count (its room server had them live).
  text: 'SELECT seq, node, CASE WHEN node = $4 THEN NULL ELSE body END AS body FROM room_events WHERE seq > $1 OR seq = ANY($2::bigint[]) ORDER BY seq LIMIT $3',
};

export interface EventFeedOptions {
  pool: pg.Pool;
  /** For the dedicated LISTEN connection (the pool's connections come and go). */
  url: string;
  node: string;
  /** A room event another node published: for this node's room server only (not history). */
  deliver: (e: RoomEvent) => void;
  log: Logger;
  reconnectMs?: number;
  /** How long a seq missing below the newest one read is read again before it is given up (default 10 s). */
  gapGraceMs?: number;
  now?: () => number;
}

export class EventFeed {
  private gaps: SeqGaps;
  /** Until start() the seqs published are not tracked (start() begins after the newest row). */
  private started = false;
  private published = 0;
  private client: pg.Client | undefined;
  private publishing: Promise<unknown> = Promise.resolve();
  /** Published, not yet written: they go in the next batch. */
  private readonly pending: Array<{ e: RoomEvent; after?: Promise<unknown> }> = [];
  private reading: Promise<void> = Promise.resolve();
  private readonly actor: Actor<typeof eventFeedMachine>;
  /** Other channels on the same connection (listen()). */
  private readonly channels = new Map<string, (payload: string | undefined) => void>();

  constructor(private readonly o: EventFeedOptions) {
    const machine = eventFeedMachine.provide({
      actors: {
        connect: fromPromise(() => this.connect()),
        listen: fromCallback(({ sendBack }) => {
          const c = this.client!;
          const onNote = (n: pg.Notification) => (n.channel === CHANNEL ? void this.catchUp(publisherOf(n.payload) === o.node) : this.channels.get(n.channel)?.(n.payload));
          const onLost = (err?: Error) => sendBack({ type: 'LOST', error: err?.message ?? 'connection ended' });
          c.on('notification', onNote);
          c.on('error', onLost);
          c.on('end', onLost);
          return () => {
            c.off('notification', onNote);
            c.off('error', onLost);
            c.off('end', onLost);
          };
        }),
      },
    });
    this.actor = createActor(machine, { input: { node: o.node, reconnectMs: o.reconnectMs ?? 1_000 } });
    this.gaps = this.newGaps(0);
    this.actor.on('feed.lost', (e) => o.log.warn({ err: e.error }, 'room event feed lost its connection; reconnecting'));
  }

  /** Starts after the newest row: what was published before this node started is history. */
  async start(): Promise<void> {
    const r = await this.o.pool.query<{ seq: string | null }>('SELECT max(seq) AS seq FROM room_events');
    this.gaps = this.newGaps(Number(r.rows[0]?.seq ?? 0));
    this.started = true;
    this.actor.start();
  }

  /**
   * Another channel on the feed's LISTEN connection (call before start). `onPayload` gets each
   * NOTIFY's payload, and undefined after each (re)connect: notifications may have been missed.
   */
  listen(channel: string, onPayload: (payload: string | undefined) => void): void {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) throw new Error(`not a plain channel name: ${channel}`);
    this.channels.set(channel, onPayload);
  }

  /** NOTIFY `channel` (a pool connection; the payload is under PostgreSQL's 8000 bytes). */
  async notify(channel: string, payload: string): Promise<void> {
    await this.o.pool.query('SELECT pg_notify($1, $2)', [channel, payload]);
  }

  private newGaps(start: number): SeqGaps {
    const onGiveUp = (e: { count: number; lowest: number; highest: number; why: string }) => this.o.log.warn(e, 'room events given up: other nodes may miss them live (history has them)');
    return new SeqGaps({ graceMs: this.o.gapGraceMs ?? 10_000, max: MAX_GAPS, now: this.o.now ?? Date.now, onGiveUp }, start);
  }

  /**
   * A room event of a conversation this node drives, for the other nodes (in order per node;
   * after `after` settles, when given). Events that come while a write is under way go in the
   * next one, together: one row and one NOTIFY per batch, not a serial round trip per event.
   */
  publish(e: RoomEvent, after?: Promise<unknown>): void {
    this.pending.push({ e, after });
    if (this.pending.length === 1) this.publishing = this.publishing.then(() => this.flush());
    // Rows are only for live delivery (history keeps the conversation): old ones go now and then.
    if (++this.published % PRUNE_EVERY === 0) {
      void this.o.pool.query(`DELETE FROM room_events WHERE at < now() - interval '1 hour'`).catch((err: unknown) => this.o.log.warn({ err: (err as Error).message }, 'pruning room events failed'));
    }
  }

  private async flush(): Promise<void> {
    while (this.pending.length) {
      const batch = this.pending.splice(0, PUBLISH_BATCH);
      // An event that must follow a write (an approval's row) waits for it, and so do those after it.
      await Promise.all(batch.map((x) => x.after?.catch(() => undefined)));
      // The body keeps the batch's order, and batches follow one another: seq keeps this node's order.
      const events = batch.map(({ e }) => e);
      await this.o.pool
        .query<{ seq: string }>({ ...PUBLISH, values: [this.o.node, rowSession(events), JSON.stringify(events), payloadNode(this.o.node)] })
        .then((r) => {
          // Read already: this node's room server had these live. Seqs skipped below it become gaps
          // to read again, as other nodes may commit them later.
          if (this.started && r.rows[0]) this.gaps.see(Number(r.rows[0].seq));
        })
        .catch((err: unknown) => this.o.log.warn({ err: (err as Error).message, events: batch.length }, 'room events not published to the other nodes'));
    }
  }

  async stop(): Promise<void> {
    if (this.actor.getSnapshot().status === 'active') this.actor.send({ type: 'STOP' });
    this.actor.stop();
    await this.publishing;
    await this.reading;
    await this.client?.end().catch(() => undefined);
    this.client = undefined;
  }

  private async connect(): Promise<void> {
    await this.client?.end().catch(() => undefined);
    const c = new pg.Client({ connectionString: this.o.url });
    // Until `listen` takes over, an error only fails the connect.
    c.on('error', () => undefined);
    this.client = c;
    await c.connect();
    await c.query(`LISTEN ${CHANNEL}`);
    for (const channel of this.channels.keys()) await c.query(`LISTEN ${channel}`);
    await this.catchUp();
    for (const onPayload of this.channels.values()) onPayload(undefined);
  }

  /**
   * Reads every row newer than the last one read, and the missing ones below it (one reader at a
   * time). After this node's own NOTIFY only while seqs are missing: its row counts as read already.
   */
  private catchUp(own = false): Promise<void> {
    this.reading = this.reading.then(() => (own && !this.gaps.pending().length ? undefined : this.readNew())).catch((err: unknown) => this.o.log.warn({ err: (err as Error).message }, 'reading room events failed'));
    return this.reading;
  }

  private async readNew(): Promise<void> {
    for (;;) {
      const r = await this.o.pool.query<{ seq: string; node: string; body: unknown }>({ ...READ, values: [this.gaps.last, this.gaps.pending(), PAGE, this.o.node] });
      for (const row of r.rows) {
        // Its own row shows up when read before its INSERT returned, or among seqs read again.
        if (!this.gaps.see(Number(row.seq)) || row.node === this.o.node) continue;
        const read = rowEvents(row.body);
        if (!read) this.o.log.warn({ seq: row.seq, max: MAX_EVENTS_PER_ROW }, 'a published row of too many room events was skipped');
        else if (read.skipped) this.o.log.warn({ seq: row.seq, skipped: read.skipped }, 'a published room event of an unexpected shape was skipped');
        for (const e of read?.events ?? []) this.o.deliver(e);
      }
      if (r.rows.length < PAGE) return;
    }
  }
}
