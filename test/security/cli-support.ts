// Shared by the `switchboard chat` security tests: a signed-mode RoomServer over a real
// WebSocket on a fixed port (so it can be restarted at the same URL) whose scripted backend
// keeps a history array that survives the restart, and `switchboard chat` run as a child
// process with a credential file — what a person would run and see.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Subject } from 'rxjs';
import { RoomServer } from '../../src/room/server.js';
import type { RoomBackend } from '../../src/room/protocol.js';
import { createRoomAuth, type RoomAuth } from '../../src/auth/index.js';
import type { RoomEvent } from '../../src/events/room-events.js';
import type { HistoryRecord, StoredRecord } from '../../src/storage/types.js';
import { tsxLoader } from '../support/cli-proc.js';
import { freePort } from '../support/ws-app-server.js';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
export const chatAuth = createRoomAuth({ secret: 'cli-security-secret-0123456789abcdef-0042' });

export type Cleanups = Array<() => Promise<void> | void>;

export interface ChatRoom {
  url: string;
  port: number;
  history: StoredRecord[];
  events$: Subject<RoomEvent>;
  posts: Array<Parameters<RoomBackend['post']>[0]>;
  server: RoomServer;
  /** Append a record to the durable history (as the supervisor would). */
  record(r: HistoryRecord, session?: string): StoredRecord;
  emit(e: Record<string, unknown>): void;
  stop(): Promise<void>;
  /** A new server (new epoch) on the same port, same history. */
  restart(auth?: RoomAuth): Promise<void>;
}

export async function chatRoom(cleanups: Cleanups, opts: { onPost?: (p: Parameters<RoomBackend['post']>[0], room: ChatRoom) => void; port?: number } = {}): Promise<ChatRoom> {
  const port = opts.port ?? (await freePort());
  const history: StoredRecord[] = [];
  const events$ = new Subject<RoomEvent>();
  const posts: ChatRoom['posts'] = [];
  let seq = 0;
  let room!: ChatRoom;
  const backend: RoomBackend = {
    events$,
    post: (p) => {
      posts.push(p);
      opts.onPost?.(p, room);
    },
    decide: () => ({ ok: true }),
    history: async (r, f) => {
      let list = history.filter((h) => h.session.startsWith(`${r}/`));
      if (f?.before !== undefined) list = list.filter((h) => h.seq < f.before!);
      if (f?.after !== undefined) list = list.filter((h) => h.seq > f.after!);
      if (f?.limit !== undefined) list = f.after !== undefined ? list.slice(0, f.limit) : list.slice(-f.limit);
      return list;
    },
  };
  const make = (auth: RoomAuth) => new RoomServer({ backend, auth, mode: 'signed', port });
  let server = make(chatAuth);
  await server.start();
  let stopped = false;
  room = {
    url: `ws://127.0.0.1:${port}`,
    port,
    history,
    events$,
    posts,
    get server() {
      return server;
    },
    record: (r, session = 'lab/chat/main') => {
      const stored = { ...r, seq: ++seq, session, at: Date.now() } as StoredRecord;
      history.push(stored);
      return stored;
    },
    emit: (e) => events$.next({ session: 'lab/chat/main', at: Date.now(), ...e } as unknown as RoomEvent),
    stop: async () => {
      stopped = true;
      await server.stop();
    },
    restart: async (auth = chatAuth) => {
      if (!stopped) await server.stop();
      server = make(auth);
      await server.start();
      stopped = false;
    },
  };
  cleanups.push(() => (stopped ? undefined : server.stop()));
  return room;
}

export interface ChatProc {
  child: ChildProcess;
  readonly out: string;
  readonly err: string;
  /** stdout as raw bytes (latin1 view of what was written). */
  readonly bytes: Buffer;
  type(line: string): void;
  until(what: string | RegExp, ms?: number): Promise<void>;
  exited: Promise<number | null>;
}

/** `switchboard chat` as a child process, stdin a pipe (lines), stdout not a TTY. */
export function spawnChat(cleanups: Cleanups, args: string[], env: Record<string, string> = {}): ChatProc {
  const child = spawn(process.execPath, ['--import', tsxLoader, main, 'chat', ...args], {
    env: { ...process.env, NO_COLOR: '1', SWITCHBOARD_LOG_LEVEL: 'warn', SWITCHBOARD_ROOM_TOKEN: '', SWITCHBOARD_ROOM_TOKEN_FILE: '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const chunks: Buffer[] = [];
  let err = '';
  child.stdout!.on('data', (d: Buffer) => chunks.push(d));
  child.stderr!.on('data', (d) => (err += String(d)));
  child.stdin!.on('error', () => {});
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const self: ChatProc = {
    child,
    get out() {
      return Buffer.concat(chunks).toString('utf8');
    },
    get err() {
      return err;
    },
    get bytes() {
      return Buffer.concat(chunks);
    },
    type: (line) => void child.stdin!.write(`${line}\n`),
    async until(what, ms = 20_000) {
      const end = Date.now() + ms;
      for (;;) {
        const out = self.out;
        if (typeof what === 'string' ? out.includes(what) : what.test(out)) return;
        if (Date.now() > end || (child.exitCode !== null && !(typeof what === 'string' ? out.includes(what) : what.test(out)))) {
          throw new Error(`no ${String(what)} in chat output\n--- stdout ---\n${out}\n--- stderr ---\n${err}`);
        }
        await new Promise((r) => setTimeout(r, 30));
      }
    },
    exited,
  };
  return self;
}

/** A credential file (mode 0600) for `--token-file`. */
export async function tokenFile(cleanups: Cleanups, room: string, id: string, opts: { name?: string; auth?: RoomAuth; role?: 'owner' | 'member' | 'approver' } = {}): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-chat-cred-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, `${id}.token`);
  const token = await (opts.auth ?? chatAuth).mint({ room, id, role: opts.role ?? 'owner', ...(opts.name ? { name: opts.name } : {}) });
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return file;
}

/** How many times `needle` occurs in `hay`. */
export const count = (hay: string, needle: string): number => hay.split(needle).length - 1;

/**
 * A TCP relay in front of the room server: `drop()` cuts every connection and refuses new
 * ones (the network went away, the server did not), `restore()` accepts again.
 */
export async function flakyLink(cleanups: Cleanups, target: number): Promise<{ url: string; drop(): Promise<void>; restore(): Promise<void> }> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((s) => {
        const up = new Socket();
        sockets.add(s).add(up);
        up.connect(target, '127.0.0.1');
        s.pipe(up).pipe(s);
        const close = () => (s.destroy(), up.destroy(), sockets.delete(s), sockets.delete(up));
        s.on('error', close).on('close', close);
        up.on('error', close).on('close', close);
      });
      server.listen(port, '127.0.0.1', () => resolve());
    });
  await listen();
  const drop = async () => {
    await new Promise<void>((r) => {
      server?.close(() => r());
      for (const s of sockets) s.destroy();
    });
    server = undefined;
  };
  cleanups.push(() => (server ? drop() : undefined));
  return { url: `ws://127.0.0.1:${port}`, drop, restore: listen };
}
