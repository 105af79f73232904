// A node's feed of the room events other nodes publish (several nodes on one postgres
// database): one dedicated connection LISTENs; each notification (a seq and the publishing
// node) makes the node read the new rows (not after its own, unless seqs are missing). A lost
// connection is retried after a delay, and the rows published meanwhile are caught up by seq
// once it is back.
//
// The IO is provided by the EventFeed (`eventFeedMachine.provide`); the defaults only fail.
import { emit, fromCallback, fromPromise, setup } from 'xstate';

export interface EventFeedInput {
  node: string;
  reconnectMs: number;
}

export type EventFeedEvent = { type: 'LOST'; error: string } | { type: 'STOP' };

export type EventFeedEmitted = { type: 'feed.lost'; error: string } | { type: 'feed.listening' };

export const eventFeedMachine = setup({
  types: {
    context: {} as EventFeedInput,
    events: {} as EventFeedEvent,
    input: {} as EventFeedInput,
    emitted: {} as EventFeedEmitted,
  },
  actors: {
    /** Connects, LISTENs and catches up on what was published since the last row read. */
    connect: fromPromise<void, { node: string }>(async () => {
      throw new Error('connect was not provided (build the machine with eventFeedMachine.provide)');
    }),
    /** Reads rows on each notification; sends LOST when the connection ends. */
    listen: fromCallback<EventFeedEvent, { node: string }>(() => {
      throw new Error('listen was not provided (build the machine with eventFeedMachine.provide)');
    }),
  },
  delays: { reconnectDelay: ({ context }) => context.reconnectMs },
  actions: {
    reportLost: emit((_, params: { error: unknown }) => ({ type: 'feed.lost' as const, error: String((params.error as Error | undefined)?.message ?? params.error) })),
    announceListening: emit({ type: 'feed.listening' as const }),
  },
}).createMachine({
  id: 'eventFeed',
  context: ({ input }) => input,
  initial: 'connecting',
  on: { STOP: '.stopped' },
  states: {
    connecting: {
      invoke: {
        src: 'connect',
        input: ({ context }) => ({ node: context.node }),
        onDone: 'listening',
        onError: { target: 'waiting', actions: { type: 'reportLost', params: ({ event }) => ({ error: event.error }) } },
      },
    },
    listening: {
      entry: 'announceListening',
      invoke: { src: 'listen', input: ({ context }) => ({ node: context.node }) },
      on: { LOST: { target: 'waiting', actions: { type: 'reportLost', params: ({ event }) => ({ error: event.error }) } } },
    },
    waiting: { after: { reconnectDelay: 'connecting' } },
    stopped: { type: 'final' },
  },
});
