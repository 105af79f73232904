// Test helpers around an ApprovalRouter: a room that records events, a session context,
// and waiting for the next prompt.
import { expect } from 'vitest';
import type { RoomEvent } from '../../src/events/room-events.js';
import { ApprovalRouter, type ApprovalRouterOptions, type ApprovalSessionContext } from '../../src/approvals/router.js';
import type { ApprovalAudit } from '../../src/approvals/types.js';
import { memoryLogger } from './log.js';

export type Requested = Extract<RoomEvent, { type: 'approval.requested' }>;
export type Resolved = Extract<RoomEvent, { type: 'approval.resolved' }>;

export interface Room {
  events: RoomEvent[];
  requested(): Requested[];
  resolved(): Resolved[];
  notices(): Array<Extract<RoomEvent, { type: 'notice' }>>;
  /** Resolves with the n-th (0-based) approval.requested, waiting for it if needed. */
  nextRequested(n?: number, timeoutMs?: number): Promise<Requested>;
  /** Resolves once an approval.resolved for `approvalId` arrived. */
  resolvedFor(approvalId: string, timeoutMs?: number): Promise<Resolved>;
}

export function makeRoom(): Room & { sink: (e: RoomEvent) => void } {
  const events: RoomEvent[] = [];
  const waiters = new Set<() => void>();
  const sink = (e: RoomEvent) => {
    events.push(e);
    for (const w of [...waiters]) w();
  };
  const waitFor = <T>(find: () => T | undefined, what: string, timeoutMs: number): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const hit = find();
        if (hit !== undefined) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(hit);
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; room saw: ${events.map((e) => e.type).join(', ')}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  const requested = () => events.filter((e): e is Requested => e.type === 'approval.requested');
  const resolved = () => events.filter((e): e is Resolved => e.type === 'approval.resolved');
  return {
    events,
    sink,
    requested,
    resolved,
    notices: () => events.filter((e): e is Extract<RoomEvent, { type: 'notice' }> => e.type === 'notice'),
    nextRequested: (n = 0, timeoutMs = 20_000) => waitFor(() => requested()[n], `approval.requested #${n}`, timeoutMs),
    resolvedFor: (approvalId, timeoutMs = 20_000) =>
      waitFor(() => resolved().find((r) => r.approvalId === approvalId), `approval.resolved of ${approvalId}`, timeoutMs),
  };
}

export const SESSION = 'room-1/general/t1';
export const OWNER = 'alice';
export const APPROVER = 'bob';

export function makeRouter(opts: Partial<ApprovalRouterOptions> & { context?: ApprovalSessionContext | null } = {}) {
  const room = makeRoom();
  const { log, records, lines } = memoryLogger();
  const audits: ApprovalAudit[] = [];
  const { context, ...rest } = opts;
  const router = new ApprovalRouter({
    sink: room.sink,
    resolveContext: () => (context === null ? undefined : (context ?? { session: SESSION, owner: OWNER, approvers: [APPROVER] })),
    log,
    ...rest,
  });
  router.audit$.subscribe((a) => audits.push(a));
  return { router, room, audits, records, lines };
}

/** The audit record of one approval (fails the test if there is none). */
export function auditOf(audits: ApprovalAudit[], approvalId: string): ApprovalAudit {
  const a = audits.find((x) => x.approvalId === approvalId);
  expect(a, `audit of ${approvalId}`).toBeDefined();
  return a!;
}
