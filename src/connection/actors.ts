// IO of the connection machine, as XState actors. Tests replace them with
// `connectionMachine.provide({ actors: ... })`.
import { fromCallback, fromPromise } from 'xstate';
import { TransportError, type Transport, type TransportExit } from '../transport/types.js';
import { connectionRuntimes } from './runtime.js';
import { InitializeResultSchema } from '../protocol/client-requests.js';

export type TransportEvent =
  | { type: 'TRANSPORT.OPENED'; pid: number | undefined }
  | { type: 'TRANSPORT.CLOSED'; exit: TransportExit };

export type TransportCommand = { type: 'CLOSE' };

export interface ConnectionActorInput {
  connectionId: string;
}

/** Opens the transport, feeds frames to the engine, reports open/close to the machine. */
export const transportActor = fromCallback<TransportCommand, ConnectionActorInput, TransportEvent>(
  ({ input, sendBack, receive }) => {
    const rt = connectionRuntimes.get(input.connectionId);
    let transport: Transport | undefined;
    let stopped = false;
    rt.open({
      onLine: (text) => rt.engine.handleLine(text),
      onClose: (exit) => {
        // Pending calls fail here, synchronously, before the machine even hears of it.
        rt.engine.detach(exit);
        rt.onPid?.(undefined);
        rt.onClosed?.(exit);
        if (!stopped) sendBack({ type: 'TRANSPORT.CLOSED', exit });
      },
    }).then(
      (t) => {
        transport = t;
        if (stopped) {
          void t.close();
          return;
        }
        rt.engine.attach(t);
        rt.onPid?.(t.pid);
        sendBack({ type: 'TRANSPORT.OPENED', pid: t.pid });
      },
      (err: unknown) => {
        if (stopped) return;
        const exit: TransportExit =
          err instanceof TransportError ? err.exit : { kind: 'error', retryable: true, reason: String(err) };
        sendBack({ type: 'TRANSPORT.CLOSED', exit });
      },
    );
    receive((cmd) => {
      if (cmd.type === 'CLOSE') void transport?.close();
    });
    return () => {
      // Leaving the running state: close in the background; the process registry
      // escalates to SIGKILL if the server does not go.
      stopped = true;
      void transport?.close();
    };
  },
);

export interface HandshakeOutput {
  userAgent: string;
  codexHome?: string | undefined;
  platformOs?: string | undefined;
}

/** `initialize` then `initialized`. The version verdict is the machine's, not ours. */
export const handshakeActor = fromPromise<HandshakeOutput, ConnectionActorInput & { timeoutMs: number }>(
  async ({ input, signal }) => {
    const rt = connectionRuntimes.get(input.connectionId);
    const raw = await rt.engine.request(
      'initialize',
      {
        clientInfo: rt.clientInfo,
        capabilities: rt.experimentalApi ? { experimentalApi: true, requestAttestation: false } : null,
      },
      input.timeoutMs,
      signal,
    );
    const result = InitializeResultSchema.parse(raw);
    rt.engine.notify('initialized');
    return { userAgent: result.userAgent, codexHome: result.codexHome, platformOs: result.platformOs };
  },
);
