// Fault-injection harness: the real `codex app-server` (stdio, its own CODEX_HOME and HOME)
// driven by the fault model, behind a Connection whose transport is the real stdio
// transport with a wire tap. The tap sees every frame Switchboard writes, so a test can
// stop and kill the app-server at an exact protocol point (SIGSTOP before the frame is
// written, SIGKILL right after: the server can never answer it), and can count every
// approval answer that went out. Everything is logged into memory and grepped afterwards.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { Connection } from '../../src/connection/connection.js';
import { ApprovalRouter, type ApprovalRouterOptions, type ApprovalSessionContext } from '../../src/approvals/router.js';
import type { ApprovalAudit, Reviewer } from '../../src/approvals/types.js';
import type { ReviewPolicyInput } from '../../src/approvals/policy.js';
import type { Logger } from '../../src/log/logger.js';
import { processRegistry } from '../../src/process/registry.js';
import { SessionManager } from '../../src/session/manager.js';
import type { SessionSettings } from '../../src/session/types.js';
import { codexBin, makeCodexHome, type CodexHome } from './codex-home.js';
import { startFaultModel, type FaultModel, type FaultScript } from './fault-model.js';
import { memoryLogger } from './log.js';
import { acceptsOnWire, killGroup, tappedStdio, type Frame, type Tap } from './fault-wire.js';
import { makeRoom, type Room } from './fault-room.js';
import { leakedLines, publish, summary } from './fault-report.js';
import { isAlive, processesWithEnv, waitFor } from './procs.js';

// ---------------------------------------------------------------------------------------
// secrets planted in every fault world (env of the app-server, model provider config):
// the suite greps its logs for them.

export const PLANTED_SECRETS = {
  apiKey: 'sk-faultsuite-9f8e7d6c5b4a3210',
  providerToken: 'fault-provider-token-5c0ffee5',
};

// ---------------------------------------------------------------------------------------
// logs

const logged: Array<() => string[]> = [];

/** A debug-level in-memory logger whose lines the file greps at the end. */
export function captureLogger(level = 'debug'): Logger {
  const m = memoryLogger(level);
  logged.push(m.lines);
  return m.log;
}

export function capturedLogLines(): string[] {
  return logged.flatMap((l) => l());
}

// ---------------------------------------------------------------------------------------
// cleanup and leak checks

let debugFrom = 0;
const cleanups: Array<() => Promise<void> | void> = [];
const markers: string[] = [];

export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

/** Run every registered cleanup, newest first (hosts, then worlds). */
export async function cleanupAll(): Promise<void> {
  if (process.env.FAULT_DEBUG) {
    for (const l of capturedLogLines().slice(debugFrom)) {
      const r = JSON.parse(l) as Record<string, unknown>;
      const { level, time, pid, hostname, name, msg, ...rest } = r;
      void pid, hostname, name;
      console.log(`[${level}] ${time} ${msg} ${JSON.stringify(rest).slice(0, 400)}`);
    }
    debugFrom = capturedLogLines().length;
  }
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c();
    } catch (err) {
      console.error('fault harness cleanup failed', err);
    }
  }
}

/** Every environment marker of every world this file created (CODEX_HOME=…, HOME=…). */
export function leakMarkers(): string[] {
  return [...markers];
}

/** No process started by this file survives it, and the registry is empty. */
export async function expectNoOrphans(extra: string[] = []): Promise<void> {
  const all = [...markers, ...extra];
  const alive = () => all.flatMap((m) => processesWithEnv(m)).filter(isAlive);
  // Dead, and reaped by the transport (which then drops it from the registry).
  const gone = await waitFor(() => alive().length === 0 && processRegistry.list().length === 0, 8_000, 50);
  const left = alive();
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* raced with its exit */
    }
  }
  expect(gone, `orphan processes: ${left.join(', ')}`).toBe(true);
  expect(processRegistry.list()).toEqual([]);
}

// ---------------------------------------------------------------------------------------
// world: model, CODEX_HOME, HOME, workspace, bindings

export interface World {
  model: FaultModel;
  home: CodexHome;
  /** Per-world directory: HOME, workspace, bindings. */
  base: string;
  userHome: string;
  cwd: string;
  bindingDir: string;
  /** Environment of the app-server. */
  env: Record<string, string | undefined>;
}

