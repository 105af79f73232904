// Embedded room server (ws): rooms, participants, channels and threads over one JSON
// protocol. It is a transport for the supervisor's embedding API: messages go to `post`,
// decisions to `decide`, every room event comes back out. This file owns the sockets
// (upgrade, Origin, connection caps, send buffer, broadcast); frames.ts handles what they say.
import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Subscription } from 'rxjs';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from 'pino';
import type { RoomEvent } from '../events/room-events.js';
import type { RoomAuth } from '../auth/token.js';
import { CloseCodes, type Presence, type RoomBackend, type RoomInspector, type ServerFrame } from './protocol.js';
import type { Client } from './client.js';
import { isLoopbackHost, originAllowed, ownOrigins, type AuthMode } from './access.js';
import { Counter, DEFAULT_ROOM_LIMITS, RateLimiter, TokenBucket, type RoomLimits } from './limits.js';
import { ReplayLog } from './replay.js';
import { handleFrame, type FrameContext } from './frames.js';
import { createStaticHandler } from '../web/static.js';

export interface RoomServerOptions {
  backend: RoomBackend;
  /** Default 127.0.0.1. */
  host?: string;
  port?: number;
  /**
   * `signed` (default): every join needs a credential from `auth` for that room; identity comes
   * from it. `shared`: room → token map, identity claimed by the frame (loopback demos only).
   * `none`: open (loopback only).
   */
  mode?: AuthMode;
  auth?: RoomAuth;
  /** Shared mode: room → token. Rooms not listed are refused. */
  tokens?: Record<string, string>;
  /** Browser origins allowed to connect (default: this server's own http(s) origins). */
  allowedOrigins?: string[];
  limits?: Partial<RoomLimits>;
  /** @deprecated use limits.maxFrameBytes */
  maxFrameBytes?: number;
  log?: Logger;
  /** Plain HTTP on the room's port: the web room (default) or `false` for 426 to everything. */
  web?: RequestListener | false;
  /** The live actor tree for owners' and approvers' `inspect` frames (embedded room only). */
  inspector?: RoomInspector;
  /** The agent this server runs itself (embedded room): listed in every room's presence. */
  agent?: { id: string; name?: string };
}

const PRESENCE_MS = 100;

export class RoomServer {
  private http: Server | undefined;
  private wss: WebSocketServer | undefined;
  private sub: Subscription | undefined;
  private readonly clients = new Set<Client>();
  private readonly byRoom = new Map<string, Set<Client>>();
  /** Rooms whose presence frame is due (joins and leaves within PRESENCE_MS share one). */
  private readonly announcing = new Map<string, NodeJS.Timeout>();
  private readonly perAddress: Counter;
  private readonly perRoom: Counter;
  private readonly limits: RoomLimits;
  private readonly mode: AuthMode;
  private readonly log: ReplayLog;
  private origins: string[] = [];

  constructor(private readonly opts: RoomServerOptions) {
    this.limits = { ...DEFAULT_ROOM_LIMITS, ...(opts.maxFrameBytes ? { maxFrameBytes: opts.maxFrameBytes } : {}), ...opts.limits };
    this.mode = opts.mode ?? (opts.auth ? 'signed' : opts.tokens ? 'shared' : 'signed');
    this.perAddress = new Counter(this.limits.maxConnectionsPerAddress);
    this.perRoom = new Counter(this.limits.maxConnectionsPerRoom);
    this.log = new ReplayLog(this.limits.replayEvents, this.limits.pendingApprovals);
  }

  /** The epoch of this server's event log (changes when the process restarts). */
  get epoch(): string {
    return this.log.epoch;
  }

