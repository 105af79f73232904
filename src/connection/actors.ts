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
      onLine: (text) => {
        // A transport the machine has left behind may still be draining: ignore it.
        if (!stopped) rt.engine.handleLine(text);
      },
      onClose: (exit) => {
        // Only this actor's own transport may be detached: after a restart the engine
        // already serves the replacement, and a late exit of the old one must not touch it.
        if (transport && rt.engine.isAttachedTo(transport)) {
          // Pending calls fail here, synchronously, before the machine even hears of it.
          rt.engine.detach(exit);
          rt.onClosed?.(exit);
        }
        if (stopped) return;
        rt.onPid?.(undefined);
        sendBack({ type: 'TRANSPORT.CLOSED', exit });
      },
    }).then(
      (t) => {
        transport = t;
        if (stopped) {
          void t.close({ force: true });
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
      // Leaving the running state without a graceful close (restart, handshake failure,
      // version refusal, stop timeout): the server is killed at once so it never overlaps
      // its replacement, and pending calls fail now rather than when it finally exits.
      stopped = true;
      if (transport && rt.engine.isAttachedTo(transport)) {
        const exit: TransportExit = { kind: 'closed', retryable: true, reason: 'app-server connection restarting' };
        rt.engine.detach(exit);
        rt.onClosed?.(exit);
      }
      void transport?.close({ force: true });
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
