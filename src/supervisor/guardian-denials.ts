// Requests Codex's guardian denied that an owner may still approve (`/guardian approve`), kept
// in memory and bounded: an override needs the thread loaded in its app-server anyway.
import type { RoomEvent } from '../events/room-events.js';
import type { GuardianReviewEvent } from '../approvals/native-guardian.js';

/** Shortest review-id prefix accepted in place of the whole id. */
const MIN_PREFIX = 6;

export class GuardianDenials {
  private readonly byId = new Map<string, GuardianReviewEvent>();

  constructor(private readonly max = 200) {}

  /** Every room event passes here; denials are kept (oldest dropped beyond `max`). */
  observe(e: RoomEvent): void {
    if (e.type !== 'guardian.review' || e.status !== 'denied') return;
    this.byId.delete(e.reviewId);
    this.byId.set(e.reviewId, e);
    while (this.byId.size > this.max) this.byId.delete(this.byId.keys().next().value!);
  }

  /** The conversation's denials still open to an override, oldest first. */
  of(session: string): GuardianReviewEvent[] {
    return [...this.byId.values()].filter((d) => d.session === session);
  }

  /** The conversation's denial `id` names (the whole id, or a unique prefix of at least 6 characters). */
  find(session: string, id: string): GuardianReviewEvent | { problem: string } {
    const mine = this.of(session);
    const exact = mine.find((d) => d.reviewId === id);
    if (exact) return exact;
    const prefixed = id.length >= MIN_PREFIX ? mine.filter((d) => d.reviewId.startsWith(id)) : [];
    if (prefixed.length === 1) return prefixed[0]!;
    if (prefixed.length > 1) return { problem: `"${id}" matches ${prefixed.length} denials: give more of the id` };
    // The same answer for another room's review and an unknown one: nothing is revealed.
    return { problem: `no denial "${id.slice(0, 80)}" of Codex's guardian is open in this conversation (see /guardian)` };
  }

  /** Overridden: it cannot be approved twice. */
  consume(reviewId: string): void {
    this.byId.delete(reviewId);
  }
}
