// Default app-server command: `codex` on PATH, else the one our devDependency installed.
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const isExecutable = (file: string): boolean => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

function onPath(name: string, envPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function inNodeModules(name: string, from: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = path.join(dir, 'node_modules', '.bin', name);
    if (isExecutable(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

const packageDir = path.dirname(fileURLToPath(import.meta.url));

/** Resolve the codex binary; returns the bare name when nothing is found (spawn reports ENOENT). */
export function resolveCodexCommand(explicit?: string): string {
  if (explicit) return explicit;
  return onPath('codex') ?? inNodeModules('codex', process.cwd()) ?? inNodeModules('codex', packageDir) ?? 'codex';
}

export const DEFAULT_APP_SERVER_ARGS = ['app-server', '--listen', 'stdio://'];
