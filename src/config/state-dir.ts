// Where Switchboard keeps per-user state (the room secret, minted owner credentials).
// Never the agent's cwd: a workspace is shared with Codex and often with a repository.
import { homedir } from 'node:os';
import path from 'node:path';

export function resolveStateDir(opts: { flag?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const env = opts.env ?? process.env;
  if (opts.flag) return path.resolve(opts.flag);
  const xdg = env.XDG_STATE_HOME;
  // The XDG spec says a relative value is invalid and must be ignored.
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'switchboard');
  return path.join(env.HOME || homedir(), '.local', 'state', 'switchboard');
}
