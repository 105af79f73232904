// One Switchboard node of the cluster benchmarks, in its own process: a supervisor configured
// from CLUSTER_NODE_CONFIG (postgres storage, a `cluster` block, the fake app-server). stdin
// lines `post <json>` are posted at once (a host receives many clients' posts concurrently),
// one conversation's posts in the order they came. stdout lines (JSON):
//   {"ready":pid}                                  started
//   {"started":session,"at":ms}                    a turn this node drives started (wall clock)
//   {"notice":session,"at":ms}                     this node told the room about a takeover
//   {"failed":session,"error":text}                a post was refused
import readline from 'node:readline';
import type { RoomEvent } from '../src/events/room-events.js';
import { createLogger } from '../src/log/logger.js';
import { createSupervisor } from '../src/supervisor/supervisor.js';

const sb = createSupervisor(JSON.parse(process.env.CLUSTER_NODE_CONFIG!), {
  log: createLogger({ level: 'warn' }),
  baseDir: process.env.CLUSTER_NODE_DIR,
  stateDir: process.env.CLUSTER_NODE_DIR,
});
// Events of conversations other nodes drive arrive here too (the event feed): only this node's count.
const drives = (session: string) => (sb as unknown as { cluster?: { driver: { drives(s: string): boolean } } }).cluster?.driver.drives(session) === true;
// Written in batches (every 20 ms): a pipe write per turn start would cost the node being measured.
let buffered = '';
const out = (obj: Record<string, unknown>): void => {
  if (!buffered) {
    setTimeout(() => {
      process.stdout.write(buffered);
      buffered = '';
    }, 20);
  }
  buffered += `${JSON.stringify(obj)}\n`;
};
sb.events$.subscribe((e: RoomEvent) => {
  if (!drives(e.session)) return;
  if (e.type === 'turn.started') out({ started: e.session, at: Date.now() });
  else if (e.type === 'notice') out({ notice: e.session, at: Date.now() });
});
await sb.start();
out({ ready: process.pid });

const chains = new Map<string, Promise<void>>();
for await (const line of readline.createInterface({ input: process.stdin })) {
  if (!line.startsWith('post ')) continue;
  const msg = JSON.parse(line.slice(5)) as { room: string; thread?: string; text: string; from: { id: string } };
  const key = `${msg.room}/${msg.thread ?? ''}`;
  const next = (chains.get(key) ?? Promise.resolve()).then(() =>
    sb.post(msg).then(
      () => undefined,
      (err: Error) => out({ failed: key, error: err.message }),
    ),
  );
  chains.set(key, next);
  void next.then(() => {
    if (chains.get(key) === next) chains.delete(key);
  });
}
await sb.stop();
