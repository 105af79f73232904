// Slash commands answered by the supervisor (the session answers /model, /models, /stop,
// /new and /reset itself). Replies are notices in the room.
import { RpcError } from '../connection/errors.js';
import type { PoolStatus } from '../pool/pool.js';
import { ErrorCodes } from '../protocol/wire.js';
import type { InboxMessage } from '../storage/types.js';
import type { Hooks } from '../hooks/hooks.js';
import type { CodexHarness } from './codex-harness.js';
import type { RoomAccess } from './access.js';
import type { ResolvedAgent, SessionInfo } from './sessions.js';
import { guardianCommand } from './guardian-command.js';
import { bareModelName } from '../session/model-refs.js';

const HELP_TEXT = [
  'Commands:',
  '  /help                 this list',
  '  /status               harness, model, thread and connection of this conversation',
  '  /models               models you can switch to',
  '  /model NAME           use NAME from the next turn on (same thread)',
  '  /new                  start a fresh Codex thread',
  '  /reset                forget this conversation’s thread binding',
  '  /stop                 interrupt the running turn',
  '  /codex status|models|threads|resume <id>|compact|review|account|mcp|skills',
  '  /guardian [approve <review-id>]  what Codex\'s guardian denied here; approve one anyway (owners)',
].join('\n');

/** What the commands need of the supervisor (it passes closures; no import of the Supervisor). */
export interface CommandHost {
  readonly codex: CodexHarness;
  readonly access: RoomAccess;
  readonly hooks: Hooks;
  notice(session: string, level: 'info' | 'warning' | 'error', text: string): void;
  sessionInfo(session: string): SessionInfo | undefined;
  resolveSession(session: string, agent: ResolvedAgent): Promise<SessionInfo>;
  /** `/new` and `/reset` let the next turn re-resolve the harness. */
  unpin(session: string): void;
  /** `codex` storage: `/reset` archives the thread the conversation leaves behind. */
  archiveCodexThread(threadId: string): Promise<void>;
}

export interface CommandContext {
  session: string;
  agent: ResolvedAgent;
  text: string;
  from: { id: string; name: string };
  msg: InboxMessage;
}

/** Returns true when the supervisor handled the command; false to pass it to the session. */
export async function runSupervisorCommand(sb: CommandHost, c: CommandContext): Promise<boolean> {
  const [cmd, ...args] = c.text.slice(1).trim().split(/\s+/);
  switch (cmd) {
    case 'help':
      sb.notice(c.session, 'info', HELP_TEXT);
      return true;
    case 'status':
      sb.notice(c.session, 'info', await statusText(sb, c));
      return true;
    case 'new':
    case 'reset': {
      const info = sb.sessionInfo(c.session);
      const old = info?.selection.harness === 'codex' ? sb.codex.threadOf(c.agent, c.session) : undefined;
      sb.unpin(c.session);
      if (cmd === 'reset' && old) await sb.archiveCodexThread(old);
      return false;
    }
    case 'codex':
      await codexCommand(sb, c, args);
      return true;
    case 'guardian':
      await guardianCommand(
        {
          denials: sb.codex.guardianDenials,
          request: (method, params) => sb.codex.clientFor(c.agent.id).requestRaw(method, params),
          notice: (level, text) => sb.notice(c.session, level, text),
        },
        c,
        args,
      );
      return true;
    default:
      return false;
  }
}

async function statusText(sb: CommandHost, c: CommandContext): Promise<string> {
  const info = sb.sessionInfo(c.session) ?? (await sb.resolveSession(c.session, c.agent).catch(() => undefined));
  const conn = sb.codex.clientFor(c.agent.id).status();
  const thread = info?.selection.harness === 'codex' ? sb.codex.threadOf(c.agent, c.session) : undefined;
  const s = info?.selection.harness === 'codex' ? sb.codex.sessionManager(c.agent).sessionStatus(c.session) : undefined;
  return [
    `Harness: ${info ? `${info.selection.harness} (${info.selection.reason})` : 'not resolved'}`,
    `Agent: ${c.agent.id} · model ${s?.model ?? c.agent.model ?? 'Codex default'}`,
    `Thread: ${thread ?? 'none yet'}${s ? ` · ${s.turnRunning ? 'turn running' : 'idle'} · ${s.queued} queued` : ''}`,
    `Codex app-server: ${conn.state}${conn.serverVersion ? ` ${conn.serverVersion}` : ''} · restarts ${conn.restarts}${'members' in conn ? ` · pool of ${(conn as PoolStatus).members.length}` : ''}`,
  ].join('\n');
}

const unsupported = (err: unknown): boolean => err instanceof RpcError && err.code === ErrorCodes.methodNotFound;

