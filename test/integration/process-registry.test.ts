import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { OWNER_PID_VAR, processRegistry } from '../../src/process/registry.js';
import { isAlive, waitFor } from '../support/procs.js';

const started: number[] = [];
afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});

function sleeper(owner: number): number {
  const c = spawn('sleep', ['300'], { env: { ...process.env, [OWNER_PID_VAR]: String(owner) }, detached: true, stdio: 'ignore' });
  c.unref();
  started.push(c.pid!);
  return c.pid!;
}

describe('orphan reaping', () => {
  it('kills processes whose owning host is dead, and only those', async () => {
    // An owner pid no process can have (pid_max is the largest pid the kernel hands out): a
    // recently exited child's pid could be reused meanwhile on a busy machine (pid_max 32768).
    const dead = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8')) + 1;
    const orphan = sleeper(dead);
    const mine = sleeper(process.pid);
    expect(await waitFor(() => isAlive(orphan) && isAlive(mine))).toBe(true);
    const killed = processRegistry.reapOrphans();
    expect(killed).toContain(orphan);
    expect(killed).not.toContain(mine);
    expect(await waitFor(() => !isAlive(orphan))).toBe(true);
    expect(isAlive(mine)).toBe(true);
  });
});
