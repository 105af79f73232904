// Resident memory of a spawned app-server. `codex app-server` is a Node launcher whose child is
// the native server, both in the process group the transport created (its leader's pid), so the
// group's RSS is the app-server's.
import { readdir, readFile } from 'node:fs/promises';

/**
 * What is counted: all resident memory (`VmRSS`), or its part backed by files (`RssFile`: mostly
 * the executable's pages, shared with every process that maps them) or anonymous (`RssAnon`).
 */
export type RssPart = 'VmRSS' | 'RssFile' | 'RssAnon';

/** VmRSS (or another part) of one process from /proc (Linux); undefined when it cannot be read. */
export async function rssBytes(pid: number, part: RssPart = 'VmRSS'): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = new RegExp(`^${part}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

/** The process group of a /proc stat line (the fields after the command, which may hold spaces and parentheses). */
function groupOf(stat: string): number | undefined {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const pgrp = Number(fields[2]);
  return Number.isInteger(pgrp) ? pgrp : undefined;
}

/** Summed RSS of every process in the group led by `pgid` (the process alone when it leads no group or /proc cannot be listed). */
export async function groupRssBytes(pgid: number, part: RssPart = 'VmRSS'): Promise<number | undefined> {
  let entries: string[];
  try {
    entries = (await readdir('/proc')).filter((e) => /^\d+$/.test(e));
  } catch {
    return rssBytes(pgid, part);
  }
  const sizes = await Promise.all(
    entries.map(async (e) => {
      const stat = await readFile(`/proc/${e}/stat`, 'latin1').catch(() => undefined);
      return stat !== undefined && groupOf(stat) === pgid ? rssBytes(Number(e), part) : undefined;
    }),
  );
  const found = sizes.filter((s): s is number => s !== undefined);
  // Not a group leader (an app-server started some other way): the process alone.
  return found.length ? found.reduce((a, b) => a + b, 0) : rssBytes(pgid, part);
}