async function codexCommand(sb: CommandHost, c: CommandContext, args: string[]): Promise<void> {
  const conn = sb.codex.clientFor(c.agent.id);
  const sub = args[0] ?? 'status';
  const thread = () => sb.codex.threadOf(c.agent, c.session);
  const call = async (method: string, params: unknown): Promise<unknown> => {
    try {
      return await conn.requestRaw(method, params);
    } catch (err) {
      if (unsupported(err)) throw new Error(`${method} is unsupported by this Codex app-server`);
      throw err;
    }
  };
  const say = (text: string) => sb.notice(c.session, 'info', text);
  try {
    switch (sub) {
      case 'status': {
        const st = conn.status();
        const parts = [`app-server ${st.state} ${st.serverVersion ?? ''} pid ${st.pid ?? '-'} restarts ${st.restarts}`];
        for (const [label, method, params] of [
          ['account', 'account/read', {}],
          ['rate limits', 'account/rateLimits/read', undefined],
          ['MCP servers', 'mcpServerStatus/list', {}],
          ['skills', 'skills/list', {}],
        ] as const) {
          try {
            parts.push(`${label}: ${summarize(await call(method, params))}`);
          } catch (err) {
            parts.push(`${label}: ${(err as Error).message}`);
          }
        }
        say(parts.join('\n'));
        return;
      }
      case 'models': {
        // The agent's one catalog, asked again: exactly what /model accepts.
        const current = sb.codex.sessionManager(c.agent).sessionStatus(c.session)?.model ?? c.agent.model;
        say(await sb.codex.catalogFor(c.agent).describe(current ? bareModelName(current) : undefined, { refresh: true }));
        return;
      }
      case 'threads': {
        // Only this room's threads: the ones its conversations started or bound.
        const own = await sb.access.threadsOf(c.session, 20);
        const r = (await call('thread/list', { limit: 100 })) as { data: Array<{ id: string; preview?: string; name?: string }> };
        const known = new Map(r.data.map((t) => [t.id, t]));
        const filter = args.slice(1).join(' ').toLowerCase();
        const rows = own
          .map((t) => ({ id: t.threadId, label: known.get(t.threadId)?.name ?? known.get(t.threadId)?.preview ?? t.session }))
          .filter((t) => !filter || `${t.id} ${t.label}`.toLowerCase().includes(filter));
        say(rows.length ? `Codex threads:\n${rows.map((t) => `  ${t.id}  ${t.label}`.trimEnd()).join('\n')}` : 'No Codex threads in this room.');
        return;
      }
      case 'resume': {
        const id = args[1];
        if (!id) throw new Error('usage: /codex resume <thread-id>');
        // The same answer for a foreign and an unknown id: other rooms' threads are not revealed.
        if (!(await sb.access.ownsThread(c.session, id))) throw new Error(`thread ${id.slice(0, 100)} is not one of this room's Codex threads (see /codex threads); not resumed`);
        await sb.codex.sessionManager(c.agent).attachThread(c.session, id);
        say(`This conversation now continues Codex thread ${id} from the next message.`);
        return;
      }
      case 'compact': {
        const t = thread();
        if (!t) throw new Error('no Codex thread is bound to this conversation yet');
        await sb.hooks.run('before_compaction', { session: c.session, threadId: t });
        await call('thread/compact/start', { threadId: t });
        await sb.hooks.run('after_compaction', { session: c.session, threadId: t });
        say(`Compaction of thread ${t} started.`);
        return;
      }
      case 'review': {
        const t = thread();
        if (!t) throw new Error('no Codex thread is bound to this conversation yet');
        await call('review/start', { threadId: t, target: { type: 'uncommittedChanges' } });
        say('Codex review of the uncommitted changes started.');
        return;
      }
      case 'account': {
        const a = await call('account/read', {});
        const l = await call('account/rateLimits/read', undefined).catch((e: Error) => e.message);
        say(`account: ${summarize(a)}\nrate limits: ${typeof l === 'string' ? l : summarize(l)}`);
        return;
      }
      case 'mcp':
        say(`MCP servers: ${summarize(await call('mcpServerStatus/list', {}))}`);
        return;
      case 'skills':
        say(`skills: ${summarize(await call('skills/list', {}))}`);
        return;
      default:
        throw new Error(`unknown /codex command "${sub}": use status, models, threads, resume <id>, compact, review, account, mcp or skills`);
    }
  } catch (err) {
    sb.notice(c.session, 'error', `/codex ${sub}: ${(err as Error).message}`);
  }
}

function summarize(v: unknown): string {
  const s = JSON.stringify(v);
  return s.length > 600 ? `${s.slice(0, 600)}…` : s;
}

