// What a room socket says: join (once, identity from the credential), message, decide,
// history pages, the model catalog, the inspector, and the relay agent's frames. Every refusal is an error frame or a close
// with a documented code and a reason; nothing is posted or decided on a refusal.
import type { Logger } from 'pino';
import type { RoomEvent } from '../events/room-events.js';
import type { RoomAuth } from '../auth/token.js';
import { summarize } from '../protocol/wire.js';
import { ClientFrameSchema, CloseCodes, isRelay, type ClientFrame, type Participant, type Presence, type RoomBackend, type RoomInspector, type ServerFrame } from './protocol.js';
import type { Client } from './client.js';
import { identify, type AuthMode } from './access.js';
import type { Counter, RateLimiter, RoomLimits } from './limits.js';
import type { ReplayLog } from './replay.js';
import { historyPage } from './history.js';
import { joinedPending, lookUpPending } from './pending.js';

export interface FrameContext {
  backend: RoomBackend;
  mode: AuthMode;
  auth?: RoomAuth;
  tokens: Record<string, string>;
  limits: RoomLimits;
  log?: Logger;
  replay: ReplayLog;
  perRoom: Counter;
  joins: RateLimiter;
  messages: RateLimiter;
  send(c: Client, f: ServerFrame | string): boolean;
  /** Adds a joined client to its room's broadcast set. */
  enter(c: Client): void;
  inspector?: RoomInspector;
  /** Who is in a room now. */
  presence(room: string): Presence[];
  /** Sends the room's presence to everyone in it. */
  announce(room: string): void;
}

const mayInspect = (ctx: FrameContext, p: Participant) => ctx.inspector !== undefined && (p.role === 'owner' || p.role === 'approver');

const refuse = (c: Client, code: number, reason: string) => {
  c.closing = true;
  c.ws.close(code, reason.slice(0, 120));
};
const rateLimited = (ctx: FrameContext, c: Client, what: string, retryAfterMs: number) =>
  ctx.send(c, { type: 'error', error: `too many ${what}; retry in ${Math.ceil(retryAfterMs / 1000)} s`, code: 'rate_limited', retryAfterMs });

export async function handleFrame(ctx: FrameContext, c: Client, text: string): Promise<void> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    ctx.send(c, { type: 'error', error: `frame is not valid JSON: ${(err as Error).message.slice(0, 200)}`, code: 'bad_frame' });
    return;
  }
  const parsed = ClientFrameSchema.safeParse(raw);
  if (!parsed.success) {
    ctx.send(c, { type: 'error', error: `bad frame: ${summarize(parsed.error).slice(0, 500)}`, code: 'bad_frame' });
    return;
  }
  const frame = parsed.data;
  if (frame.type === 'join') return join(ctx, c, frame);
  if (!c.joined || !c.room || !c.participant) {
    ctx.send(c, { type: 'error', error: 'join a room first: {"type":"join","token":"..."}', code: 'not_joined' });
    return;
  }
  switch (frame.type) {
    case 'agent.event':
    case 'agent.decided':
      return agentFrame(ctx, c, frame);
    case 'message':
      return message(ctx, c, frame);
    case 'approval.decide':
      return decide(ctx, c, frame);
    case 'history': {
      const wait = c.history.take();
      if (wait > 0) return void rateLimited(ctx, c, 'history requests', wait);
      const limit = Math.min(frame.limit ?? ctx.limits.historyPage, ctx.limits.historyPageMax);
      const page = await historyPage(ctx.backend, c.room, c.filter, frame.before, limit);
      ctx.send(c, { type: 'history', records: page.records, ...(page.before !== undefined ? { before: page.before } : {}) });
      return;
    }
    case 'models':
      return models(ctx, c);
    case 'inspect':
      return inspect(ctx, c, frame.on);
  }
}

async function join(ctx: FrameContext, c: Client, f: Extract<ClientFrame, { type: 'join' }>): Promise<void> {
  if (c.joined || c.joining) {
    ctx.send(c, { type: 'error', error: 'this socket has already joined; one join per connection', code: 'already_joined' });
    return;
  }
  // History is keyed `room/channel/thread`: a thread alone names nothing (it would match no record).
  if (f.thread && !f.channel) return refuse(c, CloseCodes.badJoin, 'a join that names a thread must name its channel too');
  c.joining = true;
  try {
    const id = await identify(f, ctx.mode, ctx.auth, ctx.tokens);
    if (!id.ok) {
      ctx.log?.warn({ addr: c.addr, room: f.room, code: id.code, reason: id.reason }, 'join refused');
      return refuse(c, id.code, id.reason);
    }
    if (c.ws.readyState !== c.ws.OPEN) return;
    const { room, participant } = id;
    const wait = ctx.joins.take(`${room}\0${participant.id}`);
    if (wait > 0) return void rateLimited(ctx, c, 'joins', wait);
    const backend = ctx.backend;
    if (participant.role === 'agent') {
      if (!isRelay(backend)) return refuse(c, CloseCodes.badJoin, 'this room server runs its own agent; agent participants are not accepted');
      if (backend.hasAgent(room)) return refuse(c, CloseCodes.conflict, `room "${room}" already has an agent`);
    }
    if (!ctx.perRoom.tryAdd(room)) return refuse(c, CloseCodes.tooMany, `room "${room}" is full`);
    let counted = true;
    try {
      c.filter = { ...(f.channel ? { channel: f.channel } : {}), ...(f.thread ? { thread: f.thread } : {}) };
      const missed = f.resume ? ctx.replay.since(room, f.resume.epoch, f.resume.seq) : undefined;
      // Never rejects (bounded, failures logged): asked alongside the history page.
      const stored = lookUpPending(backend, room, ctx.limits.pendingApprovals, ctx.limits.pendingLookupMs, ctx.log);
      let page: Awaited<ReturnType<typeof historyPage>> = { records: [] };
      if (!missed) page = await historyPage(backend, room, c.filter, undefined, Math.min(f.historyLimit ?? ctx.limits.historyPage, ctx.limits.historyPageMax));
      const storedPending = await stored;
      if (c.ws.readyState !== c.ws.OPEN) return;
      // From here to the end nothing awaits: no live event can slip between `seq` and the room set.
      c.room = room;
      c.participant = participant;
      c.joined = true;
      counted = false;
      ctx.enter(c);
      ctx.send(c, {
        type: 'joined',
        room,
        participant,
        epoch: ctx.replay.epoch,
        seq: ctx.replay.seq(room),
        resumed: missed !== undefined,
        history: page.records,
        ...(page.before !== undefined ? { historyBefore: page.before } : {}),
        pending: joinedPending(ctx.replay, room, storedPending, ctx.limits.pendingApprovals),
        participants: ctx.presence(room),
        inspector: mayInspect(ctx, participant),
      });
      for (const m of missed ?? []) ctx.send(c, m);
      ctx.announce(room);
      ctx.log?.info({ room, participant: participant.id, role: participant.role, resumed: missed !== undefined }, 'participant joined');
      if (participant.role === 'agent' && isRelay(backend)) {
        const detach = backend.attachAgent(room, (fr) => ctx.send(c, fr));
        if (!detach) return refuse(c, CloseCodes.conflict, `room "${room}" already has an agent`);
        c.detach = detach;
      }
    } finally {
      if (counted) ctx.perRoom.remove(room);
    }
  } finally {
    c.joining = false;
  }
}

