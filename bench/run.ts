// `npm run bench` — prints each figure as value vs a baseline measured in the same run.
// `npm run bench -- --json` also writes bench-results.json.
import { writeFileSync } from 'node:fs';
import { benchConnection } from './connection.js';
import { benchColdStart } from './cold-start.js';
import type { Figure } from './common.js';

type Bench = { name: string; run: () => Promise<Figure | Figure[]> };

const benches: Bench[] = [
  { name: 'connection', run: benchConnection },
  { name: 'cold-start', run: benchColdStart },
];

// Benches contributed by other modules register here when present.
for (const mod of ['./deltas.js']) {
  try {
    const m = (await import(mod)) as { benches?: Bench[] };
    if (m.benches) benches.push(...m.benches);
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
  }
}

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
