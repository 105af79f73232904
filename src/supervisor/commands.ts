// Slash commands answered by the supervisor (the session answers /model, /models, /stop,
// /new and /reset itself). Replies are notices in the room.
import type { PoolStatus } from '../pool/pool.js';
import type { InboxMessage } from '../storage/types.js';
import type { Hooks } from '../hooks/hooks.js';
import type { CodexHarness } from './codex-harness.js';
import type { RoomAccess } from './access.js';
import type { ResolvedAgent, SessionInfo } from './sessions.js';
import { codexCommand, CODEX_SUBCOMMANDS } from './codex-commands.js';
import type { ThreadPages } from './thread-pages.js';
import { guardianCommand } from './guardian-command.js';
import { forkCommand, undoCommand } from './fork-undo.js';
import type { ConversationOptions } from './conversation-options.js';
import { budgetCommand, budgetText, effortCommand, type TurnOptionHost } from './turn-option-commands.js';
import type { BackendSwitch } from './backend-switch.js';

const HELP_TEXT = [
  'Commands:',
  '  /help                 this list',
  '  /status               harness, model, thread and connection of this conversation',
  '  /models               models you can switch to',
  '  /usage                tokens of the last turn, this conversation and its Codex thread; rate limits',
  '  /model NAME           use NAME from the next turn on (same thread)',
  '  /effort low|medium|high|default  reasoning effort from the next turn on',
  '  /budget [200k|off]    this conversation\'s token budget (owner); without an amount, what is left',
  '  /new                  start a fresh Codex thread',
  '  /reset                forget this conversation’s thread binding',
  '  /stop                 interrupt the running turn',
  '  /fork                 continue a copy of this conversation in a new room thread',
  '  /undo [N]             Codex forgets the last N turns (default 1); files are not reverted',
  `  /codex ${CODEX_SUBCOMMANDS}`,
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
  /** Where `/codex threads more` goes on. */
  readonly threadPages: ThreadPages;
  /** `/effort` and `/budget`, persisted per conversation. */
  readonly options: ConversationOptions;
  /** `/model` and `/models` across the llm backend and Codex. */
  readonly backends: BackendSwitch;
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
    case 'usage': {
      const limits = sb.codex.notices.rateLimitsText();
      const budget = budgetText(sb.options, c.session);
      sb.notice(c.session, 'info', sb.codex.usage.text(c.session) + (budget ? `\n${budget}` : '') + (limits ? `\nRate limits: ${limits}` : ''));
      return true;
    }
    case 'effort':
      await effortCommand(optionHost(sb, c), { session: c.session, from: { id: c.from.id, role: c.msg.from.role } }, args);
      return true;
    case 'budget':
      await budgetCommand(optionHost(sb, c), { session: c.session, from: { id: c.from.id, role: c.msg.from.role } }, args);
      return true;
    case 'new':
    case 'reset': {
      const info = sb.sessionInfo(c.session);
      const old = info?.selection.harness === 'codex' ? sb.codex.threadOf(c.agent, c.session) : undefined;
      sb.unpin(c.session);
      if (cmd === 'reset' && old) await sb.archiveCodexThread(old);
      return false;
    }
    case 'model':
    case 'models':
      return sb.backends.command(sb, c, cmd, args.join(' '));
    case 'codex':
      await codexCommand(sb, c, args);
      return true;
    case 'fork':
      await forkCommand(sb, c);
      return true;
    case 'undo':
      await undoCommand(sb, c, args);
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

function optionHost(sb: CommandHost, c: CommandContext): TurnOptionHost {
  return {
    options: sb.options,
    notice: (level, text) => sb.notice(c.session, level, text),
    owner: sb.access.ownerOf(c.session),
    approvers: c.agent.approvers,
  };
}

async function statusText(sb: CommandHost, c: CommandContext): Promise<string> {
  const info = sb.sessionInfo(c.session) ?? (await sb.resolveSession(c.session, c.agent).catch(() => undefined));
  const conn = sb.codex.clientFor(c.agent.id).status();
  const thread = info?.selection.harness === 'codex' ? sb.codex.threadOf(c.agent, c.session) : undefined;
  const s = info?.selection.harness === 'codex' ? sb.codex.sessionManager(c.agent).sessionStatus(c.session) : undefined;
  return [
    `Harness: ${info ? `${info.selection.harness} (${info.selection.reason})` : 'not resolved'}`,
    `Agent: ${c.agent.id} · model ${(info?.selection.harness === 'llm' ? sb.backends.llmModel(c) : s?.model) ?? c.agent.model ?? 'Codex default'} · effort ${sb.options.effortOf(c.session) ?? 'Codex default'}`,
    `Thread: ${thread ?? 'none yet'}${s ? ` · ${s.turnRunning ? 'turn running' : 'idle'} · ${s.queued} queued` : ''}`,
    `Codex app-server: ${conn.state}${conn.serverVersion ? ` ${conn.serverVersion}` : ''} · restarts ${conn.restarts}${'members' in conn ? ` · pool of ${(conn as PoolStatus).members.length}` : ''}`,
    budgetText(sb.options, c.session),
  ]
    .filter((line): line is string => line !== undefined)
    .join('\n');
}
