// Coverage model of the connection machine.
import { fromCallback, fromPromise, type AnyEventObject } from 'xstate';
import { provideConnection } from '../../../machines/connection.machine.js';
import type { ConnectionActorInput, HandshakeInput, HandshakeOutput, TransportCommand, TransportEvent } from '../../connection/actors.js';
import type { MachineModel } from './types.js';

// No IO: a transport that never reports and a handshake that never settles (the explorer sends their events).
const silent = fromCallback<TransportCommand, ConnectionActorInput, TransportEvent>(() => () => {});
const never = fromPromise<HandshakeOutput, HandshakeInput>(() => new Promise<never>(() => {}));

const ua = (v: string) => ({ userAgent: `codex/${v} (graph)` });
const exit = (retryable: boolean) => ({ kind: 'exit', reason: retryable ? 'exited with code 1' : 'binary not found', retryable });

export const connectionModel: MachineModel = {
  id: 'connection',
  // A clock that never moves: every failure stays inside the window.
  machine: provideConnection({ transport: silent, handshake: never, clock: { now: () => 0, random: () => 0 } }),
  variants: [
    { name: 'defaults', input: { connectionId: 'graph' } },
    { name: 'maxFailures 1', input: { connectionId: 'graph', config: { maxFailures: 1 } } },
    { name: 'versionPolicy warn', input: { connectionId: 'graph', config: { versionPolicy: 'warn' } } },
  ],
  events: (types) =>
    types.flatMap((type): AnyEventObject[] => {
      switch (type) {
        case 'TRANSPORT.OPENED':
          return [{ type, pid: 1 }];
        case 'TRANSPORT.CLOSED':
          return [{ type, exit: exit(true) }, { type, exit: exit(false) }];
        case 'RESTART':
          return [{ type, reason: 'graph' }];
        case 'xstate.done.actor.handshake':
          return [
            { type, output: ua('0.169.0') },
            { type, output: ua('0.100.0') },
          ];
        case 'xstate.error.actor.handshake':
          return [{ type, error: new Error('initialize failed') }];
        default:
          return [{ type }];
      }
    }),
};
