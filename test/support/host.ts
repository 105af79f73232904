// A host process for crash tests: a supervisor configured from SB_HOST_CONFIG; stdin lines
// `post <json>` post a message; every room event is printed as one JSON line.
import readline from 'node:readline';
import { createSupervisor } from '../../src/supervisor/supervisor.js';
import { createLogger } from '../../src/log/logger.js';

const sb = createSupervisor(JSON.parse(process.env.SB_HOST_CONFIG!), {
  log: createLogger({ level: 'warn' }),
  baseDir: process.env.SB_HOST_BASE,
  stateDir: process.env.SB_HOST_STATE,
});
sb.events$.subscribe((e) => process.stdout.write(`${JSON.stringify({ event: e })}\n`));
await sb.start();
process.stdout.write(`${JSON.stringify({ ready: process.pid })}\n`);
for await (const line of readline.createInterface({ input: process.stdin })) {
  if (line.startsWith('post ')) {
    const r = await sb.post(JSON.parse(line.slice(5)));
    process.stdout.write(`${JSON.stringify({ posted: r.session })}\n`);
  }
}
await sb.stop();
