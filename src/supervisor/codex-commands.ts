// `/codex …`: the Codex app-server's own features in the room. Read-only ones answer with a
// notice formatted from the app-server's answer (codex-format.ts); `review` and `compact` are
// queued as turns of the conversation, so their progress and result arrive as room events.
import { RpcError } from '../connection/errors.js';
import type { ClientMethod, ParamsOf } from '../protocol/client-requests.js';
import { ErrorCodes } from '../protocol/wire.js';
import type { CommandContext, CommandHost } from './commands.js';
import { accountText, field, mcpText, rateLimitsText, skillsText, threadLine, ThreadPageSchema, type ThreadRow } from './codex-format.js';
import { describeReviewTarget, parseReviewArgs } from './review-args.js';
import { bareModelName } from '../session/model-refs.js';
import { budgetRefusal } from './turn-option-commands.js';

export const CODEX_SUBCOMMANDS = 'status|models|threads [filter|more]|resume <id>|compact|review [--base B|--commit SHA|text]|account|mcp|skills';

/** Threads shown per `/codex threads` answer (at least; a page of the app-server is shown whole). */
const THREADS_WANTED = 10;
const THREADS_PAGE = 25;
const THREADS_MAX_PAGES = 4;
/** A Codex thread id as the app-server writes it (a UUID); anything else is not looked up. */
const THREAD_ID = /^[0-9A-Za-z-]{1,64}$/;

type Call = <M extends ClientMethod>(method: M, params: ParamsOf<M>) => Promise<unknown>;

const unsupported = (err: unknown): boolean => err instanceof RpcError && err.code === ErrorCodes.methodNotFound;

export async function codexCommand(sb: CommandHost, c: CommandContext, args: string[]): Promise<void> {
  const conn = sb.codex.clientFor(c.agent.id);
  const sub = args[0] ?? 'status';
  const call: Call = async (method, params) => {
    try {
      return await conn.request(method, params);
    } catch (err) {
      if (unsupported(err)) throw new Error(`${method} is unsupported by this Codex app-server`);
      throw err;
    }
  };
  const answer = <M extends ClientMethod>(method: M, params: ParamsOf<M>, format: (v: unknown) => string) =>
    call(method, params).then(format, (err: Error) => `unavailable: ${field(err.message, 200)}`);
  const say = (text: string) => sb.notice(c.session, 'info', text);
  try {
    switch (sub) {
      case 'status': {
        const st = conn.status();
        const [account, limits, mcp, skills] = await Promise.all([
          answer('account/read', {}, accountText),
          answer('account/rateLimits/read', undefined, rateLimitsText),
          answer('mcpServerStatus/list', { detail: 'toolsAndAuthOnly' }, mcpText),
          answer('skills/list', { cwds: [c.agent.cwd] }, (v) => skillsText(v, false)),
        ]);
        say(
          [
            `Codex app-server: ${st.state}${st.serverVersion ? ` ${st.serverVersion}` : ''} · pid ${st.pid ?? '-'} · restarts ${st.restarts}`,
            `Account: ${account}`,
            `Rate limits: ${limits}`,
            `MCP servers: ${mcp}`,
            `Skills: ${skills}`,
          ].join('\n'),
        );
        return;
      }
      case 'models': {
        // The agent's one catalog, asked again: exactly what /model accepts.
        const current = sb.codex.sessionManager(c.agent).sessionStatus(c.session)?.model ?? c.agent.model;
        say(await sb.codex.catalogFor(c.agent).describe(current ? bareModelName(current) : undefined, { refresh: true }));
        return;
      }
      case 'threads':
        say(await threadsText(sb, c, call, args.slice(1).join(' ')));
        return;
      case 'resume':
        await resume(sb, c, call, args[1]);
        return;
      case 'compact': {
        await codexOnly(sb, c);
        const t = await sb.codex.sessionManager(c.agent).boundThread(c.session);
        if (!t) throw new Error('no Codex thread is bound to this conversation yet');
        sb.codex.sessionManager(c.agent).postAction(actionSource(c), '/codex compact', { type: 'compact' });
        say(`Compaction of thread ${t} requested: it runs as the next turn of this conversation.`);
        return;
      }
      case 'review': {
        const target = parseReviewArgs(c.text.trim().replace(/^\/codex\s+review/, ''));
        await codexOnly(sb, c);
        sb.codex.sessionManager(c.agent).postAction(actionSource(c), '/codex review', { type: 'review', target });
        say(`Codex review of ${describeReviewTarget(target)} requested: it runs as the next turn of this conversation.`);
        return;
      }
      case 'account': {
        const [account, limits] = await Promise.all([answer('account/read', {}, accountText), answer('account/rateLimits/read', undefined, rateLimitsText)]);
        say(`Account: ${account}\nRate limits: ${limits}`);
        return;
      }
      case 'mcp':
        say(`MCP servers: ${mcpText(await call('mcpServerStatus/list', { detail: 'toolsAndAuthOnly' }))}`);
        return;
      case 'skills':
        say(`Skills: ${skillsText(await call('skills/list', { cwds: [c.agent.cwd] }), true)}`);
        return;
      default:
        throw new Error(`unknown /codex command "${field(sub, 40)}": use ${CODEX_SUBCOMMANDS}`);
    }
  } catch (err) {
    sb.notice(c.session, 'error', `/codex ${field(sub, 40)}: ${(err as Error).message}`);
  }
}

