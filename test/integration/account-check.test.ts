// The account check at start, against the real app-server: a CODEX_HOME with no login, no API
// key and no model provider of its own gets a startup warning (log, `startupWarnings`, the
// CLI's output) and a clear notice for a message, instead of a turn that loops
// "Reconnecting… 5/5"; the scripted-model sandbox (a provider that needs no OpenAI auth) gets none.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { createSupervisor, type Supervisor } from '../../src/supervisor/supervisor.js';
import { NO_ACCOUNT } from '../../src/supervisor/account-gate.js';
import type { RoomEvent } from '../../src/events/room-events.js';
import { processRegistry } from '../../src/process/registry.js';
import { say } from '../support/mock-model.js';
import { makeSandbox } from '../support/sandbox.js';
import { memoryLogger } from '../support/log.js';
import { processesWithEnv, waitFor } from '../support/procs.js';
import { runCli } from '../support/cli-proc.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  expect(processRegistry.list()).toEqual([]);
});

/** A world with no Codex account: an empty CODEX_HOME and HOME (no auth.json, no config). */
function unauthenticated() {
  const root = mkdtempSync(path.join(tmpdir(), 'sb-noauth-'));
  const dirs = { root, codexHome: path.join(root, 'codex-home'), home: path.join(root, 'home'), workspace: path.join(root, 'workspace') };
  for (const d of [dirs.codexHome, dirs.home, dirs.workspace]) mkdirSync(d);
  // Nothing from the machine's environment may log us in.
  const env = { CODEX_HOME: dirs.codexHome, HOME: dirs.home, OPENAI_API_KEY: '', CODEX_API_KEY: '' };
  cleanup.push(async () => {
    expect(await waitFor(() => processesWithEnv(`CODEX_HOME=${dirs.codexHome}`).length === 0, 5_000)).toBe(true);
    rmSync(root, { recursive: true, force: true });
  });
  return { ...dirs, env };
}

function supervisor(env: Record<string, string>, root: string, workspace: string) {
  const { log, records } = memoryLogger('info');
  const sb = createSupervisor(
    {
      appServer: { env },
      agents: { defaults: { cwd: workspace } },
      sessions: { bindingsDir: path.join(root, 'bindings') },
      storage: { kind: 'dataset', path: path.join(root, 'threads.db') },
    } as never,
    { log, baseDir: root, stateDir: root },
  );
  cleanup.push(() => sb.stop());
  const events: RoomEvent[] = [];
  sb.events$.subscribe((e) => events.push(e));
  return { sb, events, records };
}

const post = (sb: Supervisor, text: string) => sb.post({ room: 'lab', from: { id: 'ann', name: 'Ann' }, text });

describe('the Codex account check', () => {
  it('no login and no API key: a warning at start, and a clear notice for a message instead of a turn', async () => {
    const w = unauthenticated();
    const { sb, events, records } = supervisor(w.env, w.root, w.workspace);
    await sb.start();
    expect(sb.startupWarnings).toEqual([NO_ACCOUNT]);
    expect(records().filter((r) => r.msg === 'Codex account check: no login and no API key')).toHaveLength(1);

    await post(sb, 'hello?');
    expect(await waitFor(() => events.some((e) => e.type === 'turn.failed'), 5_000)).toBe(true);
    expect(events.filter((e) => e.type === 'notice').map((e) => (e as { text: string }).text)).toEqual([`The agent cannot answer: ${NO_ACCOUNT}.`]);
    // Slash commands still work; nothing was sent to a model.
    await post(sb, '/status');
    expect(await waitFor(() => events.some((e) => e.type === 'notice' && e.text.includes('Thread: none yet')), 5_000)).toBe(true);
    // A review is a turn too: refused the same way, and the account is readable text.
    await post(sb, '/codex review');
    expect(events.filter((e) => e.type === 'notice').at(-1)).toMatchObject({ level: 'error', text: `/codex review: the agent cannot run it: ${NO_ACCOUNT}` });
    await post(sb, '/codex account');
    expect(events.filter((e) => e.type === 'notice').at(-1)).toMatchObject({ text: expect.stringMatching(/^Account: not logged in \(run `codex login`\)\n/) });
    expect(events.some((e) => e.type === 'turn.started')).toBe(false);
    expect((sb.status().harnesses.codex as { accountWarning?: string }).accountWarning).toBe(NO_ACCOUNT);
  }, 60_000);

  it('the scripted-model sandbox counts as having a provider: no warning, the message runs', async () => {
    const box = await makeSandbox([say('fine')]);
    cleanup.push(async () => {
      await box.assertNoProcesses();
      await box.close();
    });
    const { sb, events, records } = supervisor(box.env, box.root, box.workspace);
    await sb.start();
    expect(sb.startupWarnings).toEqual([]);
    expect(records().some((r) => String(r.msg).startsWith('Codex account check: no login'))).toBe(false);
    await post(sb, 'hello');
    expect(await waitFor(() => events.some((e) => e.type === 'turn.completed'), 20_000)).toBe(true);
  }, 60_000);

  it('switchboard join prints the warning, and the room gets the notice', async () => {
    const w = unauthenticated();
    const state = path.join(w.root, 'state');
    const join = runCli(['join', '--room', 'lab', '--agent-name', 'bot', '--cwd', w.workspace, '--state-dir', state, '--owner-id', 'ann'], { env: w.env, cwd: w.root });
    cleanup.push(async () => {
      if (join.child.exitCode === null) {
        join.child.kill('SIGTERM');
        await join.exited;
      }
    });
    const [, url] = await join.waitFor(/serving room lab at (ws:\/\/\S+)/, 60_000);
    expect(join.stderr()).toContain(`warning: ${NO_ACCOUNT}`);
    const [, tokenFile] = await join.waitFor(/--token-file (\S+)/);
    const ws = new WebSocket(url!);
    cleanup.push(() => ws.terminate());
    const frames: Array<Record<string, unknown>> = [];
    ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Record<string, unknown>));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'join', token: readFileSync(tokenFile!, 'utf8').trim() }));
    expect(await waitFor(() => frames.some((f) => f.type === 'joined'), 10_000)).toBe(true);
    ws.send(JSON.stringify({ type: 'message', text: 'hello agent' }));
    const notice = () => frames.find((f) => f.type === 'event' && (f.event as { type: string; level?: string }).type === 'notice');
    expect(await waitFor(() => notice() !== undefined, 10_000)).toBe(true);
    expect((notice()!.event as { text: string }).text).toBe(`The agent cannot answer: ${NO_ACCOUNT}.`);
    join.child.kill('SIGTERM');
    expect(await join.exited).toBe(0);
  }, 90_000);
});
