// `/fork` and `/undo`: branch or rewind a conversation's Codex thread.
// `/fork` asks `thread/fork` for a copy of the thread and binds it to a new room thread key
// (`fork-…` in the same channel), owned by whoever forked; both conversations are told, so a
// room client lists the new one. `/undo [N]` asks `thread/revert` to drop the last N turns from
// Codex's history; the workspace's files stay as they are. Both refuse while a turn runs.
import { z } from 'zod';
import type { CommandContext, CommandHost } from './commands.js';
import { field } from './codex-format.js';

/** A Codex thread id as the app-server writes it (a UUID). */
const THREAD_ID = /^[0-9A-Za-z-]{1,64}$/;
/** At most this many turns in one `/undo`. */
const UNDO_MAX = 20;

const TurnPageSchema = z.looseObject({ data: z.array(z.looseObject({ id: z.string().min(1).max(200) })) });

/** The conversation's Codex thread, when it may be forked or rewound now; else throws why not. */
async function idleThread(sb: CommandHost, c: CommandContext, what: string): Promise<string> {
  const info = sb.sessionInfo(c.session) ?? (await sb.resolveSession(c.session, c.agent));
  if (info.selection.harness !== 'codex') throw new Error(`this conversation runs on the ${info.selection.harness} harness; only Codex threads can be ${what}`);
  const manager = sb.codex.sessionManager(c.agent);
  const status = manager.sessionStatus(c.session);
  if (status?.turnRunning || (status?.queued ?? 0) > 0) throw new Error('a turn is running or queued; wait for it to end (or /stop it) first');
  const threadId = await manager.boundThread(c.session);
  if (!threadId) throw new Error('no Codex thread is bound to this conversation yet');
  return threadId;
}

/** `/fork`: a new room thread continuing a copy of this conversation's Codex thread. */
export async function forkCommand(sb: CommandHost, c: CommandContext): Promise<void> {
  try {
    const source = await idleThread(sb, c, 'forked');
    const manager = sb.codex.sessionManager(c.agent);
    const model = manager.sessionStatus(c.session)?.model;
    const res = await sb.codex.clientFor(c.agent.id).request('thread/fork', { threadId: source, excludeTurns: true, ...(model ? { model } : {}) });
    const forked = res.thread.id;
    if (!THREAD_ID.test(forked)) throw new Error('thread/fork answered with an unusable thread id');
    const thread = `fork-${forked.replace(/[^0-9A-Za-z]/g, '').slice(-8)}`;
    const key = sb.codex.stack.keyOf({ room: c.msg.room, channel: c.msg.channel, thread, from: c.from });
    // Whoever forked owns the fork, before anything can run in it.
    await sb.access.claim(key, c.from);
    await sb.options.inherit(c.session, key);
    await manager.attachThread(key, forked, model);
    sb.notice(key, 'info', `Forked from ${c.msg.channel}/${c.msg.thread} (Codex thread ${source}): this conversation continues a copy of its history as Codex thread ${forked}.`);
    sb.notice(c.session, 'info', `Forked into ${c.msg.channel}/${thread} (Codex thread ${forked}): post there to go on from here; this conversation is unchanged.`);
  } catch (err) {
    sb.notice(c.session, 'error', `/fork: ${field((err as Error).message, 300)}`);
  }
}

/** `/undo [N]`: Codex forgets the last N turns (default 1); files are not reverted. */
export async function undoCommand(sb: CommandHost, c: CommandContext, args: string[]): Promise<void> {
  try {
    const n = args[0] === undefined ? 1 : Number(args[0]);
    if (!Number.isInteger(n) || n < 1 || n > UNDO_MAX) throw new Error(`usage: /undo [N], N from 1 to ${UNDO_MAX} turns`);
    const threadId = await idleThread(sb, c, 'rewound');
    const conn = sb.codex.clientFor(c.agent.id);
    const page = TurnPageSchema.safeParse(await conn.request('thread/turns/list', { threadId, limit: n, sortDirection: 'desc' }));
    if (!page.success) throw new Error('thread/turns/list answered in an unexpected shape');
    const turns = page.data.data;
    const oldest = turns.at(-1);
    if (!oldest) throw new Error('this Codex thread has no turns to undo');
    await conn.request('thread/revert', { threadId, beforeTurnId: oldest.id });
    const which = turns.length === 1 ? `the last turn (${oldest.id})` : `the last ${turns.length} turns (from ${oldest.id} on)`;
    sb.notice(
      c.session,
      'info',
      `Undid ${which} of Codex thread ${threadId}: the next message continues without it. Files it changed are NOT reverted, and the room's history still shows it.`,
    );
  } catch (err) {
    sb.notice(c.session, 'error', `/undo: ${field((err as Error).message, 300)}`);
  }
}