async function message(ctx: FrameContext, c: Client, f: Extract<ClientFrame, { type: 'message' }>): Promise<void> {
  const p = c.participant!;
  if (p.role === 'observer') return void ctx.send(c, { type: 'error', error: 'observers cannot post messages', code: 'forbidden' });
  if (p.role === 'agent') return void ctx.send(c, { type: 'error', error: 'an agent credential cannot post user messages', code: 'forbidden' });
  const wait = ctx.messages.take(`${c.room}\0${p.id}`);
  if (wait > 0) return void rateLimited(ctx, c, 'messages', wait);
  await ctx.backend.post({
    room: c.room!,
    channel: f.channel,
    thread: f.thread,
    from: { id: p.id, ...(p.name ? { name: p.name } : {}), role: p.role },
    text: f.text,
    ...(f.attachments ? { attachments: f.attachments as unknown as Array<Record<string, unknown>> } : {}),
  });
}

async function decide(ctx: FrameContext, c: Client, f: Extract<ClientFrame, { type: 'approval.decide' }>): Promise<void> {
  const p = c.participant!;
  const no = (reason: string) => ctx.send(c, { type: 'decided', approvalId: f.approvalId, ok: false, reason });
  // Checked here as well as in the backend: fail closed even against a backend that forgets.
  if (p.role === 'observer') return void no('observers cannot decide approvals');
  if (p.role === 'agent') return void no('an agent credential cannot decide approvals');
  const wait = ctx.messages.take(`${c.room}\0${p.id}`);
  if (wait > 0) return void rateLimited(ctx, c, 'decisions', wait);
  const r = await ctx.backend.decide({ approvalId: f.approvalId, by: p.id, role: p.role, decision: f.decision, content: f.content, room: c.room });
  ctx.send(c, { type: 'decided', approvalId: f.approvalId, ok: r.ok, ...(r.ok ? {} : { reason: r.reason }) });
}

async function models(ctx: FrameContext, c: Client): Promise<void> {
  // The same per-socket bucket as history pages: each may cost a round trip to Codex.
  const wait = c.history.take();
  if (wait > 0) return void rateLimited(ctx, c, 'model list requests', wait);
  if (!ctx.backend.models) return void ctx.send(c, { type: 'error', error: 'this room server does not run the agent: it has no model list', code: 'unavailable' });
  const list = await ctx.backend.models();
  ctx.send(c, { type: 'models', ...list });
}

function inspect(ctx: FrameContext, c: Client, on: boolean): void {
  const p = c.participant!;
  if (!on) {
    c.uninspect?.();
    c.uninspect = undefined;
    return;
  }
  if (p.role !== 'owner' && p.role !== 'approver') return void ctx.send(c, { type: 'error', error: 'the inspector is for room owners and approvers', code: 'forbidden' });
  if (!ctx.inspector) return void ctx.send(c, { type: 'error', error: 'the inspector is not available here: the agent runs in another process (room serve)', code: 'unavailable' });
  // Each subscription starts with the whole tree: bounded like history requests.
  const wait = c.history.take();
  if (wait > 0) return void rateLimited(ctx, c, 'inspector requests', wait);
  c.uninspect?.();
  c.uninspect = ctx.inspector.subscribe(c.room!, (f) => ctx.send(c, f));
}

function agentFrame(ctx: FrameContext, c: Client, f: Extract<ClientFrame, { type: 'agent.event' | 'agent.decided' }>): void {
  const backend = ctx.backend;
  if (c.participant!.role !== 'agent' || !isRelay(backend) || !c.detach) {
    ctx.send(c, { type: 'error', error: `${f.type} is only accepted from the room's agent`, code: 'forbidden' });
    return;
  }
  if (f.type === 'agent.decided') backend.decided(f.requestId, f.ok, f.reason, c.room);
  else if (f.event.session.split('/', 1)[0] === c.room) backend.fromAgent(f.event as unknown as RoomEvent);
  else ctx.send(c, { type: 'error', error: 'an agent may only post events of its own room', code: 'forbidden' });
}
