// Relay backend for a standalone room server (`switchboard room serve`): user messages and
// decisions go to the room's agent participant (a `switchboard join --url ...`), and the
// agent's room events come back to everyone in the room. One agent per room; messages
// posted while none is attached wait in a bounded queue. History is kept in memory (bounded).
import { randomUUID } from 'node:crypto';
import { Subject } from 'rxjs';
import type { RoomEvent } from '../events/room-events.js';
import type { StoredRecord } from '../storage/types.js';
import { recordOf } from '../supervisor/history.js';
import type { AgentMessage, AgentRelay, RoomBackend, ServerFrame } from './protocol.js';
import { RelayHistory, type HistoryFilter } from './relay-history.js';

type Send = (frame: ServerFrame) => boolean;

export interface RelayOptions {
  decideTimeoutMs?: number;
  /** Messages kept per room while no agent is attached (default 100). */
  maxQueued?: number;
  /** History records kept per room (default 10,000). */
  historyPerRoom?: number;
}

export class RelayBackend implements RoomBackend, AgentRelay {
  private readonly subject = new Subject<RoomEvent>();
  readonly events$ = this.subject.asObservable();
  private readonly agents = new Map<string, Send>();
  private readonly queued = new Map<string, AgentMessage[]>();
  private readonly store: RelayHistory;
  private readonly waiting = new Map<string, { room: string; done: (r: { ok: true } | { ok: false; reason: string }) => void }>();
  private readonly decideTimeoutMs: number;
  private readonly maxQueued: number;

  constructor(o: RelayOptions | number = {}) {
    const opts = typeof o === 'number' ? { decideTimeoutMs: o } : o;
    this.decideTimeoutMs = opts.decideTimeoutMs ?? 10_000;
    this.maxQueued = opts.maxQueued ?? 100;
    this.store = new RelayHistory(opts.historyPerRoom);
  }

  hasAgent(room: string): boolean {
    return this.agents.has(room);
  }

  attachAgent(room: string, send: Send): (() => void) | undefined {
    // Nobody replaces an attached agent silently: the second one is refused.
    if (this.agents.has(room)) return undefined;
    this.agents.set(room, send);
    const q = this.queued.get(room) ?? [];
    this.queued.delete(room);
    for (let i = 0; i < q.length; i++) {
      if (!send({ type: 'agent.message', message: q[i]! })) {
        this.queued.set(room, q.slice(i));
        break;
      }
    }
    return () => {
      if (this.agents.get(room) === send) this.agents.delete(room);
      for (const [id, w] of this.waiting) if (w.room === room) this.settle(id, { ok: false, reason: 'the agent disconnected before answering the decision' });
    };
  }

  async post(msg: Parameters<RoomBackend['post']>[0]): Promise<void> {
    const session = `${msg.room}/${msg.channel}/${msg.thread}`;
    this.store.append(session, { kind: 'message', role: 'user', author: { id: msg.from.id, ...(msg.from.name ? { name: msg.from.name } : {}) }, text: msg.text });
    const agent = this.agents.get(msg.room);
    if (agent?.({ type: 'agent.message', message: msg })) return;
    const q = this.queued.get(msg.room) ?? [];
    if (q.length >= this.maxQueued) {
      this.fromAgent({ type: 'notice', session, at: Date.now(), level: 'warning', text: `No agent is connected to room "${msg.room}" and ${this.maxQueued} messages are already waiting; this one was not queued.` });
      return;
    }
    q.push(msg);
    this.queued.set(msg.room, q);
    this.fromAgent({ type: 'notice', session, at: Date.now(), level: 'warning', text: `No agent is connected to room "${msg.room}"; the message is queued and will be delivered when one joins.` });
  }

  decide(d: Parameters<RoomBackend['decide']>[0]): Promise<{ ok: true } | { ok: false; reason: string }> {
    const room = d.room;
    const agent = room === undefined ? undefined : this.agents.get(room);
    if (!agent || room === undefined) return Promise.resolve({ ok: false, reason: 'no agent is connected to this room' });
    const requestId = randomUUID();
    const { room: _room, ...decision } = d;
    return new Promise((resolve) => {
      const t = setTimeout(() => this.settle(requestId, { ok: false, reason: 'the agent did not answer the decision in time' }), this.decideTimeoutMs);
      this.waiting.set(requestId, { room, done: (r) => (clearTimeout(t), resolve(r)) });
      if (!agent({ type: 'agent.decide', requestId, ...decision })) this.settle(requestId, { ok: false, reason: 'no agent is connected to this room' });
    });
  }

  private settle(requestId: string, r: { ok: true } | { ok: false; reason: string }): void {
    const w = this.waiting.get(requestId);
    this.waiting.delete(requestId);
    w?.done(r);
  }

  /** The agent's answer; only the agent of the room the decision went to can settle it. */
  decided(requestId: string, ok: boolean, reason?: string, room?: string): void {
    const w = this.waiting.get(requestId);
    if (!w || (room !== undefined && w.room !== room)) return;
    this.settle(requestId, ok ? { ok: true } : { ok: false, reason: reason ?? 'refused' });
  }

  fromAgent(e: RoomEvent): void {
    const rec = recordOf(e);
    if (rec) this.store.append(e.session, rec);
    this.subject.next(e);
  }

  async history(room: string, filter: HistoryFilter = {}): Promise<StoredRecord[]> {
    return this.store.page(room, filter);
  }
}
