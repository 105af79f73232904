// A node in a child process (so a test can SIGSTOP and SIGCONT it): takes the lease of a
// session, keeps it renewed, and appends to the session's history every 50 ms under the lease
// it took, as a driver mid-turn would. Prints `lease EPOCH`, `wrote N`, `fenced MESSAGE`, `lost`.
import { FencedWriteError } from '../../src/storage/cluster.js';
import { LeaseKeeper } from '../../src/storage/lease-keeper.js';
import { PostgresStore } from '../../src/storage/postgres/store.js';

const [url, node, session, ttl] = process.argv.slice(2) as [string, string, string, string];
const store = await PostgresStore.open(url);
const cluster = store.cluster(node);
const keeper = new LeaseKeeper({ store: cluster, ttlMs: Number(ttl), onLost: () => console.log('lost') });
await keeper.start();
const lease = await keeper.acquire(session);
if (!lease) throw new Error('lease taken');
console.log(`lease ${lease.epoch}`);
let n = 0;
for (;;) {
  try {
    await cluster.append(lease, { kind: 'notice', level: 'info', text: `${node} ${++n}` });
    console.log(`wrote ${n}`);
  } catch (err) {
    if (!(err instanceof FencedWriteError)) throw err;
    console.log(`fenced ${err.message}`);
  }
  await new Promise((r) => setTimeout(r, 50));
}
