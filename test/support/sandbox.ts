// One isolated world for a real-binary test: scripted model, CODEX_HOME, HOME (a login shell
// must not read the machine's ~/.bashrc), workspace and data directories.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeCodexHome, codexBin } from './codex-home.js';
import { startMockModel, type MockModel, type Script } from './mock-model.js';
import { processesWithEnv, waitFor } from './procs.js';

export interface Sandbox {
  root: string;
  workspace: string;
  home: string;
  codexHome: string;
  model: MockModel;
  env: Record<string, string>;
  codex: string;
  /** Fails if any process started with this sandbox's environment is still alive. */
  assertNoProcesses(): Promise<void>;
  close(): Promise<void>;
}

export async function makeSandbox(script: Script, extraToml?: string, rootToml?: string): Promise<Sandbox> {
  const root = mkdtempSync(path.join(tmpdir(), 'sb-world-'));
  const workspace = path.join(root, 'workspace');
  const home = path.join(root, 'home');
  mkdirSync(workspace);
  mkdirSync(home);
  const model = await startMockModel(script);
  const ch = makeCodexHome({ modelUrl: model.url, extraToml, rootToml });
  const env = { CODEX_HOME: ch.dir, HOME: home };
  return {
    root,
    workspace,
    home,
    codexHome: ch.dir,
    model,
    env,
    codex: codexBin(),
    async assertNoProcesses() {
      const ok = await waitFor(() => processesWithEnv(`CODEX_HOME=${ch.dir}`).length === 0, 5000);
      if (!ok) throw new Error(`processes left behind: ${processesWithEnv(`CODEX_HOME=${ch.dir}`).join(', ')}`);
    },
    async close() {
      await model.close();
      ch.cleanup();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
