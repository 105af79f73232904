// The turn chart bound to live handles: actors and outward actions close over the
// connection, the room sink, the approval hooks, the log and the clock.
import { sendParent } from 'xstate';
import { turnMachine, type TurnAnnouncement, type TurnContext, type TurnLog, type TurnParentEvent, type WithdrawRequest } from '../../machines/turn.machine.js';
import { createTurnActors } from './actors.js';
import type { TurnDeps } from './runtime.js';

export interface ProvideTurnOptions {
  /** The turn runs inside a session: its reports (TURN.BOUND, TURN.INTERRUPTING) go to the parent (default: emitted). */
  inSession?: boolean;
}

/**
 * The turn's room events go straight to the sink, like the deltas of its stream: they
 * interleave with those and with the approval withdrawals of `withdrawRequests`, and a
 * detour through the session's mailbox would reorder them.
 */
export function provideTurnMachine(deps: TurnDeps, opts: ProvideTurnOptions = {}) {
  const now = deps.now ?? Date.now;
  const withdraw = ({ threadId, turnId, reason }: WithdrawRequest): void => {
    if (turnId === undefined) return;
    try {
      deps.conn.withdrawServerRequests(threadId, reason);
      deps.approvals?.withdrawTurn(threadId, turnId, reason);
    } catch (err) {
      deps.log.error({ err, turnId }, 'withdrawing approvals of an ended turn failed');
    }
  };
  const actions = {
    announce: ({ context }: { context: TurnContext }, e: TurnAnnouncement) => deps.sink({ ...e, session: context.session, at: now() }),
    withdrawRequests: (_: unknown, r: WithdrawRequest) => withdraw(r),
    restartAppServer: ({ context }: { context: TurnContext }, p: { reason: string }) => deps.conn.restart(p.reason, context.threadId),
    log: (_: unknown, l: TurnLog) => deps.log[l.level](l.data, l.msg),
  };
  const actors = createTurnActors(deps);
  if (!opts.inSession) return turnMachine.provide({ actors, actions });
  return turnMachine.provide({ actors, actions: { ...actions, report: sendParent((_, e: TurnParentEvent) => e) } });
}
