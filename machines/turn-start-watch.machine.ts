// A node's watch over one queued message it handed to a harness (several nodes on one postgres
// database): the conversation's queue moves on when the message's turn ends, so a message whose
// turn never starts (only ignored attachments, a harness that failed before turn/started) would
// hold the queue for ever. Unless the turn starts within `turnStartTimeout`, the watch expires
// and the ClusterDriver acks the message with a notice to the room.
import { emit, setup } from 'xstate';

export interface TurnStartWatchInput {
  session: string;
  /** The inbox entry handed over. */
  entry: string;
  timeoutMs: number;
}

export type TurnStartWatchEvent = { type: 'TURN.STARTED' } | { type: 'CANCEL' };

export type TurnStartWatchEmitted = { type: 'watch.expired'; session: string; entry: string; afterMs: number };

export const turnStartWatchMachine = setup({
  types: {
    context: {} as TurnStartWatchInput,
    events: {} as TurnStartWatchEvent,
    input: {} as TurnStartWatchInput,
    emitted: {} as TurnStartWatchEmitted,
  },
  delays: { turnStartTimeout: ({ context }) => context.timeoutMs },
  actions: {
    announceExpired: emit(({ context }) => ({ type: 'watch.expired' as const, session: context.session, entry: context.entry, afterMs: context.timeoutMs })),
  },
}).createMachine({
  id: 'turnStartWatch',
  context: ({ input }) => input,
  initial: 'waiting',
  states: {
    waiting: {
      on: { 'TURN.STARTED': 'started', CANCEL: 'cancelled' },
      after: { turnStartTimeout: 'expired' },
    },
    started: { type: 'final' },
    cancelled: { type: 'final' },
    expired: { type: 'final', entry: 'announceExpired' },
  },
});
