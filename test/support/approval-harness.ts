// Integration harness: the real `codex app-server` (stdio) driven by the scripted model,
// with an ApprovalRouter as its server-request handler and a recording room.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { Connection } from '../../src/connection/connection.js';
import type { ApprovalRouter, ApprovalRouterOptions } from '../../src/approvals/router.js';
import type { ApprovalAudit } from '../../src/approvals/types.js';
import type { InboundNotification } from '../../src/protocol/notifications.js';
import type { AskForApproval, SandboxMode } from '../../src/protocol/common.js';
import { processRegistry } from '../../src/process/registry.js';
import { codexBin, makeCodexHome, type CodexHome } from './codex-home.js';
import { startMockModel, type MockModel, type Script } from './mock-model.js';
import { isAlive, processesWithEnv, waitFor } from './procs.js';
import { makeRouter, type Room } from './approval-router.js';
import { memoryLogger } from './log.js';

export const MCP_SERVER = fileURLToPath(new URL('./mcp-server.mjs', import.meta.url));
const WAIT_MS = 30_000;

export interface Harness {
  conn: Connection;
  router: ApprovalRouter;
  room: Room;
  audits: ApprovalAudit[];
  logLines: () => string[];
  mock: MockModel;
  home: CodexHome;
  workspace: string;
  /** Per-test directory (workspace, HOME, MCP log); also the leak-check marker. */
  base: string;
  threadId: string;
  /** Every notification of the thread, in order. */
  notes: InboundNotification[];
  /** Where the test MCP server appends what it received (when `mcp` is on). */
  mcpLog: string;
  startTurn(text?: string): Promise<string>;
  /** Resolves with `turn/completed` params of `turnId`. */
  turnCompleted(turnId: string): Promise<{ turn: { id: string; status: string } }>;
}

export interface HarnessOptions {
  script: Script;
  approvalPolicy: AskForApproval;
  sandbox: SandboxMode;
  router?: Partial<ApprovalRouterOptions>;
  /** Configure the test MCP server as `[mcp_servers.test]`. */
  mcp?: boolean;
}

const live: Harness[] = [];

export async function startHarness(opts: HarnessOptions): Promise<Harness> {
  const mock = await startMockModel(opts.script);
  const base = mkdtempSync(join(tmpdir(), 'sb-approvals-'));
  const workspace = join(base, 'ws');
  const userHome = join(base, 'home');
  mkdirSync(workspace);
  mkdirSync(userHome);
  const mcpLog = join(base, 'mcp.log');
  const extraToml = opts.mcp
    ? [
        '[mcp_servers.test]',
        'command = "node"',
        `args = [${JSON.stringify(MCP_SERVER)}]`,
        // Codex gives MCP servers a filtered environment: pass the log path explicitly. It
        // also carries this test's directory, so the leak check finds the server too.
        `env = { MCP_TEST_LOG = ${JSON.stringify(mcpLog)} }`,
      ].join('\n')
    : '';
  const home = makeCodexHome({ modelUrl: mock.url, extraToml });
  const { router, room, audits, lines } = makeRouter({ ...opts.router });
  const conn = new Connection({
    transport: {
      kind: 'stdio',
      command: codexBin(),
      // A fresh HOME: the login shell Codex runs commands in must not source the host's
      // profile (here it hangs on pyenv); CODEX_HOME isolates config and rollouts.
      env: { ...process.env, CODEX_HOME: home.dir, HOME: userHome },
    },
    log: memoryLogger('warn').log,
  });
  const h: Harness = {
    conn,
    router,
    room,
    audits,
    logLines: lines,
    mock,
    home,
    workspace,
    base,
    threadId: '',
    notes: [],
    mcpLog,
    startTurn: async (text = 'go') => {
      const res = await conn.request('turn/start', { threadId: h.threadId, input: [{ type: 'text', text, text_elements: [] }] });
      return res.turn.id;
    },
    turnCompleted: (turnId) => waitNote(h, 'turn/completed', (p) => (p.turn as { id?: string })?.id === turnId) as never,
  };
  live.push(h);
  await conn.start();
  // Makes the leak check meaningful: the marker really finds this test's codex.
  expect(processesWithEnv(base).length).toBeGreaterThan(0);
  router.attach(conn);
  const started = await conn.request('thread/start', { cwd: workspace, approvalPolicy: opts.approvalPolicy, sandbox: opts.sandbox });
  h.threadId = started.thread.id;
  conn.subscribe(h.threadId, (n) => h.notes.push(n));
  return h;
}

export function waitNote(h: Harness, method: string, pred: (p: Record<string, unknown>) => boolean = () => true): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const find = () => h.notes.find((n) => n.method === method && pred(n.params))?.params;
    const hit = find();
    if (hit) return resolve(hit);
    const timer = setTimeout(() => (off(), reject(new Error(`timed out waiting for ${method}`))), WAIT_MS);
    const off = h.conn.subscribe(h.threadId, () => {
      const found = find();
      if (found) {
        clearTimeout(timer);
        off();
        resolve(found);
      }
    });
  });
}

/** Stop everything the harnesses started and prove no process outlived them. */
export async function stopHarnesses(): Promise<void> {
  const all = live.splice(0);
  const survivors: number[] = [];
  for (const h of all) {
    await h.conn.stop();
    h.router.dispose();
    await h.mock.close();
    const marker = h.base;
    const gone = await waitFor(() => processesWithEnv(marker).filter(isAlive).length === 0, 5000);
    if (!gone) {
      const left = processesWithEnv(marker).filter(isAlive);
      survivors.push(...left);
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* raced with exit */
        }
      }
    }
    h.home.cleanup();
    rmSync(marker, { recursive: true, force: true });
  }
  expect(survivors, 'codex (or MCP server) processes outlived the test').toEqual([]);
  expect(processRegistry.list()).toEqual([]);
}
