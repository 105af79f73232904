// The README's embedding example, run as written (only the package import is pointed at the
// source), against the real app-server and the scripted model.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { say } from '../support/mock-model.js';
import { makeSandbox, type Sandbox } from '../support/sandbox.js';
import { tsxLoader } from '../support/cli-proc.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let box: Sandbox | undefined;
const cleanupFiles: string[] = [];
afterEach(async () => {
  for (const f of cleanupFiles.splice(0)) rmSync(f, { force: true });
  await box?.assertNoProcesses();
  await box?.close();
});

export function embeddingExample(): string {
  const readme = readFileSync(path.join(repo, 'README.md'), 'utf8');
  const m = /<!-- embedding-example -->\s*```ts\n([\s\S]*?)```/.exec(readme);
  if (!m) throw new Error('README has no embedding example block');
  return m[1]!;
}

describe('README embedding example', () => {
  it('runs as written: the model calls the host tool, the answer streams, the turn completes', async () => {
    box = await makeSandbox([{ call: { name: 'team_calendar', arguments: {} } }, say('Ann is on call.')]);
    const code = embeddingExample().replace("from 'switchboard'", `from ${JSON.stringify(path.join(repo, 'src/index.ts'))}`);
    // Inside the repo, so the example's own imports (rxjs) resolve as they would for a host.
    mkdirSync(path.join(repo, '.tmp'), { recursive: true });
    const file = path.join(repo, '.tmp', `readme-example-${process.pid}.mts`);
    writeFileSync(file, code);
    cleanupFiles.push(file);
    const result = await new Promise<{ err: Error | null; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, ['--import', tsxLoader, file], { cwd: box!.workspace, env: { ...process.env, ...box!.env, XDG_STATE_HOME: path.join(box!.root, 'state'), SWITCHBOARD_LOG_LEVEL: 'silent' }, timeout: 60_000 }, (err, stdout, stderr) =>
        resolve({ err, stdout, stderr }),
      ),
    );
    expect(result.err, result.stderr).toBeNull();
    expect(result.stdout).toContain('Ann is on call.');
    expect(result.stdout).toContain('[dynamicToolCall]');
    expect(result.stdout).toContain('turn ended: turn.completed');
    expect(result.stdout).toMatch(/"harness":"codex"/);
    // The prompt hook ran: the model saw the rewritten prompt.
    expect(JSON.stringify(box.model.requests[0]?.input)).toContain('Answer briefly. Who is on call?');
    // The state went to the state directory; the workspace holds only what the agent made.
    expect(existsSync(path.join(box.root, 'state', 'switchboard', 'threads.db'))).toBe(true);
    expect(readdirSync(box.workspace)).toEqual([]);
  }, 90_000);
});
