// Finds processes by a marker in their environment (e.g. a test's CODEX_HOME), so a test
// file can prove it left nothing running.
import { readdirSync, readFileSync } from 'node:fs';

export function processesWithEnv(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'latin1');
      if (environ.includes(marker)) pids.push(Number(entry));
    } catch {
      /* gone or not ours */
    }
  }
  return pids;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !/\) Z /.test(stat); // a zombie is dead, just not reaped
  } catch {
    return false;
  }
}

export async function waitFor(cond: () => boolean, timeoutMs = 5000, stepMs = 20): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return cond();
}

/**
 * SIGKILL everything carrying `marker` until nothing alive carries it, and return what is left.
 * It sweeps repeatedly because a process forked just before its parent died (codex's
 * shell-snapshot bash) can appear after a single sweep.
 */
export async function killAllWithEnv(marker: string, timeoutMs = 10_000): Promise<number[]> {
  await waitFor(() => {
    const alive = processesWithEnv(marker).filter(isAlive);
    for (const pid of alive) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* raced with exit */
      }
    }
    return alive.length === 0;
  }, timeoutMs, 50);
  return processesWithEnv(marker).filter(isAlive);
}