export async function faultWorld(script: FaultScript): Promise<World> {
  const model = await startFaultModel(script);
  // The provider header is a planted secret; Codex sends it to the mock, never to us.
  const home = makeCodexHome({ modelUrl: model.url, extraToml: `http_headers = { "X-Fault-Token" = "${PLANTED_SECRETS.providerToken}" }` });
  const base = mkdtempSync(path.join(tmpdir(), 'sb-fault-'));
  const userHome = path.join(base, 'home');
  const cwd = path.join(base, 'ws');
  const bindingDir = path.join(base, 'bindings');
  for (const d of [userHome, cwd, bindingDir]) mkdirSync(d);
  markers.push(`CODEX_HOME=${home.dir}`, `HOME=${userHome}`);
  // A fresh HOME: the login shell Codex runs commands in must not source the host's
  // profile (on this machine /root/.bashrc hangs `bash -lc`).
  const env = { ...process.env, CODEX_HOME: home.dir, HOME: userHome, OPENAI_API_KEY: PLANTED_SECRETS.apiKey };
  onCleanup(async () => {
    await model.close();
    home.cleanup();
    rmSync(base, { recursive: true, force: true });
  });
  return { model, home, base, userHome, cwd, bindingDir, env };
}

export { acceptsOnWire, killGroup, tappedStdio, type Frame, type Tap } from './fault-wire.js';
export { makeRoom, type Ev, type Room, type TurnEnd } from './fault-room.js';

// ---------------------------------------------------------------------------------------
// host: Connection (tapped stdio) + SessionManager (+ ApprovalRouter)

export const OWNER = { id: 'u-owner', name: 'Ann' };
export const ROOM = { room: 'room', channel: 'general', thread: 'main' } as const;
export const SESSION = 'room/general/main';

export interface ApprovalsOptions {
  /** The session's reviewer (what the context lookup says). */
  reviewer?: string;
  /** The router's own default, used when the lookup says nothing (default: `reviewer`). */
  defaultReviewer?: string;
  escalateTo?: string | null;
  policy?: ReviewPolicyInput;
  reviewers?: Reviewer[];
  timeouts?: ApprovalRouterOptions['timeouts'];
  /** Who may decide besides the owner (the first poster). */
  approvers?: string[];
  /** Replace the context lookup (a fault can make it throw). */
  resolveContext?: (threadId: string, fallback: () => ApprovalSessionContext | undefined) => ApprovalSessionContext | undefined;
}

export interface HostOptions {
  settings?: Partial<SessionSettings>;
  approvals?: ApprovalsOptions;
  /** Close/kill grace of the stdio transport (a stopped server ignores SIGTERM). */
  closeGraceMs?: number;
  killGraceMs?: number;
  /** First restart delay of the connection (default 20 ms). */
  backoffBaseMs?: number;
  /** A control host (legitimate accepts): its frames do not count as "accepted by a fault". */
  control?: boolean;
}

export interface FaultHost {
  conn: Connection;
  mgr: SessionManager;
  router: ApprovalRouter | undefined;
  room: Room;
  tap: Tap;
  audits: ApprovalAudit[];
  post(text: string, from?: { id: string; name: string }): string;
  /** SIGKILL the app-server's process group now; returns the pid and the time. */
  kill(): { pid: number; at: number };
  /**
   * When Switchboard next writes a request of `method`: SIGSTOP the app-server before the
   * frame is written and SIGKILL it right after, so the request can never be answered.
   */
  killOn(method: string, when?: (msg: Frame) => boolean): Promise<{ pid: number; at: number }>;
  /** The next connection lifecycle event of `type` (e.g. 'lost': the death was noticed). */
  nextLifecycle(type: 'ready' | 'lost' | 'failed' | 'stopped'): Promise<void>;
  stop(): Promise<void>;
}

const watched: Array<{ tap: Tap; audits: ApprovalAudit[] }> = [];

/**
 * Approvals said yes to in fault scenarios (every host but control hosts): accept answers on
 * the wire, or approved audits, counted once per request.
 */
export function acceptedByFault(): number {
  let n = 0;
  for (const { tap, audits } of watched) {
    const ids = new Set<string>(acceptsOnWire(tap.sent).map((m) => String(m.id)));
    for (const a of audits) if (a.outcome === 'approved') ids.add(String(a.requestId));
    n += ids.size;
  }
  return n;
}

