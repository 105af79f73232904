// Coverage model of the turn machine.
import type { AnyEventObject } from 'xstate';
import { turnMachine } from '../../../machines/turn.machine.js';
import { turnRuntimes } from '../../turn/runtime.js';
import { createLogger } from '../../log/logger.js';
import { RpcError } from '../../connection/errors.js';
import { never, silent, type MachineModel } from './types.js';

const TURN_RUNTIME = 'graph-turn';
const turnInput = { runtimeId: TURN_RUNTIME, session: 'graph', threadId: 'thr', input: [{ type: 'text', text: 'hi', text_elements: [] }] };
const turnDone = { type: 'xstate.done.actor.start', output: { turnId: 'turn_1' } };

export const turnModel: MachineModel = {
  id: 'turn',
  machine: turnMachine.provide({ actors: { stream: silent, startTurn: never, interruptTurn: never } as never }),
  variants: [
    { name: 'defaults', input: turnInput },
    { name: 'stop requested while starting', input: turnInput, prefix: [{ type: 'STREAM.READY' }, { type: 'STOP' }] },
    {
      name: 'interrupted by the watchdog',
      input: turnInput,
      prefix: [{ type: 'STREAM.READY' }, turnDone, { type: 'xstate.after.watchdog.turn.running.active' }],
    },
  ],
  events: (types) =>
    types.flatMap((type): AnyEventObject[] => {
      switch (type) {
        case 'STOP':
          return [{ type, reason: 'graph' }];
        case 'CONNECTION.LOST':
          return [{ type, reason: 'graph' }];
        case 'xstate.done.actor.start':
          return [turnDone];
        case 'xstate.error.actor.start':
          return [
            { type, error: new Error('turn/start failed') },
            { type, error: new RpcError('turn/start', { code: -32600, message: 'thread not found: thr' }) },
          ];
        case 'xstate.error.actor.interrupt':
          return [{ type, error: new Error('turn/interrupt failed') }];
        case 'ITEM':
          return [{ type, phase: 'started', itemType: 'agentMessage', itemId: 'i1' }];
        case 'TURN.STARTED':
          return [{ type, turnId: 'turn_1' }];
        case 'WAITING':
          return [
            { type, waiting: true },
            { type, waiting: false },
          ];
        case 'TURN.COMPLETED':
          return ['completed', 'interrupted', 'failed'].map((status) => ({ type, turnId: 'turn_1', status, error: status === 'failed' ? 'boom' : undefined }));
        default:
          return [{ type }];
      }
    }),
  setup: () => {
    if (turnRuntimes.has(TURN_RUNTIME)) return () => {};
    turnRuntimes.register(TURN_RUNTIME, {
      conn: {
        request: () => new Promise(() => {}),
        subscribe: () => () => {},
        onLifecycle: () => () => {},
        restart: () => {},
        withdrawServerRequests: () => 0,
      },
      sink: () => {},
      approvals: undefined,
      log: createLogger({ level: 'silent' }),
    });
    return () => turnRuntimes.unregister(TURN_RUNTIME);
  },
};
