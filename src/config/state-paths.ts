// Where the conversation state lives: `storage.path` and `sessions.bindingsDir` relative to the
// state directory (absolute values as given), never the agent's cwd, which is a workspace
// shared with Codex and often a repository. Every consumer resolves them here.
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { SwitchboardConfig } from './schema.js';
import { resolveStateDir } from './state-dir.js';

export interface StatePaths {
  stateDir: string;
  /** Thread bindings, one directory per agent. */
  bindingsDir: string;
  /** The thread store's file: the dataset (kind "dataset"), or owners and thread rooms beside the bindings. */
  storageFile: string;
}

export class StateDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateDirError';
  }
}

/** Both state paths of a configuration; the state directory defaults to the user's (resolveStateDir). */
export function resolveStatePaths(config: Pick<SwitchboardConfig, 'storage' | 'sessions'>, stateDir = resolveStateDir()): StatePaths {
  const dir = path.resolve(stateDir);
  const bindingsDir = path.resolve(dir, config.sessions.bindingsDir);
  const s = config.storage;
  return { stateDir: dir, bindingsDir, storageFile: s.kind === 'dataset' ? path.resolve(dir, s.path) : path.join(bindingsDir, 'sessions.json') };
}

function inside(dir: string, p: string): boolean {
  const rel = path.relative(dir, p);
  return rel === '' || (rel.split(path.sep)[0] !== '..' && !path.isAbsolute(rel));
}

const reason = (err: unknown) => (err as NodeJS.ErrnoException).code ?? (err as Error).message;

/**
 * Creates the state directory (0700, only its owner reads conversations) when a state path
 * lies inside it, and checks it is a writable directory. A state kept elsewhere entirely
 * (absolute paths) leaves it alone. Throws a StateDirError naming the path.
 */
export function prepareStateDir(paths: StatePaths): void {
  const dir = paths.stateDir;
  if (!inside(dir, paths.bindingsDir) && !inside(dir, paths.storageFile)) return;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new StateDirError(`cannot create the state directory ${dir} (${reason(err)}); choose another with --state-dir (stateDir when embedding)`);
  }
  try {
    if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw new StateDirError(`the state directory ${dir} is not writable (${reason(err)}); fix its permissions or choose another with --state-dir (stateDir when embedding)`);
  }
}

/**
 * State an earlier version wrote into the working directory (`.switchboard/`), which is no
 * longer read: what to tell the user, if any is there and the state directory has none yet.
 */
export function legacyStateNotice(paths: StatePaths, cwd: string): string | undefined {
  const legacy = path.join(cwd, '.switchboard');
  const found = ['threads.db', 'bindings'].filter((f) => existsSync(path.join(legacy, f)));
  if (found.length === 0 || inside(legacy, paths.storageFile) || existsSync(paths.storageFile)) return undefined;
  return `found conversation state from an earlier version in ${legacy} (${found.join(', ')}); it is no longer read. To keep it: mv ${found.map((f) => path.join(legacy, f)).join(' ')} ${paths.stateDir}/`;
}
