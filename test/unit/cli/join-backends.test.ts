// `join --backend/--model/--thread-storage`: wrong values and impossible combinations are usage
// errors (exit 2) that say what to write, found before anything starts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.js';

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function join(...args: string[]): Promise<{ code: number; stderr: string }> {
  const state = mkdtempSync(path.join(tmpdir(), 'sb-join-backends-'));
  dirs.push(state);
  let stderr = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  const code = await main(['node', 'switchboard', 'join', '--room', 'lab', '--agent-name', 'bot', '--state-dir', state, '--owner-id', 'ann', ...args]);
  return { code, stderr };
}

describe('join: backends and thread storage', () => {
  it('an unknown backend', async () => {
    expect(await join('--backend', 'pi')).toEqual({ code: 2, stderr: expect.stringContaining('--backend "pi": write llm or codex') });
  });

  it('an unknown thread storage', async () => {
    const r = await join('--thread-storage', 'sqlite');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--thread-storage.*sqlite/);
  });

  it('codex thread storage with a mixed-backend agent', async () => {
    const r = await join('--model', 'gpt-5.5', '--model', 'codex/gpt-5.5', '--thread-storage', 'codex');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/"codex" thread storage only supports the codex harness, but runtime "auto" is configured: use "dataset"/);
  });

  it('--thread-storage and --storage together', async () => {
    expect(await join('--thread-storage', 'none', '--storage', 'dataset')).toEqual({ code: 2, stderr: expect.stringContaining('--thread-storage and --storage both set the thread storage: give one') });
  });
});
