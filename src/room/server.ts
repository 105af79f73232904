// Embedded room server (ws): rooms, participants, channels and threads over one JSON
// protocol. It is a transport for the supervisor's embedding API, nothing more: messages go
// to `post`, decisions to `decide`, and every room event comes back out.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Observable, Subscription } from 'rxjs';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from 'pino';
import type { RoomEvent } from '../events/room-events.js';
import type { StoredRecord } from '../storage/types.js';
import { summarize } from '../protocol/wire.js';
import { ClientFrameSchema, CloseCodes, type Participant, type ServerFrame } from './protocol.js';
import type { RelayBackend } from './relay.js';

export interface RoomBackend {
  post(msg: {
    room: string;
    channel: string;
    thread: string;
    from: { id: string; name?: string };
    text: string;
    attachments?: Array<Record<string, unknown>>;
  }): Promise<unknown> | unknown;
  decide(d: { approvalId: string; by: string; decision: string; content?: unknown; room?: string }): { ok: true } | { ok: false; reason: string } | Promise<{ ok: true } | { ok: false; reason: string }>;
  readonly events$: Observable<RoomEvent>;
  /** History of every conversation in a room, oldest first. */
  history(room: string, filter?: { channel?: string; thread?: string }): Promise<StoredRecord[]>;
}

export interface RoomServerOptions {
  backend: RoomBackend;
  host?: string;
  port?: number;
  /** Rooms that require a token: room → token. */
  tokens?: Record<string, string>;
  log?: Logger;
  maxFrameBytes?: number;
}

interface Client {
  ws: WebSocket;
  room?: string;
  participant?: Participant;
  detach?: () => void;
}

const isRelay = (b: RoomBackend): b is RoomBackend & RelayBackend => typeof (b as Partial<RelayBackend>).attachAgent === 'function';

export class RoomServer {
  private http: Server | undefined;
  private wss: WebSocketServer | undefined;
  private sub: Subscription | undefined;
  private readonly clients = new Set<Client>();

  constructor(private readonly opts: RoomServerOptions) {}

  /** Listens (127.0.0.1 by default) and returns the ws:// URL. */
  async start(): Promise<string> {
    const host = this.opts.host ?? '127.0.0.1';
    this.http = createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' }).end('switchboard room server: connect with WebSocket\n');
    });
    this.wss = new WebSocketServer({ server: this.http, maxPayload: this.opts.maxFrameBytes ?? 1024 * 1024 });
    this.wss.on('connection', (ws) => this.accept(ws));
    this.sub = this.opts.backend.events$.subscribe((e) => this.broadcast(e));
    await new Promise<void>((resolve, reject) => {
      this.http!.once('error', reject);
      this.http!.listen(this.opts.port ?? 0, host, () => resolve());
    });
    const { port } = this.http.address() as AddressInfo;
    return `ws://${host}:${port}`;
  }

  get url(): string | undefined {
    const a = this.http?.address() as AddressInfo | null | undefined;
    return a ? `ws://${this.opts.host ?? '127.0.0.1'}:${a.port}` : undefined;
  }

  async stop(): Promise<void> {
    this.sub?.unsubscribe();
    for (const c of this.clients) c.ws.close(CloseCodes.shuttingDown, 'room server shutting down');
    await new Promise<void>((r) => (this.wss ? this.wss.close(() => r()) : r()));
    await new Promise<void>((r) => (this.http ? this.http.close(() => r()) : r()));
    for (const c of this.clients) c.ws.terminate();
    this.clients.clear();
  }

  private send(c: Client, frame: ServerFrame): void {
    if (c.ws.readyState === c.ws.OPEN) c.ws.send(JSON.stringify(frame));
  }

  private accept(ws: WebSocket): void {
    const client: Client = { ws };
    this.clients.add(client);
    ws.on('close', () => {
      client.detach?.();
      this.clients.delete(client);
    });
    ws.on('error', (err) => this.opts.log?.debug({ err: err.message }, 'room client error'));
    ws.on('message', (data) => {
      void this.onFrame(client, String(data)).catch((err: unknown) => {
        this.opts.log?.error({ err }, 'room frame handling failed');
        this.send(client, { type: 'error', error: `internal error: ${(err as Error).message}` });
      });
    });
  }

  private async onFrame(c: Client, text: string): Promise<void> {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      this.send(c, { type: 'error', error: `frame is not valid JSON: ${(err as Error).message}` });
      return;
    }
    const parsed = ClientFrameSchema.safeParse(raw);
    if (!parsed.success) {
      this.send(c, { type: 'error', error: `bad frame: ${summarize(parsed.error)}` });
      return;
    }
    const frame = parsed.data;
    if (frame.type === 'join') {
      const required = this.opts.tokens?.[frame.room];
      if (required !== undefined && frame.token !== required) {
        this.opts.log?.warn({ room: frame.room, participant: frame.participant.id }, 'join refused: bad or missing token');
        c.ws.close(CloseCodes.unauthorized, `room "${frame.room}" requires a valid token`);
        return;
      }
      c.room = frame.room;
      c.participant = frame.participant;
      if (frame.participant.role === 'agent') {
        const backend = this.opts.backend;
        if (!isRelay(backend)) {
          this.send(c, { type: 'error', error: 'this room server runs its own agent; agent participants are not accepted' });
          c.ws.close(CloseCodes.badJoin, 'agents are not accepted here');
          return;
        }
        c.detach = backend.attachAgent(frame.room, (f) => this.send(c, f));
      }
      const history = await this.opts.backend.history(frame.room, { channel: frame.channel, thread: frame.thread });
      this.send(c, { type: 'joined', room: frame.room, participant: frame.participant, history });
      return;
    }
    if (!c.room || !c.participant) {
      this.send(c, { type: 'error', error: 'join a room first: {"type":"join","room":"...","participant":{"id":"..."}}' });
      return;
    }
    if (frame.type === 'agent.event' || frame.type === 'agent.decided') {
      const backend = this.opts.backend;
      if (c.participant.role !== 'agent' || !isRelay(backend)) {
        this.send(c, { type: 'error', error: `${frame.type} is only accepted from the room's agent` });
        return;
      }
      if (frame.type === 'agent.decided') backend.decided(frame.requestId, frame.ok, frame.reason);
      else if (frame.event.session.split('/', 1)[0] === c.room) backend.fromAgent(frame.event as unknown as RoomEvent);
      else this.send(c, { type: 'error', error: 'an agent may only post events of its own room' });
      return;
    }
    if (frame.type === 'message') {
      if (c.participant.role === 'observer') {
        this.send(c, { type: 'error', error: 'observers cannot post messages' });
        return;
      }
      await this.opts.backend.post({
        room: c.room,
        channel: frame.channel,
        thread: frame.thread,
        from: { id: c.participant.id, name: c.participant.name },
        text: frame.text,
        attachments: frame.attachments,
      });
      return;
    }
    // approval.decide: the backend checks that this participant may decide.
    const r = await this.opts.backend.decide({ approvalId: frame.approvalId, by: c.participant.id, decision: frame.decision, content: frame.content, room: c.room });
    this.send(c, { type: 'decided', approvalId: frame.approvalId, ok: r.ok, ...(r.ok ? {} : { reason: r.reason }) });
  }

  private broadcast(e: RoomEvent): void {
    const room = e.session.split('/', 1)[0];
    const frame = JSON.stringify({ type: 'event', event: e } satisfies ServerFrame);
    for (const c of this.clients) {
      if (c.room === room && c.ws.readyState === c.ws.OPEN) c.ws.send(frame);
    }
  }
}
