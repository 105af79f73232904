// `/effort` and `/budget`: per-conversation options of its turns, persisted in
// ConversationOptions. `/effort` is for whoever may run `/model`; `/budget` is a cost cap, so
// only the conversation's owner (or a room owner) may set, raise or remove it.
import { authorize, whoMay, type Role } from '../approvals/authorize.js';
import { EFFORTS, parseTokenAmount, tokenAmountText, type ConversationOptions, type Effort } from './conversation-options.js';

export interface TurnOptionHost {
  readonly options: ConversationOptions;
  notice(level: 'info' | 'warning' | 'error', text: string): void;
  /** The conversation's persisted owner. */
  owner: string | undefined;
  /** The agent's configured approvers. */
  approvers: readonly string[];
}

export interface OptionCaller {
  session: string;
  from: { id: string; role?: string | undefined };
}

const CHOICES = `${EFFORTS.join(', ')} or default`;

export async function effortCommand(h: TurnOptionHost, c: OptionCaller, args: string[]): Promise<void> {
  const arg = (args[0] ?? '').toLowerCase();
  if (!arg) {
    h.notice('info', `Reasoning effort: ${h.options.effortOf(c.session) ?? 'Codex default'}. Change it with /effort ${EFFORTS.join('|')}|default.`);
    return;
  }
  const v = authorize({ by: c.from.id, role: c.from.role as Role | undefined }, { owner: h.owner, approvers: h.approvers });
  if (!v.ok) {
    h.notice('warning', `/effort was not run: only ${whoMay({ owner: h.owner, approvers: h.approvers })} may run it (${v.reason}).`);
    return;
  }
  if (args.length > 1 || (arg !== 'default' && !(EFFORTS as readonly string[]).includes(arg))) {
    h.notice('error', `Unknown reasoning effort "${args.join(' ').slice(0, 40)}": choose ${CHOICES}.`);
    return;
  }
  const effort = arg === 'default' ? undefined : (arg as Effort);
  await h.options.setEffort(c.session, effort);
  h.notice('info', effort ? `Reasoning effort set to ${effort} from the next turn.` : 'Reasoning effort back to the Codex default from the next turn.');
}

export async function budgetCommand(h: TurnOptionHost, c: OptionCaller, args: string[]): Promise<void> {
  const arg = args.join(' ').trim();
  if (!arg) {
    h.notice('info', budgetText(h.options, c.session) ?? 'No token budget in this conversation. Set one with /budget 200k (owner only).');
    return;
  }
  // A cost cap: the people who pay for it decide, not every approver.
  const isOwner = c.from.role === 'owner' || (h.owner !== undefined && c.from.id === h.owner && c.from.role !== 'observer' && c.from.role !== 'agent');
  if (!isOwner) {
    h.notice('warning', `/budget was not run: only the conversation's owner${h.owner ? ` (${h.owner})` : ''} or a room owner may change the budget.`);
    return;
  }
  if (arg.toLowerCase() === 'off') {
    await h.options.setBudget(c.session, undefined);
    h.notice('info', 'Token budget removed: turns run without a cap.');
    return;
  }
  const amount = parseTokenAmount(arg);
  if (!amount.ok) {
    h.notice('error', `${amount.reason}; or /budget off.`);
    return;
  }
  await h.options.setBudget(c.session, amount.tokens);
  const b = h.options.budgetOf(c.session)!;
  const state = b.spent >= b.limit ? ' It is already spent: new turns are refused until it is raised.' : '';
  h.notice('info', `Token budget set to ${tokenAmountText(b.limit)} (${b.spent.toLocaleString('en-US')} spent so far).${state}`);
}

/** One line for `/status` and `/usage`; undefined without a budget. */
export function budgetText(options: ConversationOptions, session: string): string | undefined {
  const b = options.budgetOf(session);
  if (!b) return undefined;
  const left = Math.max(0, b.limit - b.spent);
  const state = left === 0 ? 'spent: new turns are refused until the owner raises it' : `${left.toLocaleString('en-US')} left`;
  return `Token budget: ${b.spent.toLocaleString('en-US')} of ${tokenAmountText(b.limit)} used · ${state}`;
}

/** The notice a message gets when the budget is spent (it is not run); undefined while turns may run. */
export function budgetRefusal(options: ConversationOptions, session: string): string | undefined {
  const b = options.budgetOf(session);
  if (!b || b.spent < b.limit) return undefined;
  return `Not run: this conversation's token budget is spent (${b.spent.toLocaleString('en-US')} of ${tokenAmountText(b.limit)} tokens). The owner can raise it (/budget 500k) or remove it (/budget off).`;
}

/** True (and the reason told) when the conversation's budget is spent. */
export function refusedOverBudget(options: ConversationOptions, session: string, warn: (text: string) => void): boolean {
  const refusal = budgetRefusal(options, session);
  if (refusal) warn(refusal);
  return refusal !== undefined;
}

/** Counts a finished turn's tokens; says so once when they use the budget up. */
export function spendTurnTokens(options: ConversationOptions, e: { session: string; usage?: { totalTokens: number } | undefined }, warn: (text: string) => void): void {
  if (!e.usage) return;
  void options.spend(e.session, e.usage.totalTokens).then((spent) => spent && warn(budgetSpentNotice(options, e.session)));
}

/** Told once, when a turn's tokens use the budget up. */
export function budgetSpentNotice(options: ConversationOptions, session: string): string {
  const b = options.budgetOf(session)!;
  return `This conversation's token budget is spent (${b.spent.toLocaleString('en-US')} of ${tokenAmountText(b.limit)} tokens): new turns are refused until the owner raises it (/budget 500k) or removes it (/budget off).`;
}
