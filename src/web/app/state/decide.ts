// Who may decide an approval (the contract's page rule, mirroring src/approvals/authorize.ts;
// the server still checks every decision) and how each offered decision is named on its button.
import type { ApprovalRequested } from '../frames.js';
import type { Me } from './types.js';

export type MayDecide = { ok: true } | { ok: false; reason: string };

export function mayDecide(me: Me | undefined, deciders: ApprovalRequested['deciders']): MayDecide {
  if (!me) return { ok: false, reason: 'Not connected to the room' };
  if (me.role === 'observer') return { ok: false, reason: 'Observers cannot decide approvals' };
  if (me.role === 'agent') return { ok: false, reason: 'An agent credential cannot decide approvals' };
  if (me.role === 'owner' || me.role === 'approver') return { ok: true };
  // A server that does not say who decides: let the member try; the server refuses if need be.
  if (!deciders) return { ok: true };
  if (deciders.owner === me.id || deciders.approvers.includes(me.id)) return { ok: true };
  const owner = deciders.owner ? `the conversation owner (${deciders.owner})` : 'the conversation owner';
  const approvers = deciders.approvers.length ? `approvers (${deciders.approvers.join(', ')})` : 'approvers';
  return { ok: false, reason: `Only ${owner}, ${approvers} and room owners/approvers can decide` };
}

const LABELS: Record<string, string> = {
  accept: 'Accept',
  acceptForSession: 'Accept for session',
  acceptAlways: 'Always accept',
  acceptWithExecpolicyAmendment: 'Accept and always allow this command',
  decline: 'Decline',
  cancel: 'Cancel',
  answer: 'Submit answers',
};

/** The button name of an offered decision (the contract's accessible names). */
export function decisionLabel(approvalKind: string, choice: string): string {
  if (approvalKind === 'mcpForm' && choice === 'accept') return 'Submit';
  const net = /^applyNetworkPolicyAmendment:(allow|deny):(.+)$/.exec(choice);
  if (net) return `${net[1] === 'allow' ? 'Always allow' : 'Always deny'} ${net[2]}`;
  return LABELS[choice] ?? choice;
}

/** Decisions that send content collected from the card's form. */
export const needsContent = (approvalKind: string, choice: string): boolean =>
  (approvalKind === 'mcpForm' && choice === 'accept') || (approvalKind === 'userInput' && choice === 'answer');

/** A decision that agrees (styled as the primary action). */
export const isPositive = (choice: string): boolean => choice.startsWith('accept') || choice === 'answer' || choice.startsWith('applyNetworkPolicyAmendment:allow');

export const OUTCOME_TEXT: Record<string, string> = {
  pending: 'Waiting for a decision',
  approved: 'Approved',
  denied: 'Denied',
  withdrawn: 'Withdrawn',
  answered: 'Answered',
};
