// A CODEX_HOME whose config points the real Codex binary at a scripted model on loopback.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function codexConfigFor(modelUrl: string, extraToml = '', rootToml = ''): string {
  // Retries off so a scripted failure shows at once instead of being retried away.
  return [
    'model = "mock-model"',
    'model_provider = "mock"',
    // Top-level keys must come before the first table.
    rootToml,
    '',
    '[model_providers.mock]',
    'name = "mock"',
    `base_url = ${JSON.stringify(`${modelUrl.replace(/\/$/, '')}/v1`)}`,
    'wire_api = "responses"',
    'request_max_retries = 0',
    'stream_max_retries = 0',
    '',
    extraToml,
  ].join('\n');
}

/** `extraToml` goes after the provider's table (more tables); `rootToml` holds top-level keys. */
export function makeCodexHome(opts: { modelUrl: string; extraToml?: string; rootToml?: string }): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-codex-home-'));
  writeFileSync(join(dir, 'config.toml'), codexConfigFor(opts.modelUrl, opts.extraToml, opts.rootToml));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
