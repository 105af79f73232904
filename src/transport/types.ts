// A transport carries JSON-RPC text frames to and from one app-server.

export type ExitKind = 'exit' | 'spawn-error' | 'auth' | 'closed' | 'heartbeat' | 'error';

/** Why a transport ended. Plain data: it goes into machine context and logs. */
export interface TransportExit {
  kind: ExitKind;
  reason: string;
  code?: number | null;
  signal?: string | null;
  stderrTail?: string;
  /** The app-server's own reason (its `Error:` line on stderr), already part of `reason`. */
  appServerReason?: string;
  /** False for faults a restart cannot fix (binary missing, bad credentials). */
  retryable: boolean;
  /** True when we asked for the close. */
  intentional?: boolean;
}

export interface TransportHandlers {
  onLine(text: string): void;
  /** Called exactly once, after which no more lines arrive. */
  onClose(exit: TransportExit): void;
}

export interface Transport {
  readonly pid: number | undefined;
  readonly description: string;
  /** Queue one frame. Never throws; frames sent after close are dropped. */
  send(text: string): void;
  /**
   * Close; resolves when the peer is gone. Graceful by default; `force` kills at once (a
   * restart must not leave the old server running next to its replacement).
   */
  close(opts?: { force?: boolean }): Promise<void>;
}

export type TransportFactory = (handlers: TransportHandlers) => Promise<Transport>;

/** A failure to open, carrying the exit that explains it. */
export class TransportError extends Error {
  constructor(readonly exit: TransportExit) {
    super(exit.reason);
    this.name = 'TransportError';
  }
}
