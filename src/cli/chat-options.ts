// The join frame of `switchboard chat`, and where its credential comes from.
import { readFileSync, statSync } from 'node:fs';
import { checkName, UsageProblem } from './options.js';
import { sanitize } from './chat-sanitize.js';

export { UsageProblem, formatDuration } from './options.js';

export interface ChatIdentityOptions {
  room?: string;
  token?: string;
  tokenFile?: string;
  name?: string;
  id?: string;
  channel?: string;
  thread?: string;
}

const MAX_TOKEN = 8192;
const MAX_TOKEN_FILE = 16 * 1024;

function readTokenFile(file: string, from: string): string {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new UsageProblem(`${from}: "${file}" is not a regular file: give the file the token was written to`);
    size = st.size;
  } catch (err) {
    if (err instanceof UsageProblem) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageProblem(`${from}: cannot read "${file}" (${code === 'ENOENT' ? 'no such file' : (code ?? 'error')}): give the file the token was written to`);
  }
  if (size > MAX_TOKEN_FILE) throw new UsageProblem(`${from}: "${file}" is ${size} bytes; a token file holds one token (at most ${MAX_TOKEN_FILE} bytes)`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageProblem(`${from}: cannot read "${file}" (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return checkToken(text.trim(), from);
}

function checkToken(token: string, from: string): string {
  if (!token) throw new UsageProblem(`${from}: the token is empty`);
  if (token.length > MAX_TOKEN) throw new UsageProblem(`${from}: the token is longer than ${MAX_TOKEN} characters`);
  if (/[\s\x00-\x1f\x7f-\x9f]/.test(token)) throw new UsageProblem(`${from}: the token contains spaces or control characters`);
  return token;
}

/**
 * The credential: `--token` or `--token-file` (flags win), else $SWITCHBOARD_ROOM_TOKEN_FILE
 * or $SWITCHBOARD_ROOM_TOKEN. Two sources at the same level are ambiguous: refused.
 */
export function resolveToken(o: ChatIdentityOptions, env: NodeJS.ProcessEnv): string | undefined {
  if (o.token !== undefined && o.tokenFile !== undefined) throw new UsageProblem('--token and --token-file: give one of them (prefer --token-file: a flag shows in the process list)');
  if (o.token !== undefined) return checkToken(o.token.trim(), '--token');
  if (o.tokenFile !== undefined) return readTokenFile(o.tokenFile, '--token-file');
  const file = env.SWITCHBOARD_ROOM_TOKEN_FILE || undefined;
  const value = env.SWITCHBOARD_ROOM_TOKEN || undefined;
  if (file && value) throw new UsageProblem('SWITCHBOARD_ROOM_TOKEN and SWITCHBOARD_ROOM_TOKEN_FILE are both set: unset one');
  if (file) return readTokenFile(file, 'SWITCHBOARD_ROOM_TOKEN_FILE');
  if (value) return checkToken(value.trim(), 'SWITCHBOARD_ROOM_TOKEN');
  return undefined;
}

/** A signed participant credential (a JWT: three base64url parts) names the participant itself. */
const isSignedToken = (token: string): boolean => /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);

/** A participant id from $USER: the protocol allows no slashes or spaces. */
function defaultId(env: NodeJS.ProcessEnv): string {
  const user = (env.USER ?? env.USERNAME ?? '').replace(/[/\s\x00-\x1f\x7f-\x9f]+/g, '-').slice(0, 200);
  return user || 'you';
}

/**
 * The join frame. Signed token: no participant (the server takes id, name and role from the
 * token; `--room`, when given, must match it). Shared-token or open demo servers: the room and
 * the participant come from the flags.
 */
export function buildJoin(o: ChatIdentityOptions, token: string | undefined, env: NodeJS.ProcessEnv): Record<string, unknown> {
  try {
    if (o.room !== undefined) checkName(o.room, '--room');
    if (o.id !== undefined) checkName(o.id, '--id');
    if (o.channel !== undefined) checkName(o.channel, '--channel');
    if (o.thread !== undefined) checkName(o.thread, '--thread');
  } catch (err) {
    throw new UsageProblem(`invalid chat options: ${(err as Error).message}`);
  }
  // A thread lives in a channel: with --thread alone, the channel posted to (chat).
  const where = { ...(o.channel || o.thread ? { channel: o.channel ?? 'chat' } : {}), ...(o.thread ? { thread: o.thread } : {}) };
  if (token && isSignedToken(token)) {
    if (o.id !== undefined || o.name !== undefined) {
      throw new UsageProblem(`${o.id !== undefined ? '--id' : '--name'}: a signed token already names you; --id and --name are only for shared-token and open demo servers`);
    }
    return { type: 'join', token, ...(o.room ? { room: o.room } : {}), ...where };
  }
  if (!o.room) throw new UsageProblem('--room: which room? (a signed token names its room; without one, pass --room)');
  const name = o.name !== undefined ? sanitize(o.name).trim().slice(0, 200) : undefined;
  if (o.name !== undefined && !name) throw new UsageProblem('--name: write a display name (printable characters)');
  return {
    type: 'join',
    room: o.room,
    participant: { id: o.id ?? defaultId(env), ...(name ? { name } : {}), role: 'owner' },
    ...(token ? { token } : {}),
    ...where,
  };
}
