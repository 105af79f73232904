// What `Supervisor.status()` returns (secrets redacted in `config`).
import type { redactedConfig } from '../config/load.js';

// A type alias (not an interface) so it still fits where callers took `Record<string, unknown>`.
export type SupervisorStatus = {
  id: string;
  /** The supervisor machine's state value (`idle`, `starting`, `running`, `stopping`, `stopped`, `failed`). */
  state: unknown;
  error: string | undefined;
  /** Connection children that ended while the supervisor ran (failed for good, or stopped). */
  endedConnections: Array<{ id: string; error?: string }>;
  config: ReturnType<typeof redactedConfig>;
  warnings: string[];
  /** Per harness id: its own status (the codex harness: connection, sessions, pendingApprovals, startError). */
  harnesses: Record<string, Record<string, unknown>>;
  sessions: Array<{ session: string; agent: string; harness: string; reason: string }>;
  hookFailures: number;
};
