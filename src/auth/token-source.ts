// A credential from a flag, a file, or the environment. Files and env are preferred: a flag
// is visible to every user in the process list.
import { readFileSync } from 'node:fs';

export interface TokenSources {
  token?: string;
  tokenFile?: string;
  env?: NodeJS.ProcessEnv;
}

export class TokenSourceError extends Error {}

/** The token and where it came from, or undefined when none is given. Throws naming the flag/var. */
export function readToken(s: TokenSources): { token: string; from: string } | undefined {
  const env = s.env ?? process.env;
  const fromFile = (file: string, from: string) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new TokenSourceError(`${from}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    if (!text) throw new TokenSourceError(`${from}: ${file} is empty`);
    return { token: text, from };
  };
  if (s.token !== undefined) {
    if (!s.token.trim()) throw new TokenSourceError('--token is empty');
    return { token: s.token.trim(), from: '--token' };
  }
  if (s.tokenFile !== undefined) return fromFile(s.tokenFile, '--token-file');
  if (env.SWITCHBOARD_ROOM_TOKEN) return { token: env.SWITCHBOARD_ROOM_TOKEN.trim(), from: 'SWITCHBOARD_ROOM_TOKEN' };
  if (env.SWITCHBOARD_ROOM_TOKEN_FILE) return fromFile(env.SWITCHBOARD_ROOM_TOKEN_FILE, 'SWITCHBOARD_ROOM_TOKEN_FILE');
  return undefined;
}
