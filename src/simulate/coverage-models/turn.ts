// Coverage model of the turn machine: the bare chart (its outward actions are emits and
// no-ops until provided) with IO actors that never answer.
import type { AnyEventObject } from 'xstate';
import { turnMachine } from '../../../machines/turn.machine.js';
import { RpcError } from '../../connection/errors.js';
import { never, silent, type MachineModel } from './types.js';

const turnInput = { session: 'graph', threadId: 'thr', input: [{ type: 'text', text: 'hi', text_elements: [] }] };
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
          return [
            { type, error: new Error('turn/interrupt failed') },
            { type, error: new RpcError('turn/interrupt', { code: -32600, message: 'no active turn to interrupt' }) },
          ];
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
};
