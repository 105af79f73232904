// The fault harness's wire tap: the real stdio transport with every frame Switchboard writes
// seen first, so a test can stop or kill the app-server at an exact protocol point.
import { stdioTransport, type StdioOptions } from '../../src/transport/stdio.js';
import type { TransportFactory } from '../../src/transport/types.js';

export type Frame = Record<string, unknown> & { id?: unknown; method?: string; result?: unknown };

export interface Tap {
  /** Every frame Switchboard wrote to any app-server of this host, in order. */
  sent: Frame[];
  /** Lines received from the app-server. */
  received: number;
  /** Hooks around one write (the pid is the app-server's process group). */
  before: Array<(msg: Frame, pid: number | undefined) => void>;
  after: Array<(msg: Frame, pid: number | undefined) => void>;
}

/** The real stdio transport, with every outgoing frame seen by the tap first. */
export function tappedStdio(opts: StdioOptions, tap: Tap): TransportFactory {
  const open = stdioTransport(opts);
  return async (handlers) => {
    const t = await open({
      onLine: (line) => {
        tap.received++;
        handlers.onLine(line);
      },
      onClose: (exit) => handlers.onClose(exit),
    });
    return {
      get pid() {
        return t.pid;
      },
      description: t.description,
      send(text: string) {
        const msg = JSON.parse(text) as Frame;
        tap.sent.push(msg);
        for (const h of tap.before) h(msg, t.pid);
        t.send(text);
        for (const h of tap.after) h(msg, t.pid);
      },
      close: (opts) => t.close(opts),
    };
  };
}

export function killGroup(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  // The npm `codex` is a Node launcher around the native binary: signal the whole group.
  process.kill(-pid, signal);
}

/** Approval answers that said yes (any accept form), among the frames sent. */
export function acceptsOnWire(sent: Frame[]): Frame[] {
  return sent.filter((m) => {
    if (m.method !== undefined || m.id === undefined || typeof m.result !== 'object' || m.result === null) return false;
    const r = m.result as { decision?: unknown; action?: unknown };
    const d = r.decision;
    if (d === 'accept' || d === 'acceptForSession' || d === 'approved' || d === 'approved_for_session') return true;
    if (typeof d === 'object' && d !== null) return true; // acceptWithExecpolicyAmendment & co
    return r.action === 'accept';
  });
}

