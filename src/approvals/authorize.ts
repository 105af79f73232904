// Who may decide an approval or run a command that changes a session. One rule for both:
// never an observer or an agent; otherwise a room owner/approver (a verified role), the
// session's persisted owner, or an approver the agent's configuration names.
import { z } from 'zod';

export const ROLES = ['owner', 'approver', 'member', 'observer', 'agent'] as const;
export type Role = (typeof ROLES)[number];
export const RoleSchema = z.enum(ROLES);

export interface Actor {
  /** Participant id (verified upstream when `role` is present; vouched for by the host otherwise). */
  by: string;
  role?: Role | undefined;
}

export interface Authority {
  /** The session's persisted owner (its first poster); undefined while nobody posted. */
  owner: string | undefined;
  approvers: readonly string[];
}

export type Verdict = { ok: true; as: 'role' | 'owner' | 'approver' } | { ok: false; reason: string };

export function authorize(actor: Actor, authority: Authority): Verdict {
  const { by, role } = actor;
  if (role === 'observer' || role === 'agent') return { ok: false, reason: `${by} is an ${role} in this room` };
  if (role === 'owner' || role === 'approver') return { ok: true, as: 'role' };
  if (authority.owner !== undefined && by === authority.owner) return { ok: true, as: 'owner' };
  if (authority.approvers.includes(by)) return { ok: true, as: 'approver' };
  return { ok: false, reason: `${by} is neither the session owner nor an approver` };
}

/** "the session owner (ann), approvers (bob, cy) and room owners/approvers" — for refusals. */
export function whoMay(authority: Authority): string {
  const parts = [authority.owner ? `the session owner (${authority.owner})` : 'the session owner'];
  if (authority.approvers.length) parts.push(`approvers (${authority.approvers.join(', ')})`);
  parts.push('room owners/approvers');
  return parts.length === 2 ? parts.join(' and ') : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;
}
