// IO of the connection machine, as XState actors built over one connection's live handles.
// `Connection` passes them to `provideConnection()`; tests provide stand-ins the same way.
import { fromCallback, fromPromise } from 'xstate';
import type { Logger } from 'pino';
import { TransportError, type Transport, type TransportExit, type TransportFactory, type TransportHandlers } from '../transport/types.js';
import { InitializeResultSchema } from '../protocol/client-requests.js';
import type { RpcEngine } from './rpc-engine.js';
import { restartExit } from './policy.js';

export interface ClientInfo {
  name: string;
  title: string | null;
  version: string;
}

export type TransportEvent =
  | { type: 'TRANSPORT.OPENED'; pid: number | undefined }
  | { type: 'TRANSPORT.CLOSED'; exit: TransportExit };

export type TransportCommand = { type: 'CLOSE' };

export interface ConnectionActorInput {
  connectionId: string;
}

export interface HandshakeInput extends ConnectionActorInput {
  timeoutMs: number;
}

export interface HandshakeOutput {
  userAgent: string;
  codexHome?: string | undefined;
  platformOs?: string | undefined;
}

export interface TransportActorDeps {
  engine: RpcEngine;
  open: TransportFactory;
  log: Logger;
}

/** Opens the transport, feeds frames to the engine, reports open/close to the machine. */
export function transportActor(deps: TransportActorDeps) {
  const { engine, open, log } = deps;
  return fromCallback<TransportCommand, ConnectionActorInput, TransportEvent>(({ sendBack, receive }) => {
    let transport: Transport | undefined;
    let stopped = false;
    const handlers: TransportHandlers = {
      onLine: (text) => {
        // A transport the machine has left behind may still be draining: ignore it.
        if (!stopped) engine.handleLine(text);
      },
      onClose: (exit) => {
        // Only this actor's own transport may be detached: after a restart the engine
        // already serves the replacement, and a late exit of the old one must not touch it.
        // Pending calls fail here, synchronously, and the machine hears of it in the same
        // step (it leaves `ready` before anyone can see an unattached engine there).
        if (transport && engine.isAttachedTo(transport)) engine.detach(exit);
        if (stopped) return;
        sendBack({ type: 'TRANSPORT.CLOSED', exit });
      },
    };
    // A factory that throws instead of rejecting is a failed open too: this actor never errors.
    let opening: Promise<Transport>;
    try {
      opening = open(handlers);
    } catch (err) {
      opening = Promise.reject(err);
    }
    opening.then(
      (t) => {
        transport = t;
        if (stopped) {
          void t.close({ force: true });
          return;
        }
        engine.attach(t);
        if (t.pid !== undefined) log.info({ pid: t.pid }, 'app-server started');
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
      if (transport && engine.isAttachedTo(transport)) engine.detach(restartExit);
      void transport?.close({ force: true });
    };
  });
}

export interface HandshakeActorDeps {
  engine: RpcEngine;
  clientInfo: ClientInfo;
  experimentalApi: boolean;
}

/** `initialize` then `initialized`. The version verdict is the machine's, not ours. */
export function handshakeActor(deps: HandshakeActorDeps) {
  const { engine, clientInfo, experimentalApi } = deps;
  return fromPromise<HandshakeOutput, HandshakeInput>(async ({ input, signal }) => {
    const raw = await engine.request(
      'initialize',
      // requiredHumanApproval: `humanCommand` prompts reach the room (a person decides; no policy rule can allow one).
      { clientInfo, capabilities: experimentalApi ? { experimentalApi: true, requestAttestation: false, requiredHumanApproval: true } : null },
      input.timeoutMs,
      signal,
    );
    const result = InitializeResultSchema.parse(raw);
    engine.notify('initialized');
    return { userAgent: result.userAgent, codexHome: result.codexHome, platformOs: result.platformOs };
  });
}
