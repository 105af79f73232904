// The durable inbox, seen from the supervisor: a posted message stays in the store until it is
// done with. A turn that starts takes the messages posted before it (marked with its turn id:
// Codex has them) and they are dropped when that turn ends; a command is dropped once its
// session took it. After a restart, `recover` tells the turn that a host death cut off
// (recorded failed, reported) from messages Codex never took (run again).
import type { Logger } from 'pino';
import type { RoomEvent } from '../events/room-events.js';
import type { InboxEntry, ThreadStore } from '../storage/types.js';

const RESTART_ERROR = 'interrupted by a host restart';

/** Per conversation: its Codex thread and the inbox ids Codex has on it (→ the turn that took each). */
export type TookLookup = (session: string) => Promise<{ threadId: string | undefined; took: Map<string, string> }>;

const preview = (text: string): string => {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > 80 ? `${one.slice(0, 80)}…` : one;
};

export class InboxTracker {
  /** Per session: handed to the harness, not yet taken by a turn. */
  private readonly waiting = new Map<string, Array<{ id: string; at: number }>>();
  /** Per session: the running turn and the inbox entries it took. */
  private readonly running = new Map<string, { turnId: string; ids: string[] }>();

  constructor(
    private readonly store: () => ThreadStore | undefined,
    private readonly log: Logger,
    /** Does a message posted during this session's turn go into that turn (a steering harness in steer mode)? */
    private readonly steers: (session: string) => boolean,
    private readonly clock: { now(): number } = { now: () => Date.now() },
  ) {}

  /** Messages handed to a harness whose turn has not finished yet. */
  depth(): number {
    let n = 0;
    for (const q of this.waiting.values()) n += q.length;
    for (const r of this.running.values()) n += r.ids.length;
    return n;
  }

  handed(session: string, id: string): void {
    const q = this.waiting.get(session) ?? [];
    q.push({ id, at: this.clock.now() });
    this.waiting.set(session, q);
  }

  /** Done with at once (a command the session took, a message that could not be run). */
  done(id: string): Promise<void> {
    return this.ack(id);
  }

  onEvent(e: RoomEvent): void {
    // A review's or compaction's turn takes no message: those waiting keep waiting for theirs.
    if ('action' in e && e.action !== undefined) return;
    if (e.type === 'turn.started') {
      const q = this.waiting.get(e.session) ?? [];
      const took = q.filter((x) => x.at <= e.at);
      this.keep(e.session, q.filter((x) => x.at > e.at));
      // A turn that started while another was recorded running: the older one is over.
      const prev = this.running.get(e.session);
      if (prev) for (const id of prev.ids) void this.ack(id);
      this.running.set(e.session, { turnId: e.turnId, ids: took.map((x) => x.id) });
      for (const t of took) void this.store()?.take(t.id, e.turnId, e.threadId).catch((err: unknown) => this.log.error({ err }, 'inbox take failed'));
    } else if (e.type === 'turn.completed' || e.type === 'turn.failed' || e.type === 'turn.interrupted') {
      const r = this.running.get(e.session);
      if (r && (e.turnId === undefined || e.turnId === r.turnId)) {
        this.running.delete(e.session);
        for (const id of r.ids) void this.ack(id);
      }
      const q = this.waiting.get(e.session) ?? [];
      if (this.steers(e.session)) {
        // In steer mode, messages posted during the turn went into it.
        for (const x of q.filter((x) => x.at <= e.at)) void this.ack(x.id);
        this.keep(e.session, q.filter((x) => x.at > e.at));
      } else if (e.type === 'turn.failed' && e.turnId === undefined && q.length) {
        // The next message was consumed without a turn (turn/start failed).
        void this.ack(q.shift()!.id);
        this.keep(e.session, q);
      }
    }
  }

  /** An empty queue is dropped: an idle conversation keeps no entry here. */
  private keep(session: string, q: Array<{ id: string; at: number }>): void {
    if (q.length) this.waiting.set(session, q);
    else this.waiting.delete(session);
  }

  private ack(id: string): Promise<void> {
    return (this.store()?.ack(id) ?? Promise.resolve()).catch((err: unknown) => this.log.error({ err }, 'inbox ack failed'));
  }

  /**
   * After a restart: per session, a message a turn had taken (Codex had it) belongs to a turn
   * the host death cut off — it is recorded failed, reported, and not run again. Otherwise the
   * first waiting message was being started when the host died: Codex never took it, so it
   * is reported and run again with the rest — unless Codex's thread has it (`took`: its
   * `clientUserMessageId` is on a `userMessage` item), which means it was taken after all.
   * Returns the entries to run again, in order.
   */
  async recover(pending: InboxEntry[], emit: (e: RoomEvent) => void, took?: TookLookup): Promise<InboxEntry[]> {
    const bySession = new Map<string, InboxEntry[]>();
    for (const e of pending) bySession.set(e.session, [...(bySession.get(e.session) ?? []), e]);
    const rerun: InboxEntry[] = [];
    for (const [session, entries] of bySession) {
      // A turn whose end is in history finished; only its ack was lost with the host.
      const ended = await this.endedTurns(session);
      const finished = entries.filter((e) => e.turnId !== undefined && ended.has(e.turnId));
      for (const e of finished) await this.ack(e.id);
      const marked = entries.filter((e) => e.turnId !== undefined && !ended.has(e.turnId));
      const unmarked = entries.filter((e) => e.turnId === undefined);
      // The host can die between `turn/start` (or `turn/steer`) and recording it: ask Codex.
      const codex = unmarked.length && took ? await took(session) : undefined;
      const seen = unmarked.filter((e) => codex?.took.has(e.id));
      const rest = unmarked.filter((e) => !codex?.took.has(e.id));
      const taken = [...marked, ...seen];
      const at = this.clock.now();
      if (taken.length) {
        const turnId = marked[0]?.turnId ?? codex!.took.get(seen[0]!.id)!;
        const threadId = marked[0]?.threadId ?? codex?.threadId;
        const texts = taken.map((e) => `"${preview(e.message.text)}"`).join(', ');
        this.log.warn({ session, turnId, inbox: taken.map((e) => e.id) }, 'a turn was cut off by a host restart');
        emit({ type: 'turn.failed', session, at, turnId, threadId, error: `${RESTART_ERROR}: Codex had taken the message, its answer is lost` });
        emit({
          type: 'notice',
          session,
          at,
          level: 'warning',
          text: `The turn that was running when the host stopped (${turnId}) was ${RESTART_ERROR}; its answer is lost. Not run again: ${texts} — send it again if you still need it.`,
        });
        for (const e of taken) await this.ack(e.id);
      } else if (rest[0] && !rest[0].message.text.trim().startsWith('/')) {
        const first = rest[0];
        this.log.warn({ session, inbox: first.id }, 'a turn was starting when the host stopped; running its message again');
        emit({ type: 'turn.failed', session, at, turnId: undefined, threadId: undefined, error: `${RESTART_ERROR} before Codex took the message; it runs again` });
        emit({ type: 'notice', session, at, level: 'info', text: `The host restarted before Codex took "${preview(first.message.text)}"; running it again.` });
      }
      rerun.push(...rest);
    }
    return rerun;
  }

  private async endedTurns(session: string): Promise<Set<string>> {
    const recent = (await this.store()?.historyByPrefix(session, { limit: 500 })) ?? [];
    return new Set(recent.flatMap((r) => (r.kind === 'turn' && r.session === session ? [r.turnId] : [])));
  }
}
