// Relay backend for a standalone room server (`switchboard room serve`): user messages and
// decisions go to the room's agent participant (a `switchboard join --url ...`), and the
// agent's room events come back to everyone in the room. History is kept in memory.
import { randomUUID } from 'node:crypto';
import { Subject } from 'rxjs';
import type { RoomEvent } from '../events/room-events.js';
import { MemoryStore } from '../storage/memory.js';
import type { StoredRecord } from '../storage/types.js';
import { recordOf } from '../supervisor/history.js';
import type { RoomBackend } from './server.js';
import type { ServerFrame } from './protocol.js';

type Send = (frame: ServerFrame) => void;

export class RelayBackend implements RoomBackend {
  private readonly subject = new Subject<RoomEvent>();
  readonly events$ = this.subject.asObservable();
  private readonly agents = new Map<string, Send>();
  private readonly store = new MemoryStore();
  private readonly waiting = new Map<string, (r: { ok: true } | { ok: false; reason: string }) => void>();

  constructor(private readonly decideTimeoutMs = 10_000) {}

  attachAgent(room: string, send: Send): () => void {
    this.agents.set(room, send);
    return () => {
      if (this.agents.get(room) === send) this.agents.delete(room);
    };
  }

  async post(msg: Parameters<RoomBackend['post']>[0]): Promise<void> {
    const session = `${msg.room}/${msg.channel}/${msg.thread}`;
    await this.store.append(session, { kind: 'message', role: 'user', author: msg.from, text: msg.text });
    const agent = this.agents.get(msg.room);
    if (!agent) {
      this.fromAgent({ type: 'notice', session, at: Date.now(), level: 'warning', text: `No agent has joined room "${msg.room}" yet; the message is kept in the history.` });
      return;
    }
    agent({ type: 'agent.message', message: msg });
  }

  decide(d: Parameters<RoomBackend['decide']>[0]): Promise<{ ok: true } | { ok: false; reason: string }> {
    const agent = d.room === undefined ? undefined : this.agents.get(d.room);
    if (!agent) return Promise.resolve({ ok: false, reason: 'no agent is connected to this room' });
    const requestId = randomUUID();
    const { room: _room, ...decision } = d;
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.waiting.delete(requestId);
        resolve({ ok: false, reason: 'the agent did not answer the decision in time' });
      }, this.decideTimeoutMs);
      this.waiting.set(requestId, (r) => (clearTimeout(t), resolve(r)));
      agent({ type: 'agent.decide', requestId, ...decision });
    });
  }

  decided(requestId: string, ok: boolean, reason?: string): void {
    const w = this.waiting.get(requestId);
    this.waiting.delete(requestId);
    w?.(ok ? { ok: true } : { ok: false, reason: reason ?? 'refused' });
  }

  fromAgent(e: RoomEvent): void {
    const rec = recordOf(e);
    if (rec) void this.store.append(e.session, rec);
    this.subject.next(e);
  }

  history(room: string, filter: { channel?: string; thread?: string } = {}): Promise<StoredRecord[]> {
    return this.store.historyByPrefix([room, filter.channel, filter.thread].filter(Boolean).join('/'));
  }
}
