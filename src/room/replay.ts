// The server's event log: every live event of a room gets a seq (monotonic within this
// server's epoch) and is kept in a bounded ring so a client that drops and rejoins with
// `resume:{epoch,seq}` gets exactly the frames it missed. It also tracks the open approval
// requests of each room, for `joined.pending`, and the approvals lately resolved (a list read
// from the shared database at a join may be older than what this log saw: see pending.ts).
import { randomUUID } from 'node:crypto';
import type { RoomEvent } from '../events/room-events.js';

interface RoomLog {
  seq: number;
  /** Oldest first; frames are kept serialized (sent as is, measured once). */
  ring: Array<{ seq: number; frame: string }>;
  pending: Map<string, RoomEvent>;
  /** Approval ids resolved, oldest first (as many as `maxPending`). */
  resolved: Set<string>;
}

export class ReplayLog {
  readonly epoch = randomUUID();
  private readonly rooms = new Map<string, RoomLog>();

  constructor(
    private readonly capacity: number,
    private readonly maxPending: number,
  ) {}

  private room(room: string): RoomLog {
    let r = this.rooms.get(room);
    if (!r) {
      r = { seq: 0, ring: [], pending: new Map(), resolved: new Set() };
      this.rooms.set(room, r);
    }
    return r;
  }

  /** Records a live event; returns its seq and serialized `event` frame. */
  append(room: string, e: RoomEvent): { seq: number; frame: string } {
    const r = this.room(room);
    const seq = ++r.seq;
    const frame = JSON.stringify({ type: 'event', seq, event: e });
    r.ring.push({ seq, frame });
    if (r.ring.length > this.capacity) r.ring.splice(0, r.ring.length - this.capacity);
    if (e.type === 'approval.requested') {
      r.pending.set(e.approvalId, e);
      // Oldest first out: an approval nobody answers must not pin memory forever.
      if (r.pending.size > this.maxPending) r.pending.delete(r.pending.keys().next().value!);
    } else if (e.type === 'approval.resolved') {
      r.pending.delete(e.approvalId);
      r.resolved.add(e.approvalId);
      if (r.resolved.size > this.maxPending) r.resolved.delete(r.resolved.values().next().value!);
    }
    return { seq, frame };
  }

  seq(room: string): number {
    return this.rooms.get(room)?.seq ?? 0;
  }

  pending(room: string): RoomEvent[] {
    return [...(this.rooms.get(room)?.pending.values() ?? [])];
  }

  /** This log saw approval `approvalId` of `room` resolved (lately: the newest `maxPending` are kept). */
  resolved(room: string, approvalId: string): boolean {
    return this.rooms.get(room)?.resolved.has(approvalId) ?? false;
  }

  /** The frames after `seq`, or undefined when they cannot all be given (other epoch, gone from the ring). */
  since(room: string, epoch: string, seq: number): string[] | undefined {
    if (epoch !== this.epoch) return undefined;
    const r = this.rooms.get(room);
    const last = r?.seq ?? 0;
    if (seq > last) return undefined;
    if (seq === last) return [];
    const oldest = r!.ring[0]?.seq ?? last + 1;
    if (seq + 1 < oldest) return undefined;
    return r!.ring.filter((x) => x.seq > seq).map((x) => x.frame);
  }
}
