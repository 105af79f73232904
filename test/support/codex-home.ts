// Throwaway CODEX_HOME for integration tests (the product helper), and the repo's codex binary.
import { fileURLToPath } from 'node:url';
export { makeCodexHome } from '../../src/scripted-model/codex-home.js';

export interface CodexHome {
  dir: string;
  cleanup(): void;
}

/** Absolute path of the repo's `node_modules/.bin/codex` (the real binary's launcher). */
export function codexBin(): string {
  return fileURLToPath(new URL('../../node_modules/.bin/codex', import.meta.url));
}
