// A minimal Switchboard host, run as its own Node process (`node --import tsx`) so a test can
// kill -9 it mid-conversation and start it again. It hosts Connection + SessionManager +
// DatasetStore the way a real host would:
//   - every posted message is first enqueued in the store's durable inbox, then posted;
//   - it is acked when its turn has started (it is Codex's from then on);
//   - history is appended from room events (user messages at post time);
//   - at start, messages left in the inbox (never acked) are delivered again.
// Commands arrive as JSON lines on stdin; facts go out as JSON lines on stdout.
// Configuration: FAULT_HOST_CONFIG (JSON), see HostConfig.
import readline from 'node:readline';
import { pino } from 'pino';
import { Connection } from '../../src/connection/connection.js';
import { createLogger } from '../../src/log/logger.js';
import { SessionManager } from '../../src/session/manager.js';
import { DatasetStore } from '../../src/storage/dataset.js';
import type { HistoryRecord, InboxEntry, InboxMessage } from '../../src/storage/types.js';
import type { RoomEvent } from '../../src/events/room-events.js';

export interface HostConfig {
  codexCommand: string;
  codexEnv: Record<string, string | undefined>;
  cwd: string;
  bindingDir: string;
  dbFile: string;
  logFile: string;
}

export type HostCommand = { cmd: 'post'; message: InboxMessage } | { cmd: 'stop' };

export type HostFact =
  | { t: 'ready'; pid: number; codexPid: number | undefined; redelivered: string[] }
  | { t: 'enqueued'; id: string; text: string }
  | { t: 'acked'; id: string }
  | { t: 'appended'; kind: string }
  | { t: 'event'; event: RoomEvent }
  | { t: 'error'; error: string }
  | { t: 'stopped' };

const cfg = JSON.parse(process.env.FAULT_HOST_CONFIG ?? '{}') as HostConfig;
const out = (f: HostFact): void => {
  process.stdout.write(`${JSON.stringify(f)}\n`);
};
const log = createLogger({ level: 'debug', destination: pino.destination({ dest: cfg.logFile, sync: true }) });
process.on('unhandledRejection', (err) => out({ t: 'error', error: String(err) }));

const store = await DatasetStore.open(cfg.dbFile, log);
const conn = new Connection({
  transport: { kind: 'stdio', command: cfg.codexCommand, env: cfg.codexEnv },
  log,
  machine: { backoffBaseMs: 20, jitter: 0 },
});
await conn.start();

// Store writes one at a time, in event order.
let chain: Promise<unknown> = Promise.resolve();
const serial = <T>(fn: () => Promise<T>): Promise<T> => {
  const p = chain.then(fn);
  chain = p.catch((err: unknown) => out({ t: 'error', error: String(err) }));
  return p;
};
const append = (session: string, rec: HistoryRecord): void => {
  void serial(() => store.append(session, rec)).then(() => out({ t: 'appended', kind: rec.kind }));
};

/** Inbox ids of posted messages whose turn has not started yet, per session, in order. */
const waiting = new Map<string, string[]>();
const takeHead = (session: string): void => {
  const id = waiting.get(session)?.shift();
  if (id) void serial(() => store.ack(id)).then(() => out({ t: 'acked', id }));
};

const mgr = new SessionManager({
  connection: conn,
  sink: (e) => {
    out({ t: 'event', event: e });
    if (e.type === 'turn.started') takeHead(e.session);
    else if (e.type === 'turn.failed' && e.turnId === undefined) takeHead(e.session); // consumed without starting
    else if (e.type === 'message.completed') append(e.session, { kind: 'message', role: 'assistant', text: e.text, turnId: e.turnId });
    else if (e.type === 'turn.completed' || e.type === 'turn.interrupted') append(e.session, { kind: 'turn', turnId: e.turnId, status: e.type.slice(5) });
    else if (e.type === 'turn.failed') append(e.session, { kind: 'turn', turnId: e.turnId!, status: 'failed', error: e.error });
  },
  bindingDir: cfg.bindingDir,
  settings: { cwd: cfg.cwd, approvalPolicy: 'never', sandbox: 'workspace-write', busyMode: 'queue', bindRetryMs: 100 },
  log,
});

function deliver(entry: InboxEntry): void {
  const m = entry.message;
  const key = mgr.keyOf({ ...m, from: { id: m.from.id, name: m.from.name ?? m.from.id } });
  waiting.set(key, [...(waiting.get(key) ?? []), entry.id]);
  mgr.post({ room: m.room, channel: m.channel, thread: m.thread, from: { id: m.from.id, name: m.from.name ?? m.from.id }, text: m.text });
}

const redelivered = await store.pending();
for (const e of redelivered) deliver(e);
out({ t: 'ready', pid: process.pid, codexPid: conn.status().pid, redelivered: redelivered.map((e) => e.message.text) });

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const c = JSON.parse(line) as HostCommand;
  if (c.cmd === 'post') {
    const m = c.message;
    const session = `${m.room}/${m.channel}/${m.thread}`;
    void (async () => {
      const entry = await store.enqueue(session, m); // durable before anything else happens
      await serial(() => store.append(session, { kind: 'message', role: 'user', author: m.from, text: m.text }));
      out({ t: 'enqueued', id: entry.id, text: m.text });
      deliver(entry);
    })().catch((err: unknown) => out({ t: 'error', error: String(err) }));
  } else if (c.cmd === 'stop') {
    void (async () => {
      await mgr.stop({ interrupt: false });
      await chain;
      await conn.stop();
      await store.close();
      out({ t: 'stopped' });
      process.exit(0);
    })();
  }
});
