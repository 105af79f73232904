// What `switchboard chat` has already shown, so a rejoin prints nothing twice.
//
// Two cursors: the room's live event `seq` within the server's `epoch` (a rejoin asks the
// server to `resume` from it; a replayed frame at or below it is skipped), and the highest
// stored history record `seq` printed. When the server cannot resume (it restarted: a new
// epoch), the rejoin carries the newest history page instead: only records above the history
// cursor are new, and of those, the ones already seen live (the answer streamed before the
// drop, our own typed message, a tool line) are matched by content and skipped.
import { obj, str, type Json } from './chat-render.js';

/** A stable signature of what a live event or a history record shows, or undefined. */
export function liveSignature(e: Json): string | undefined {
  switch (e.type) {
    case 'message.completed':
      return `m:a:${str(e.turnId) ?? ''}:${str(e.text) ?? ''}`;
    case 'tool.completed':
      return `t:${str(e.toolId) ?? ''}`;
    case 'approval.resolved':
      return `a:${str(e.approvalId) ?? ''}`;
    case 'notice':
      return `n:${str(e.level) ?? ''}:${str(e.text) ?? ''}`;
    case 'turn.failed':
    case 'turn.interrupted':
      return `u:${str(e.turnId) ?? ''}`;
    default:
      return undefined;
  }
}

function recordSignature(r: Json): string | undefined {
  switch (r.kind) {
    case 'message':
      return r.role === 'assistant' ? `m:a:${str(r.turnId) ?? ''}:${str(r.text) ?? ''}` : `m:u:${str(obj(r.author)?.id) ?? ''}:${str(r.text) ?? ''}`;
    case 'tool':
      return `t:${str(r.toolId) ?? ''}`;
    case 'approval':
      return `a:${str(r.approvalId) ?? ''}`;
    case 'notice':
      return `n:${str(r.level) ?? ''}:${str(r.text) ?? ''}`;
    case 'turn':
      return `u:${str(r.turnId) ?? ''}`;
    default:
      return undefined;
  }
}

export const sentSignature = (participantId: string, text: string): string => `m:u:${participantId}:${text}`;

/** Bounded so a long session does not grow without end; old entries matter least. */
const MAX_SEEN = 5_000;

export class ResumeState {
  epoch: string | undefined;
  /** Last live event seq seen in `epoch`. */
  seq: number | undefined;
  /** Highest stored history record seq printed. */
  historySeq: number | undefined;
  private readonly seen = new Map<string, number>();

  /** The `resume` field of a rejoin, when the server gave us a cursor. */
  resumeFrame(): { epoch: string; seq: number } | undefined {
    return this.epoch !== undefined && this.seq !== undefined ? { epoch: this.epoch, seq: this.seq } : undefined;
  }

  /** From a `joined` frame: the server's epoch and its current seq. */
  joined(frame: Json): void {
    const epoch = str(frame.epoch);
    const seq = typeof frame.seq === 'number' && Number.isFinite(frame.seq) ? frame.seq : undefined;
    if (epoch !== this.epoch) this.seq = undefined;
    this.epoch = epoch;
    if (seq !== undefined && (this.seq === undefined || frame.resumed !== true)) this.seq = seq;
  }

  /** A live event frame's seq: false when it was already handled (a replay overlap). */
  acceptLive(seq: unknown): boolean {
    if (typeof seq !== 'number' || !Number.isFinite(seq)) return true;
    if (this.seq !== undefined && seq <= this.seq) return false;
    this.seq = seq;
    return true;
  }

  remember(signature: string | undefined): void {
    if (!signature) return;
    this.seen.set(signature, (this.seen.get(signature) ?? 0) + 1);
    if (this.seen.size > MAX_SEEN) this.seen.delete(this.seen.keys().next().value!);
  }

  /** Records of a rejoin's history that were not shown yet, oldest first; advances the cursor. */
  unseen(history: unknown[]): Json[] {
    const out: Json[] = [];
    for (const raw of history) {
      const r = obj(raw);
      if (!r) continue;
      const seq = typeof r.seq === 'number' ? r.seq : undefined;
      if (seq !== undefined && this.historySeq !== undefined && seq <= this.historySeq) continue;
      if (seq !== undefined) this.historySeq = Math.max(this.historySeq ?? seq, seq);
      const sig = recordSignature(r);
      const n = sig ? (this.seen.get(sig) ?? 0) : 0;
      if (sig && n > 0) {
        if (n === 1) this.seen.delete(sig);
        else this.seen.set(sig, n - 1);
        continue;
      }
      out.push(r);
    }
    return out;
  }

  /** The first join's history: everything is new. */
  first(history: unknown[]): Json[] {
    const out = history.map(obj).filter((r): r is Json => r !== undefined);
    for (const r of out) if (typeof r.seq === 'number') this.historySeq = Math.max(this.historySeq ?? r.seq, r.seq);
    return out;
  }
}
