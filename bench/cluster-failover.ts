// Cluster failover: three nodes (each its own OS process, each with a FAKE app-server that holds
// every turn open, bench/cluster-app-server.mjs) on one PostgreSQL of the bench's own. Each of
// KILLS rounds posts a message to a new conversation, waits for its turn to start, waits a random
// part of a renewal period (so kills land anywhere in the lease's renewal cycle), then kill -9's
// the node driving it. Failover time: from the kill to the moment another node reports that
// message's turn started again (the fake's thread/read shows no turn, so the new driver runs
// the message again after telling the room). The killed node is replaced by a new one (a new
// node id) before the next round, so three nodes are up at every kill.
// Alone: `npx tsx bench/cluster-failover.ts` (CLUSTER_KILLS, CLUSTER_TTL_MS).
import { pathToFileURL } from 'node:url';
import type { Figure } from './common.js';
import { cores, load1, quantile, withCluster, type NodeProc } from './cluster-procs.js';

const KILLS = Number(process.env.CLUSTER_KILLS ?? 10);
/** The default lease TTL (cluster.leaseTtlMs). */
const TTL = Number(process.env.CLUSTER_TTL_MS ?? 10_000);

/** The first turn start of a conversation (`thread`) reported by one of `nodes` at or after `since`. */
function started(nodes: NodeProc[], thread: string, since: number, ms: number): Promise<{ node: NodeProc; at: number }> {
  const match = (session: string | undefined) => session !== undefined && session.split('/').includes(thread);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no turn of ${thread} started within ${ms} ms`)), ms);
    const done = (node: NodeProc, at: number) => {
      clearTimeout(timer);
      resolve({ node, at });
    };
    for (const node of nodes) {
      const seen = node.lines.find((l) => match(l.started) && l.at! >= since);
      if (seen) return done(node, seen.at!);
      node.onLine((l) => match(l.started) && l.at! >= since && done(node, l.at!));
    }
  });
}

export async function benchClusterFailover(): Promise<Figure> {
  return withCluster(async (w) => {
    const url = await w.pg.freshDatabase();
    const opts = { url, ttlMs: TTL, hold: true };
    const live = await Promise.all(['a', 'b', 'c'].map((n) => w.node(n, opts)));
    const times: number[] = [];
    const loads: number[] = [];
    for (let k = 1; k <= KILLS; k++) {
      const thread = `f${k}`;
      const posted = Date.now();
      live[k % live.length]!.post({ room: 'failover', thread, from: { id: 'ann' }, text: `message of round ${k}` });
      const first = await started(live, thread, posted, 30_000);
      await new Promise((r) => setTimeout(r, Math.random() * (TTL / 3)));
      const others = live.filter((n) => n !== first.node);
      const killedAt = Date.now();
      await w.kill(first.node);
      const again = await started(others, thread, killedAt, 3 * TTL + 10_000);
      times.push(again.at - killedAt);
      loads.push(load1());
      live.splice(live.indexOf(first.node), 1, await w.node(`${first.node.name.replace(/-\d+$/, '')}-${k}`, opts));
    }
    await w.stopNodes();
    const p50 = quantile(times, 0.5);
    const p99 = quantile(times, 0.99);
    const limit = TTL + 2_000;
    return {
      figure:
        `cluster failover: kill -9 of the driving node mid-turn → another node started the message again, p99 over ${KILLS} kills (p50 ${p50} ms; ` +
        `all: ${times.join(', ')} ms), 3 nodes (each its own process), fake app-servers holding the turn open, lease TTL ${TTL} ms (baseline), ` +
        `availableParallelism ${cores}, load ${Math.min(...loads)}–${Math.max(...loads)}`,
      value: p99,
      unit: 'ms',
      target: `p99 <= lease TTL + 2 s (${limit} ms)`,
      baseline: TTL,
      ratio: Number((p99 / TTL).toFixed(3)),
      pass: p99 <= limit,
    };
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(await benchClusterFailover());
}
