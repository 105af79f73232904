// A SessionManager over a fake connection for the session unit tests: what they post, the
// room events it emits, and a clean-up that stops every manager and removes temp dirs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SessionManager, type SessionManagerOptions } from '../../../src/session/manager.js';
import { MemoryBindingStore } from '../../../src/session/bindings.js';
import type { SessionSettings } from '../../../src/session/types.js';
import { codex, FakeConnection } from '../../support/fake-connection.js';
import type { RoomEvent } from '../../../src/events/room-events.js';
import { createLogger } from '../../../src/log/logger.js';

const managers: SessionManager[] = [];
const dirs: string[] = [];

/** For afterEach: stop the managers and remove the temp dirs of the test that ended. */
export async function cleanupSessions(): Promise<void> {
  await Promise.all(managers.splice(0).map((m) => m.stop({ interrupt: false })));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'sb-session-'));
  dirs.push(d);
  return d;
}

export function harness(opts: Omit<Partial<SessionManagerOptions>, 'settings'> & { settings?: Partial<SessionSettings> } = {}) {
  const conn = (opts.connection as FakeConnection | undefined) ?? new FakeConnection();
  const events: RoomEvent[] = [];
  const withdrawn: string[] = [];
  const mgr = new SessionManager({
    connection: conn,
    sink: (e) => events.push(e),
    store: opts.store ?? (opts.bindingDir ? undefined : new MemoryBindingStore()),
    approvals: { withdrawTurn: (_t, turnId, reason) => withdrawn.push(`${turnId}:${reason}`) },
    log: createLogger({ level: 'silent' }),
    ...opts,
    settings: { cwd: '/work/ws', approvalPolicy: 'never', sandbox: 'workspace-write', ...opts.settings },
  });
  managers.push(mgr);
  const post = (text: string, extra: { from?: string; thread?: string } = {}) =>
    mgr.post({ room: 'r', channel: 'c', thread: extra.thread ?? 't', from: { id: extra.from ?? 'u1', name: extra.from ?? 'Ann' }, text });
  const notices = () => events.filter((e) => e.type === 'notice').map((e) => (e as { text: string }).text);
  const until = async (pred: () => boolean, what = 'condition', ms = 3_000) => {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; events: ${JSON.stringify(events.map((e) => e.type))}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  /** Let the fake end the current turn. */
  const complete = (turnId = conn.lastTurnId, status = 'completed') =>
    conn.notify('turn/completed', codex.turnCompleted(threadOf(conn), turnId, status));
  return { conn, events, withdrawn, mgr, post, notices, until, complete };
}

export const threadOf = (conn: FakeConnection): string => String(conn.sent('turn/start').at(-1)?.threadId ?? 'thr_1');
export const texts = (params: Record<string, unknown>): string[] =>
  (params.input as Array<{ type: string; text?: string }>).filter((i) => i.type === 'text').map((i) => i.text!);
