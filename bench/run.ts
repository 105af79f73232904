// `npm run bench` — prints each figure as value vs a baseline measured in the same run.
// `npm run bench -- --json` also writes bench-results.json.
import { writeFileSync } from 'node:fs';
import { benchConnection } from './connection.js';
import { benchColdStart } from './cold-start.js';
import { benchP1 } from './p1-deltas.js';
import { benchP2 } from './p2-approval-turn.js';
import { benchP3 } from './p3-sessions.js';
import { benchP4 } from './p4-guardian-latency.js';
import { benchAppServerMemory } from './app-server-memory.js';
import { benchP6 } from './p6-concurrent-turns.js';
import { benchP7 } from './p7-web.js';
import { benchClusterThroughput } from './cluster-throughput.js';
import { benchClusterFailover } from './cluster-failover.js';
import type { Figure } from './common.js';

type Bench = { name: string; run: () => Promise<Figure | Figure[]> };

const benches: Bench[] = [
  { name: 'connection', run: benchConnection },
  { name: 'cold-start', run: benchColdStart },
  { name: 'p1', run: benchP1 },
  { name: 'p2', run: benchP2 },
  { name: 'p3', run: benchP3 },
  { name: 'p4', run: benchP4 },
  { name: 'app-server-memory', run: benchAppServerMemory },
  { name: 'p6', run: benchP6 },
  { name: 'p7', run: benchP7 },
  { name: 'cluster-throughput', run: benchClusterThroughput },
  { name: 'cluster-failover', run: benchClusterFailover },
];

const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const results: Figure[] = [];
for (const b of benches) {
  if (only.length && !only.includes(b.name)) continue;
  const out = await b.run();
  for (const f of Array.isArray(out) ? out : [out]) {
    results.push(f);
    console.log(
      `${f.pass ? 'PASS' : 'MISS'}  ${f.figure}\n      ${f.value.toLocaleString()} ${f.unit} vs baseline ${f.baseline.toLocaleString()}  ratio ${f.ratio}  (target ${f.target})`,
    );
  }
}
if (process.argv.includes('--json')) {
  writeFileSync('bench-results.json', JSON.stringify(results, null, 2));
  console.log('wrote bench-results.json');
}
