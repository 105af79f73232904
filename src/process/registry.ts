// Out-of-band registry of every child process group Switchboard started. Actors come and
// go; this list does not forget, so a host exit or crash path can still kill them all.
//
// Process groups are not enough: Codex starts helpers (e.g. its shell snapshot) in their own
// session. So every child we spawn carries a tag in its environment, which its descendants
// inherit, and `reap(tag)` kills whatever still carries it (Linux /proc).
import { readdirSync, readFileSync } from 'node:fs';
import process from 'node:process';

export const PROCESS_TAG_VAR = 'SWITCHBOARD_PROC_TAG';
/** The pid of the host that spawned a process: lets a restarted host reap a dead one's orphans. */
export const OWNER_PID_VAR = 'SWITCHBOARD_OWNER_PID';

interface Entry {
  pid: number;
  command: string;
  tag: string | undefined;
  startedAt: number;
}

/** Pids of live processes whose environment carries `tag` (empty where /proc is absent). */
function processesWithTag(tag: string): number[] {
  const needle = `${PROCESS_TAG_VAR}=${tag}\0`;
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e.charCodeAt(0) < 48 || e.charCodeAt(0) > 57) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${e}/environ`, 'latin1').includes(needle)) out.push(pid);
    } catch {
      /* exited, or not ours to read */
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Kill processes a host spawned that outlived it (a host killed with SIGKILL runs no exit
 * hook). Only processes whose recorded owner is dead are touched.
 */
function reapOrphans(): number[] {
  const killed: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return killed;
  }
  const re = new RegExp(`(?:^|\\0)${OWNER_PID_VAR}=(\\d+)\\0`);
  for (const e of entries) {
    if (e.charCodeAt(0) < 48 || e.charCodeAt(0) > 57) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    let env: string;
    try {
      env = readFileSync(`/proc/${e}/environ`, 'latin1');
    } catch {
      continue;
    }
    const m = re.exec(env);
    if (!m) continue;
    const owner = Number(m[1]);
    if (owner === process.pid || alive(owner)) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      /* gone */
    }
  }
  return killed;
}

function reapTag(tag: string): number {
  let killed = 0;
  // Two passes: a dying shell may have forked between the scan and the kill.
  for (let pass = 0; pass < 2; pass++) {
    for (const pid of processesWithTag(tag)) {
      try {
        process.kill(pid, 'SIGKILL');
        killed++;
      } catch {
        /* already gone */
      }
    }
  }
  return killed;
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
    for (const e of live.values()) {
      killGroup(e.pid, 'SIGKILL');
      if (e.tag) reapTag(e.tag);
    }
  });
}

export const processRegistry = {
  add(pid: number, command: string, tag?: string): void {
    hookExit();
    live.set(pid, { pid, command, tag, startedAt: Date.now() });
  },
  /** Kill processes left behind by a host that died (see OWNER_PID_VAR). */
  reapOrphans(): number[] {
    return reapOrphans();
  },
  /** Kill every process that still carries `tag` (escaped the group, e.g. via setsid). */
  reap(tag: string): number {
    return reapTag(tag);
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
    for (const e of live.values()) {
      if (killGroup(e.pid, signal)) n++;
      if (e.tag && signal === 'SIGKILL') reapTag(e.tag);
    }
    return n;
  },
};