export async function faultHost(w: World, opts: HostOptions = {}): Promise<FaultHost> {
  const log = captureLogger();
  const tap: Tap = { sent: [], received: 0, before: [], after: [] };
  const conn = new Connection({
    transport: {
      kind: 'custom',
      description: 'codex app-server (tapped stdio)',
      open: tappedStdio(
        {
          command: codexBin(),
          args: ['app-server', '--listen', 'stdio://'],
          env: w.env,
          closeGraceMs: opts.closeGraceMs ?? 500,
          killGraceMs: opts.killGraceMs ?? 500,
          log,
        },
        tap,
      ),
    },
    log,
    machine: { backoffBaseMs: opts.backoffBaseMs ?? 20, backoffMaxMs: Math.max(200, opts.backoffBaseMs ?? 0), jitter: 0 },
  });
  const room = makeRoom();
  const audits: ApprovalAudit[] = [];
  if (!opts.control) watched.push({ tap, audits });
  let mgr: SessionManager | undefined;
  let router: ApprovalRouter | undefined;
  if (opts.approvals) {
    const a = opts.approvals;
    const lookup = (threadId: string): ApprovalSessionContext | undefined => {
      const c = mgr?.threadContext(threadId);
      if (!c) return undefined;
      return { session: c.session, owner: c.participants[0]?.id ?? OWNER.id, approvers: a.approvers ?? [], ...(a.reviewer ? { reviewer: a.reviewer } : {}) };
    };
    router = new ApprovalRouter({
      sink: room.sink,
      resolveContext: (threadId) => (a.resolveContext ? a.resolveContext(threadId, () => lookup(threadId)) : lookup(threadId)),
      ...((a.defaultReviewer ?? a.reviewer) ? { reviewer: a.defaultReviewer ?? a.reviewer } : {}),
      ...(a.escalateTo !== undefined ? { escalateTo: a.escalateTo } : {}),
      ...(a.policy ? { policy: a.policy } : {}),
      ...(a.reviewers ? { reviewers: a.reviewers } : {}),
      ...(a.timeouts ? { timeouts: a.timeouts } : {}),
      log,
    });
    router.audit$.subscribe((x) => audits.push(x));
    router.attach(conn);
  }
  mgr = new SessionManager({
    connection: conn,
    sink: room.sink,
    bindingDir: w.bindingDir,
    settings: { cwd: w.cwd, approvalPolicy: 'never', sandbox: 'workspace-write', bindRetryMs: 100, ...opts.settings },
    ...(router ? { approvals: router } : {}),
    log,
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await mgr!.stop({ interrupt: false });
    router?.dispose();
    await conn.stop();
  };
  onCleanup(stop);
  await conn.start();

  const pidNow = (): number => {
    const pid = conn.status().pid;
    if (pid === undefined) throw new Error('no app-server process right now');
    return pid;
  };
  return {
    conn,
    mgr,
    router,
    room,
    tap,
    audits,
    post: (text, from = OWNER) => mgr!.post({ ...ROOM, from, text }),
    kill: () => {
      const pid = pidNow();
      killGroup(pid);
      return { pid, at: Date.now() };
    },
    killOn: (method, when = () => true) =>
      new Promise((resolve) => {
        let hit: number | undefined;
        const before = (msg: Frame, pid: number | undefined) => {
          if (hit !== undefined || msg.method !== method || pid === undefined || !when(msg)) return;
          hit = pid;
          killGroup(pid, 'SIGSTOP');
        };
        const after = (msg: Frame, pid: number | undefined) => {
          if (hit === undefined || pid !== hit || msg.method !== method) return;
          tap.before.splice(tap.before.indexOf(before), 1);
          tap.after.splice(tap.after.indexOf(after), 1);
          killGroup(pid, 'SIGKILL');
          resolve({ pid, at: Date.now() });
        };
        tap.before.push(before);
        tap.after.push(after);
      }),
    nextLifecycle: (type) =>
      new Promise<void>((resolve) => {
        const off = conn.onLifecycle((e) => {
          if (e.type === type) {
            off();
            resolve();
          }
        });
      }),
    stop,
  };
}

// ---------------------------------------------------------------------------------------
// fault ledger: injected vs survived, per fault kind

export const ledger = new Map<string, { injected: number; survived: number }>();

/** Count a fault as injected; call the returned function once the system is shown to have survived it. */
export function inject(kind: string): () => void {
  const e = ledger.get(kind) ?? { injected: 0, survived: 0 };
  e.injected++;
  ledger.set(kind, e);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    e.survived++;
  };
}

// ---------------------------------------------------------------------------------------
// end of a fault file: no orphans, no secrets in the logs, figures published and printed

export interface FinishOptions {
  /** Extra log lines to grep (e.g. a child host's log file). */
  extraLogLines?: string[];
  /** Secrets beyond the planted ones. */
  secrets?: string[];
  /** Extra leak markers (environment substrings). */
  markers?: string[];
  /** Approvals accepted by a fault found some other way than the wire tap. */
  acceptedByFault?: number;
}

export async function finishFaultFile(file: string, opts: FinishOptions = {}): Promise<void> {
  await cleanupAll();
  await expectNoOrphans(opts.markers ?? []);
  const lines = [...capturedLogLines(), ...(opts.extraLogLines ?? [])];
  const leaks = leakedLines(lines, [...Object.values(PLANTED_SECRETS), ...(opts.secrets ?? [])]);
  const accepted = acceptedByFault() + (opts.acceptedByFault ?? 0);
  publish({ file, faults: Object.fromEntries(ledger), acceptedByFault: accepted, logLines: lines.length, leaks: leaks.length });
  console.log(summary());
  expect(leaks, 'log lines leaking a token or auth header').toEqual([]);
  expect(lines.length, 'the logs were captured').toBeGreaterThan(0);
  expect(accepted, 'approvals accepted by a fault').toBe(0);
  for (const [kind, v] of ledger) expect(v.survived, `fault "${kind}" survived`).toBe(v.injected);
}
