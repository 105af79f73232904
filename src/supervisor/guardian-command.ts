// `/guardian` and `/guardian approve <review-id>`: what Codex's own reviewer denied in this
// conversation, and an owner's override of one denial through
// `thread/approveGuardianDeniedAction`. The override tells the agent that a person approved that
// exact action; Codex does not re-run it by itself (the agent may retry it).
import { assessmentEventOf } from '../approvals/native-guardian.js';
import type { GuardianDenials } from './guardian-denials.js';

export interface GuardianCommandHost {
  denials: GuardianDenials;
  /** Sends a request to the app-server that has the thread. */
  request(method: 'thread/approveGuardianDeniedAction', params: { threadId: string; event: Record<string, unknown> }): Promise<unknown>;
  notice(level: 'info' | 'warning' | 'error', text: string): void;
}

export const GUARDIAN_USAGE = 'usage: /guardian (the denials of Codex\'s guardian here) or /guardian approve <review-id>';

export async function guardianCommand(h: GuardianCommandHost, c: { session: string; from: { id: string; name: string } }, args: string[]): Promise<void> {
  const sub = args[0] ?? 'list';
  if (sub === 'list') {
    const open = h.denials.of(c.session);
    if (open.length === 0) return h.notice('info', 'Codex\'s guardian has denied nothing here that an owner could still approve.');
    const lines = open.map((d) => `  ${d.reviewId}  ${d.title}${d.riskLevel ? ` (risk ${d.riskLevel})` : ''}${d.rationale ? `: ${d.rationale.slice(0, 200)}` : ''}`);
    return h.notice('info', `Denied by Codex's guardian (an owner can approve one with /guardian approve <review-id>):\n${lines.join('\n')}`);
  }
  if (sub !== 'approve' || !args[1]) return h.notice('warning', GUARDIAN_USAGE);
  const found = h.denials.find(c.session, args[1]);
  if ('problem' in found) return h.notice('error', `/guardian approve: ${found.problem}`);
  try {
    await h.request('thread/approveGuardianDeniedAction', { threadId: found.threadId, event: assessmentEventOf(found) });
  } catch (err) {
    return h.notice('error', `/guardian approve: Codex refused the override: ${(err as Error).message}`);
  }
  h.denials.consume(found.reviewId);
  h.notice(
    'info',
    `${c.from.name} approved "${found.title}", which Codex's guardian had denied. Codex has told the agent; the action is not re-run by itself: the agent may retry it (ask it to if it should).`,
  );
}
