// A throwaway CODEX_HOME whose config points the real Codex binary at a mock model provider,
// so integration tests never touch the user's config, auth or rollouts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CodexHome {
  dir: string;
  cleanup(): void;
}

export function makeCodexHome(opts: { modelUrl: string; extraToml?: string }): CodexHome {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-codex-home-'));
  // Retries off so a scripted failure shows up at once instead of being retried away.
  const toml = [
    'model = "mock-model"',
    'model_provider = "mock"',
    '',
    '[model_providers.mock]',
    'name = "mock"',
    `base_url = ${JSON.stringify(`${opts.modelUrl.replace(/\/$/, '')}/v1`)}`,
    'wire_api = "responses"',
    'request_max_retries = 0',
    'stream_max_retries = 0',
    '',
    opts.extraToml ?? '',
  ].join('\n');
  writeFileSync(join(dir, 'config.toml'), toml);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Absolute path of the repo's `node_modules/.bin/codex` (the real binary's launcher). */
export function codexBin(): string {
  return fileURLToPath(new URL('../../node_modules/.bin/codex', import.meta.url));
}
