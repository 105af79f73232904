// History paging rules shared by the stores (see ThreadStore.historyByPrefix).
import { HISTORY_MAX_PAGE, type HistoryPage } from './types.js';

export interface PagePlan {
  /** Ascending from `after` (oldest first), or descending from `before` (newest first, reversed after). */
  direction: 'asc' | 'desc';
  after: number;
  before: number;
  limit: number;
}

/** Normalizes a page request; a limit outside 1..HISTORY_MAX_PAGE is clamped, never trusted. */
export function planPage(opts: HistoryPage = {}): PagePlan {
  const limit = Math.min(HISTORY_MAX_PAGE, Math.max(1, Math.floor(opts.limit ?? HISTORY_MAX_PAGE)));
  const after = Number.isFinite(opts.after) ? Math.max(0, Math.floor(opts.after!)) : 0;
  const before = Number.isFinite(opts.before) ? Math.floor(opts.before!) : Number.MAX_SAFE_INTEGER;
  // Callers that never asked for a page keep the oldest-first listing they always had.
  const legacy = opts.limit === undefined && opts.before === undefined && opts.after === undefined;
  const direction = opts.after !== undefined || legacy ? 'asc' : 'desc';
  return { direction, after, before, limit };
}

/** The page of `records` (ascending by seq) the plan asks for, oldest first. */
export function pageOf<T extends { seq: number }>(records: T[], plan: PagePlan): T[] {
  const inRange = records.filter((r) => r.seq > plan.after && r.seq < plan.before);
  return plan.direction === 'asc' ? inRange.slice(0, plan.limit) : inRange.slice(Math.max(0, inRange.length - plan.limit));
}
