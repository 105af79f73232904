// A node's queue driver (several nodes on one postgres database): it scans the shared inbox
// for conversations it holds or can take and starts their next message. A scan runs on a
// timer (messages posted on other nodes) and when woken (a post or a turn end on this node);
// a wake during a scan runs one more scan right after it, so nothing posted meanwhile waits
// for the timer.
//
// The scan itself is IO, provided by the ClusterDriver (`clusterDriverMachine.provide`); the
// default only fails, so a machine nobody provided says so.
import { assign, emit, fromPromise, setup } from 'xstate';

export interface ClusterDriverInput {
  node: string;
  /** Between scans when nothing wakes the driver (ms). */
  pollMs: number;
}

export interface ClusterDriverContext {
  node: string;
  pollMs: number;
  /** Woken while scanning: scan again at once. */
  again: boolean;
}

export type ClusterDriverEvent = { type: 'WAKE' } | { type: 'STOP' };

export type ClusterDriverEmitted = { type: 'driver.scanFailed'; error: string };

export const clusterDriverMachine = setup({
  types: {
    context: {} as ClusterDriverContext,
    events: {} as ClusterDriverEvent,
    input: {} as ClusterDriverInput,
    emitted: {} as ClusterDriverEmitted,
  },
  actors: {
    scan: fromPromise<void, { node: string }>(async () => {
      throw new Error('scan was not provided (build the machine with clusterDriverMachine.provide)');
    }),
  },
  delays: { pollInterval: ({ context }) => context.pollMs },
  guards: { wokenDuringScan: ({ context }) => context.again },
  actions: {
    markAgain: assign({ again: true }),
    clearAgain: assign({ again: false }),
    reportScanFailed: emit((_, params: { error: unknown }) => ({ type: 'driver.scanFailed' as const, error: String((params.error as Error | undefined)?.message ?? params.error) })),
  },
}).createMachine({
  id: 'clusterDriver',
  context: ({ input }) => ({ node: input.node, pollMs: input.pollMs, again: false }),
  initial: 'scanning',
  on: { STOP: '.stopped' },
  states: {
    waiting: {
      on: { WAKE: 'scanning' },
      after: { pollInterval: 'scanning' },
    },
    scanning: {
      entry: 'clearAgain',
      on: { WAKE: { actions: 'markAgain' } },
      invoke: {
        src: 'scan',
        input: ({ context }) => ({ node: context.node }),
        onDone: [{ guard: 'wokenDuringScan', target: 'scanning', reenter: true }, { target: 'waiting' }],
        onError: { target: 'waiting', actions: { type: 'reportScanFailed', params: ({ event }) => ({ error: event.error }) } },
      },
    },
    stopped: { type: 'final' },
  },
});
