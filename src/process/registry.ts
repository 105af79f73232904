// Out-of-band registry of every child process group Switchboard started. Actors come and
// go; this list does not forget, so a host exit or crash path can still kill them all.
import process from 'node:process';

interface Entry {
  pid: number;
  command: string;
  startedAt: number;
}

const live = new Map<number, Entry>();
let hooked = false;

function killGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  // Last resort: 'exit' handlers are synchronous, so only a signal can be sent here.
  process.once('exit', () => {
    for (const pid of live.keys()) killGroup(pid, 'SIGKILL');
  });
}

export const processRegistry = {
  add(pid: number, command: string): void {
    hookExit();
    live.set(pid, { pid, command, startedAt: Date.now() });
  },
  remove(pid: number): void {
    live.delete(pid);
  },
  list(): Entry[] {
    return [...live.values()];
  },
  signal(pid: number, signal: NodeJS.Signals): boolean {
    return killGroup(pid, signal);
  },
  /** Kill every registered group (tests, emergency shutdown). */
  killAll(signal: NodeJS.Signals = 'SIGKILL'): number {
    let n = 0;
    for (const pid of live.keys()) if (killGroup(pid, signal)) n++;
    return n;
  },
};