  /** Listens (127.0.0.1 by default) and returns the ws:// URL. */
  async start(): Promise<string> {
    const host = this.opts.host ?? '127.0.0.1';
    if (this.mode === 'signed' && !this.opts.auth) {
      throw new Error('signed mode needs a RoomAuth (createRoomAuth({ secret })); shared-token and open modes must be chosen explicitly');
    }
    if (this.mode === 'shared' && Object.keys(this.opts.tokens ?? {}).length === 0) throw new Error('shared-token mode needs at least one ROOM=TOKEN');
    if (this.mode !== 'signed' && !isLoopbackHost(host)) {
      throw new Error(`refusing to bind ${host} in ${this.mode === 'shared' ? 'shared-token' : 'open'} mode: it is for loopback demos only; use signed credentials (the default) to serve other hosts`);
    }
    const web = this.opts.web ?? createStaticHandler({ ...(this.opts.log ? { log: this.opts.log } : {}) });
    this.http = createServer(
      web ||
        ((_req, res) => {
          res.writeHead(426, { 'content-type': 'text/plain' }).end('switchboard room server: connect with WebSocket\n');
        }),
    );
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.limits.maxFrameBytes });
    this.http.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
    this.sub = this.opts.backend.events$.subscribe((e) => this.broadcast(e));
    await new Promise<void>((resolve, reject) => {
      this.http!.once('error', reject);
      this.http!.listen(this.opts.port ?? 0, host, () => resolve());
    });
    const { port } = this.http.address() as AddressInfo;
    this.origins = this.opts.allowedOrigins ?? ownOrigins(host, port);
    this.opts.log?.info({ host, port, mode: this.mode }, 'room server listening');
    return this.url!;
  }

  get url(): string | undefined {
    const a = this.http?.address() as AddressInfo | null | undefined;
    if (!a) return undefined;
    const h = this.opts.host ?? '127.0.0.1';
    return `ws://${h.includes(':') && !h.startsWith('[') ? `[${h}]` : h}:${a.port}`;
  }

  /** The page's address (same host and port as the WebSocket). */
  get httpUrl(): string | undefined {
    return this.url?.replace(/^ws:/, 'http:');
  }

  /** Open sockets, joined sockets per room (for tests and status). */
  stats(): { connections: number; rooms: Record<string, number> } {
    return { connections: this.clients.size, rooms: Object.fromEntries([...this.byRoom].map(([r, s]) => [r, s.size])) };
  }

  async stop(): Promise<void> {
    this.sub?.unsubscribe();
    for (const t of this.announcing.values()) clearTimeout(t);
    this.announcing.clear();
    for (const c of this.clients) c.ws.close(CloseCodes.shuttingDown, 'room server shutting down');
    await new Promise<void>((r) => (this.wss ? this.wss.close(() => r()) : r()));
    this.http?.closeAllConnections?.();
    await new Promise<void>((r) => (this.http ? this.http.close(() => r()) : r()));
    for (const c of this.clients) c.ws.terminate();
    this.clients.clear();
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const origin = req.headers.origin;
    if (!originAllowed(origin, this.origins)) {
      this.opts.log?.warn({ origin: String(origin).slice(0, 200) }, 'connection refused: origin not allowed');
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\norigin not allowed\n');
      return;
    }
    this.wss!.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req.socket.remoteAddress ?? 'unknown'));
  }

  private accept(ws: WebSocket, addr: string): void {
    if (!this.perAddress.tryAdd(addr)) {
      this.opts.log?.warn({ addr }, 'connection refused: too many connections from this address');
      ws.close(CloseCodes.tooMany, 'too many connections from your address');
      return;
    }
    const c: Client = { ws, addr, filter: {}, joining: false, joined: false, closing: false, history: new TokenBucket(this.limits.historyBurst, this.limits.historyPerSecond) };
    this.clients.add(c);
    c.joinTimer = setTimeout(() => {
      if (!c.joined) ws.close(CloseCodes.badJoin, `no join within ${this.limits.joinTimeoutMs} ms`);
    }, this.limits.joinTimeoutMs);
    c.joinTimer.unref();
    ws.on('close', () => {
      clearTimeout(c.joinTimer);
      c.detach?.();
      c.uninspect?.();
      this.clients.delete(c);
      this.perAddress.remove(addr);
      if (c.joined && c.room) {
        this.perRoom.remove(c.room);
        const set = this.byRoom.get(c.room);
        set?.delete(c);
        if (set?.size === 0) this.byRoom.delete(c.room);
        else this.announce(c.room);
      }
    });
    ws.on('error', (err) => this.opts.log?.debug({ err: err.message }, 'room client error'));
    const ctx = this.context();
    ws.on('message', (data) => {
      if (c.closing) return;
      void handleFrame(ctx, c, String(data)).catch((err: unknown) => {
        this.opts.log?.error({ err }, 'room frame handling failed');
        this.send(c, { type: 'error', error: 'internal error; the frame was not processed', code: 'internal' });
      });
    });
  }

  private ctxCache: FrameContext | undefined;
  private context(): FrameContext {
    this.ctxCache ??= {
      backend: this.opts.backend,
      mode: this.mode,
      auth: this.opts.auth,
      tokens: this.opts.tokens ?? {},
      limits: this.limits,
      log: this.opts.log,
      replay: this.log,
      perRoom: this.perRoom,
      joins: new RateLimiter(this.limits.joinBurst, this.limits.joinsPerSecond),
      messages: new RateLimiter(this.limits.messageBurst, this.limits.messagesPerSecond),
      send: (c, f) => this.send(c, f),
      enter: (c) => {
        let set = this.byRoom.get(c.room!);
        if (!set) this.byRoom.set(c.room!, (set = new Set()));
        set.add(c);
        clearTimeout(c.joinTimer);
      },
      inspector: this.opts.inspector,
      presence: (room) => this.presence(room),
      announce: (room) => this.announce(room),
    };
    return this.ctxCache;
  }

  /** Sends a frame; a socket whose unsent data goes over the cap is closed (4408), not buffered further. */
  send(c: Client, frame: ServerFrame | string): boolean {
    if (c.closing || c.ws.readyState !== c.ws.OPEN) return false;
    c.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    if (c.ws.bufferedAmount > this.limits.maxBufferedBytes) {
      c.closing = true;
      this.opts.log?.warn({ addr: c.addr, room: c.room, participant: c.participant?.id, buffered: c.ws.bufferedAmount }, 'closing a slow consumer');
      c.ws.close(CloseCodes.slowConsumer, 'send buffer over limit (slow consumer)');
      // A peer that does not read will not finish the close handshake either.
      setTimeout(() => c.ws.terminate(), this.limits.slowConsumerGraceMs).unref();
    }
    return true;
  }

  /**
   * Who is in `room`: one entry per participant id. Bounded by the room's connection cap;
   * computed when someone joins or leaves, never per event.
   */
  private presence(room: string): Presence[] {
    const byId = new Map<string, Presence>();
    for (const c of this.byRoom.get(room) ?? []) {
      const p = c.participant;
      if (!p) continue;
      const known = byId.get(p.id);
      if (known) known.connections++;
      else byId.set(p.id, { id: p.id, ...(p.name ? { name: p.name } : {}), role: p.role, connections: 1 });
    }
    const agent = this.opts.agent;
    if (agent && !byId.has(agent.id)) byId.set(agent.id, { id: agent.id, ...(agent.name ? { name: agent.name } : {}), role: 'agent', connections: 1 });
    return [...byId.values()];
  }

  /**
   * Tells the room who is there. A burst of joins (a full room reconnecting) would cost
   * O(n²) bytes frame by frame, so changes within PRESENCE_MS go out as one frame.
   */
  private announce(room: string): void {
    if (this.announcing.has(room)) return;
    const t = setTimeout(() => {
      this.announcing.delete(room);
      const frame = JSON.stringify({ type: 'presence', participants: this.presence(room) });
      for (const c of this.byRoom.get(room) ?? []) this.send(c, frame);
    }, PRESENCE_MS);
    t.unref();
    this.announcing.set(room, t);
  }

  private broadcast(e: RoomEvent): void {
    const room = e.session.split('/', 1)[0]!;
    const { frame } = this.log.append(room, e);
    for (const c of this.byRoom.get(room) ?? []) this.send(c, frame);
  }
}