/** Where a queued action comes from: the command's conversation and its author. */
const actionSource = (c: CommandContext) => ({ room: c.msg.room, channel: c.msg.channel, thread: c.msg.thread, from: c.from });

/** Reviews and compactions are Codex turns: a conversation on another harness, or a Codex without an account, has none. */
async function codexOnly(sb: CommandHost, c: CommandContext): Promise<void> {
  const info = sb.sessionInfo(c.session) ?? (await sb.resolveSession(c.session, c.agent));
  if (info.selection.harness !== 'codex') throw new Error(`this conversation runs on the ${info.selection.harness} harness, not on Codex`);
  const overBudget = budgetRefusal(sb.options, c.session);
  if (overBudget) throw new Error(overBudget);
  const problem = await sb.codex.admitAction();
  if (problem) throw new Error(`the agent cannot run it: ${problem}`);
}

/**
 * This room's threads, newest first, filtered by Codex's `searchTerm` and paged with its
 * cursor; a page of Codex's list is shown whole, so `more` goes on exactly where it stopped.
 */
async function threadsText(sb: CommandHost, c: CommandContext, call: Call, rest: string): Promise<string> {
  const more = rest.trim() === 'more';
  const prev = more ? sb.threadPages.get(c.session) : undefined;
  if (more && !prev) return 'No more Codex threads: /codex threads [filter] lists them from the start.';
  const filter = prev ? prev.filter : field(rest, 100);
  const owned = new Map((await sb.access.threadsOf(c.session, 1000)).map((t) => [t.threadId, t.session]));
  const rows: ThreadRow[] = [];
  let cursor = prev?.cursor;
  for (let page = 0; page < THREADS_MAX_PAGES && rows.length < THREADS_WANTED; page++) {
    const params = { limit: THREADS_PAGE, sortKey: 'updated_at' as const, ...(filter ? { searchTerm: filter } : {}), ...(cursor ? { cursor } : {}) };
    const r = ThreadPageSchema.safeParse(await call('thread/list', params));
    if (!r.success) throw new Error('thread/list answered in an unexpected shape');
    rows.push(...r.data.data.filter((t) => owned.has(t.id)));
    cursor = r.data.nextCursor ?? undefined;
    if (!cursor) break;
  }
  sb.threadPages.set(c.session, cursor ? { filter, cursor } : undefined);
  const which = filter ? ` matching "${filter}"` : '';
  if (!rows.length) return cursor ? `No Codex threads of this room${which} on this page; /codex threads more looks further.` : `No ${more ? 'more ' : ''}Codex threads in this room${which}.`;
  const lines = rows.map((t) => threadLine(t, owned.get(t.id) ?? ''));
  return [`Codex threads${which}:`, ...lines, ...(cursor ? ['More: /codex threads more'] : [])].join('\n');
}

/** Bind the conversation to one of this room's threads, after checking Codex still has it. */
async function resume(sb: CommandHost, c: CommandContext, call: Call, id: string | undefined): Promise<void> {
  if (!id) throw new Error('usage: /codex resume <thread-id>');
  const shown = field(id, 100);
  // The same answer for a foreign, an unknown and a malformed id: other rooms' threads are not revealed.
  if (!THREAD_ID.test(id) || !(await sb.access.ownsThread(c.session, id))) {
    throw new Error(`thread ${shown} is not one of this room's Codex threads (see /codex threads); not resumed`);
  }
  try {
    await call('thread/read', { threadId: id, includeTurns: false });
  } catch (err) {
    throw new Error(`Codex no longer has thread ${shown} (${field((err as Error).message, 120)}); not resumed`);
  }
  await sb.codex.sessionManager(c.agent).attachThread(c.session, id);
  sb.notice(c.session, 'info', `This conversation now continues Codex thread ${id} from the next message.`);
}
