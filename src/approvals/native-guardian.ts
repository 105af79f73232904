// Codex's own approval reviewer ("guardian": approvalsReviewer `guardian_subagent`, which
// Codex now calls `auto_review`). Codex asks a reviewer subagent instead of us and reports its
// work as notifications: `item/autoApprovalReview/started|completed` and `guardianWarning`.
// Here they become room events; a denied review can be approved by an owner afterwards with
// `thread/approveGuardianDeniedAction`, which takes the review in Codex's core form
// (snake_case, see `assessmentEventOf`): Codex then tells the agent that the person approved
// that exact action. Nothing is re-run by itself; the agent may retry it.
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import type { RoomEvent } from '../events/room-events.js';

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
/** A remote string as shown in a room: no control characters (newlines kept), bounded. */
const shown = (max: number) => z.string().transform((s) => s.replace(CONTROL, '').slice(0, max));
const id = z.string().min(1).max(200);

export const ReviewStatusSchema = z.enum(['inProgress', 'approved', 'denied', 'timedOut', 'aborted']);
export type GuardianReviewStatus = z.infer<typeof ReviewStatusSchema>;

/** `item/autoApprovalReview/started|completed` (marked unstable by Codex: validated leniently). */
const ReviewNotificationSchema = z.looseObject({
  threadId: id,
  turnId: id,
  reviewId: id,
  targetItemId: id.nullish(),
  startedAtMs: z.number().int(),
  completedAtMs: z.number().int().nullish(),
  decisionSource: z.string().max(40).nullish(),
  review: z.looseObject({
    status: ReviewStatusSchema,
    riskLevel: z.string().max(40).nullish(),
    userAuthorization: z.string().max(40).nullish(),
    rationale: shown(4000).nullish(),
  }),
  // Echoed back to Codex on an override, so kept as sent (bounded below).
  action: z.looseObject({ type: z.string().min(1).max(40) }),
});
type ReviewNotification = z.output<typeof ReviewNotificationSchema>;

const WarningSchema = z.looseObject({ threadId: id, message: shown(4000) });

/** The largest action (JSON) kept for an override. */
const MAX_ACTION_BYTES = 64 * 1024;

export type GuardianReviewEvent = Extract<RoomEvent, { type: 'guardian.review' }>;

/**
 * The room events of one native-guardian notification: a `guardian.review` for each review
 * step, a warning notice for `guardianWarning`, and for a denial the way to override it.
 */
export function guardianEventsOf(method: string, params: unknown, session: string, at: number): RoomEvent[] {
  if (method === 'guardianWarning') {
    const w = WarningSchema.safeParse(params);
    return w.success && w.data.message ? [{ type: 'notice', session, at, level: 'warning', text: `Codex guardian: ${w.data.message}` }] : [];
  }
  const r = ReviewNotificationSchema.safeParse(params);
  if (!r.success) return [];
  const n = r.data;
  const status = method === 'item/autoApprovalReview/started' ? 'inProgress' : n.review.status;
  const action = JSON.stringify(n.action).length <= MAX_ACTION_BYTES ? (n.action as Record<string, unknown>) : { type: n.action.type };
  const review: GuardianReviewEvent = {
    type: 'guardian.review',
    session,
    at,
    threadId: n.threadId,
    turnId: n.turnId,
    reviewId: n.reviewId,
    targetItemId: n.targetItemId ?? undefined,
    status,
    riskLevel: n.review.riskLevel ?? undefined,
    userAuthorization: n.review.userAuthorization ?? undefined,
    rationale: n.review.rationale ?? undefined,
    title: actionTitle(n.action),
    action,
    startedAtMs: n.startedAtMs,
    completedAtMs: n.completedAtMs ?? undefined,
    decisionSource: n.decisionSource ?? undefined,
  };
  if (status !== 'denied') return [review];
  const hint = `Codex's guardian denied "${review.title}". An owner can approve it anyway: /guardian approve ${review.reviewId} (the agent is told; it may then retry).`;
  return [review, { type: 'notice', session, at, level: 'info', text: hint }];
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** One line saying what the reviewed action was. */
export function actionTitle(a: { type: string } & Record<string, unknown>): string {
  let t: string;
  switch (a.type) {
    case 'command':
      t = `Run: ${str(a.command)}`;
      break;
    case 'execve':
      t = `Run: ${Array.isArray(a.argv) ? a.argv.map(str).join(' ') : str(a.program)}`;
      break;
    case 'writeStdin':
      t = `Input to process ${str(a.processId)}`;
      break;
    case 'applyPatch':
      t = `Edit ${Array.isArray(a.files) ? a.files.map(str).join(', ') : 'files'}`;
      break;
    case 'networkAccess':
      t = `Network access: ${str(a.target) || str(a.host)}`;
      break;
    case 'mcpToolCall':
      t = `MCP tool ${str(a.server)}.${str(a.toolTitle) || str(a.toolName)}`;
      break;
    case 'requestPermissions':
      t = `Permissions${str(a.reason) ? `: ${str(a.reason)}` : ''}`;
      break;
    default:
      t = a.type;
  }
  return t.replace(CONTROL, ' ').slice(0, 300);
}

const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
/** Codex core's names for the values the app-server spells in camelCase. */
const CORE_VALUES: Record<string, Record<string, string>> = {
  type: { writeStdin: 'write_stdin', applyPatch: 'apply_patch', networkAccess: 'network_access', mcpToolCall: 'mcp_tool_call', requestPermissions: 'request_permissions' },
  source: { unifiedExec: 'unified_exec' },
  protocol: { socks5Tcp: 'socks5_tcp', socks5Udp: 'socks5_udp' },
};

/** camelCase keys → snake_case, deeply (the permission profile inside `requestPermissions` too). */
function coreKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(coreKeys);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [snake(k), coreKeys(x)]));
}

/** A reviewed action as Codex core spells it (verified against 0.169.0's deserializer). */
export function coreAction(action: Record<string, unknown>): Record<string, unknown> {
  const out = coreKeys(action) as Record<string, unknown>;
  for (const [field, names] of Object.entries(CORE_VALUES)) {
    const v = out[field];
    if (typeof v === 'string' && names[v]) out[field] = names[v];
  }
  // A stdin review's cwd is read as a URL by this version.
  if (out.type === 'write_stdin' && typeof out.cwd === 'string' && out.cwd.startsWith('/')) out.cwd = pathToFileURL(out.cwd).href;
  return out;
}

/** `thread/approveGuardianDeniedAction`'s `event`: the denied review as a core GuardianAssessmentEvent. */
export function assessmentEventOf(r: GuardianReviewEvent): Record<string, unknown> {
  return {
    id: r.reviewId,
    target_item_id: r.targetItemId ?? null,
    turn_id: r.turnId,
    started_at_ms: r.startedAtMs,
    completed_at_ms: r.completedAtMs ?? null,
    status: 'denied',
    risk_level: r.riskLevel ?? null,
    user_authorization: r.userAuthorization ?? null,
    rationale: r.rationale ?? null,
    decision_source: r.decisionSource ?? 'agent',
    action: coreAction(r.action),
  };
}

export type { ReviewNotification };
