// The main job runs in CI: `switchboard demo` end to end, as a user would run it.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { processRegistry } from '../../src/process/registry.js';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

describe('switchboard demo', () => {
  it('plays the scripted conversation against the real app-server and exits 0', async () => {
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, ['--import', 'tsx', main, 'demo'], { env: { ...process.env, NO_COLOR: '1' }, timeout: 90_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      void child;
    });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/Switchboard demo · codex app-server 0\.169\.0/);
    expect(stdout).toContain('you › What is in this workspace?');
    expect(stdout).toMatch(/\? approval needed \(command\): Run: echo "Hello from Switchboard" > hello.txt/);
    expect(stdout).toContain('✓ approval approved by demo-user');
    expect(stdout).toContain('+# Demo workspace');
    expect(stdout).toContain('turns completed: 2, approvals: 1');
    expect(stdout).toContain('hello.txt: Hello from Switchboard');
    expect(stdout).not.toMatch(/\x1b\[/); // NO_COLOR and a pipe: no escape codes
    expect(processRegistry.list()).toEqual([]);
  }, 120_000);
});
