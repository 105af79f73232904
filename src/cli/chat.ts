// `switchboard chat`: a terminal client of the room server.
//
// Joins a room (src/room/protocol.ts), prints the room's history, then live events: the
// assistant's answer streamed as it arrives, one line per tool event, notices, and how each
// turn ended. Approval prompts are answered with one key (raw mode on a TTY; a line when
// stdin is not a terminal). Every other typed line is posted (slash commands included: the
// room's host handles them). `/quit` or Ctrl-D leaves.
//
// Identity comes from a credential: `--token-file F`, $SWITCHBOARD_ROOM_TOKEN_FILE or
// $SWITCHBOARD_ROOM_TOKEN (a flag `--token` works too, but shows in the process list). With
// a signed token the join carries no participant: the server reads id, name and role from
// the token. `--room`/`--id`/`--name` are only for shared-token and open demo servers.
//
// When the connection drops or the server restarts, chat shows it is offline, reconnects
// with capped exponential backoff and jitter, and resumes without printing anything twice;
// after `--give-up-after` it exits 1. A refused credential (4401/4403) is not retried.
//
// Exit codes: 0 left normally, 1 the connection was lost for good, 2 usage error or cannot
// connect, 3 the join was refused (bad, expired or missing credential), 130 Ctrl-C.
import { connectAndJoin, backoffDelay, DEFAULT_BACKOFF, DEFAULT_TIMEOUTS, type Backoff, type Failure, type LinkTimeouts } from './chat-link.js';
import { ChatExit, ChatSession } from './chat-session.js';
import { Terminal } from './chat-terminal.js';
import { colorWanted, makeStyle } from './chat-render.js';
import { sanitize } from './chat-sanitize.js';
import { buildJoin, formatDuration, resolveToken, UsageProblem } from './chat-options.js';

export { ChatExit } from './chat-session.js';

export interface ChatOptions {
  /** Room to join (shared/open servers; with a signed token, optional and checked against it). */
  room?: string;
  /** Room server URL, as printed by `switchboard room serve` / `join` (default: $SWITCHBOARD_ROOM_URL). */
  url?: string;
  /** Room credential (visible in the process list: prefer tokenFile or the environment). */
  token?: string;
  /** File holding the room credential (default: $SWITCHBOARD_ROOM_TOKEN_FILE). */
  tokenFile?: string;
  /** Display name (shared/open servers only). */
  name?: string;
  /** Participant id (shared/open servers only; default: $USER, else "you"). */
  id?: string;
  /** Channel messages go to; also limits history and live events to it (default: chat). */
  channel?: string;
  /** Thread messages go to; also limits history and live events to it (default: main). */
  thread?: string;
  /** Stop reconnecting after this long offline (ms; default 5 minutes). */
  giveUpAfterMs?: number;
  /** Reconnect backoff (tests shorten it). */
  backoff?: Backoff;
  timeouts?: LinkTimeouts;
}

export interface ChatIO {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Where fatal errors (cannot connect, refused) go; default: `output` when io is given, else stderr. */
  errors?: NodeJS.WritableStream;
  env?: NodeJS.ProcessEnv;
}

const DEFAULT_GIVE_UP_MS = 5 * 60_000;

export async function chatCommand(opts: ChatOptions, io?: ChatIO): Promise<number> {
  const input = io?.input ?? process.stdin;
  const output = io?.output ?? process.stdout;
  const errors = io?.errors ?? (io ? output : process.stderr);
  const env = io?.env ?? process.env;
  const style = makeStyle(colorWanted(output, env));
  const errStyle = makeStyle(colorWanted(errors, env));
  // Fatal messages can quote the server (a close reason): sanitized like everything else.
  const fail = (code: number, text: string): number => {
    errors.write(`${errStyle.red(sanitize(text))}\n`);
    return code;
  };

  let url: string;
  let join: Record<string, unknown>;
  try {
    url = opts.url ?? env.SWITCHBOARD_ROOM_URL ?? '';
    if (!url) throw new UsageProblem('no room server URL: pass --url ws://HOST:PORT (printed by `switchboard room serve` or `switchboard join`) or set SWITCHBOARD_ROOM_URL');
    if (!/^wss?:\/\/[^\s]+$/i.test(url)) throw new UsageProblem(`--url must be a ws:// or wss:// URL, got "${url}"`);
    join = buildJoin(opts, resolveToken(opts, env), env);
  } catch (err) {
    if (err instanceof UsageProblem) return fail(ChatExit.usage, err.message);
    throw err;
  }
  const giveUpAfter = opts.giveUpAfterMs ?? DEFAULT_GIVE_UP_MS;
  const timeouts = opts.timeouts ?? DEFAULT_TIMEOUTS;

  // The first connection must work: a wrong URL is a usage error, not something to wait out.
  const first = await connectAndJoin(url, join, timeouts);
  if (!('ws' in first)) {
    if (first.kind === 'refused') return fail(ChatExit.refused, first.text);
    if (first.kind === 'usage' || (first.kind === 'transient' && first.unreachable)) return fail(ChatExit.cannotConnect, first.text);
    return fail(ChatExit.lost, first.text);
  }

  const interactive = Boolean((input as Partial<NodeJS.ReadStream>).isTTY && (output as Partial<NodeJS.WriteStream>).isTTY);
  const term = new Terminal(input, output, interactive, style);
  const session = new ChatSession(term, { room: typeof join.room === 'string' ? join.room : undefined, channel: opts.channel, thread: opts.thread, interactive });
  session.onDrop = (f) => void reconnect(session, f, { url, join, giveUpAfter, timeouts, backoff: opts.backoff ?? DEFAULT_BACKOFF });
  session.attach(first);
  return session.done;
}

interface ReconnectPlan {
  url: string;
  join: Record<string, unknown>;
  giveUpAfter: number;
  timeouts: LinkTimeouts;
  backoff: Backoff;
}

/** Offline until a rejoin works, the credential is refused, or the give-up time passes. */
async function reconnect(session: ChatSession, dropped: Failure, plan: ReconnectPlan): Promise<void> {
  const since = Date.now();
  let why = dropped.text;
  let retryAfter = dropped.kind === 'transient' ? dropped.retryAfterMs : undefined;
  for (let attempt = 0; !session.finished; attempt++) {
    const left = plan.giveUpAfter - (Date.now() - since);
    if (left <= 0) {
      session.end(ChatExit.lost, `✗ gave up reconnecting after ${formatDuration(plan.giveUpAfter)} offline (${why}); exiting`);
      return;
    }
    const wait = Math.min(left, Math.max(retryAfter ?? 0, backoffDelay(attempt, plan.backoff)));
    session.offline(`· offline: ${why}; reconnecting in ${(wait / 1000).toFixed(1)}s (attempt ${attempt + 1})`);
    await sleepUnless(wait, () => session.finished);
    if (session.finished) return;
    const resume = session.resume.resumeFrame();
    const r = await connectAndJoin(plan.url, { ...plan.join, ...(resume ? { resume } : {}) }, plan.timeouts);
    if ('ws' in r) {
      session.attach(r);
      return;
    }
    if (r.kind === 'refused') return session.end(ChatExit.refused, r.text);
    if (r.kind === 'usage') return session.end(ChatExit.usage, r.text);
    why = r.text;
    retryAfter = r.retryAfterMs;
  }
}

/** Sleeps, checking every so often whether the session ended (then returns at once). */
async function sleepUnless(ms: number, stop: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (!stop() && Date.now() < end) await new Promise((r) => setTimeout(r, Math.min(100, end - Date.now())));
}
