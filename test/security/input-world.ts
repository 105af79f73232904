// Shared setup of the input tests (issue 11 #4, #6): a supervisor over the real codex
// app-server and the scripted model in a sandbox, stopped and checked for leftovers after
// each test.
import path from 'node:path';
import { firstValueFrom, filter } from 'rxjs';
import { expect } from 'vitest';
import { createSupervisor, type Supervisor } from '../../src/supervisor/supervisor.js';
import type { RoomEvent } from '../../src/events/room-events.js';
import { processRegistry } from '../../src/process/registry.js';
import type { Script } from '../support/mock-model.js';
import { makeSandbox, type Sandbox } from '../support/sandbox.js';
import { memoryLogger } from '../support/log.js';

const worlds: Array<{ sb: Supervisor; box: Sandbox }> = [];

/** A supervisor in a fresh sandbox; `config` replaces the default configuration. */
export async function world(script: Script, config?: (box: Sandbox) => Record<string, unknown>) {
  const box = await makeSandbox(script);
  const { log } = memoryLogger('warn');
  const base = {
    appServer: { env: box.env },
    agents: { defaults: { cwd: box.workspace } },
    sessions: { bindingsDir: path.join(box.root, 'bindings'), idleWatchdogSeconds: 120 },
    storage: { kind: 'dataset', path: path.join(box.root, 'threads.db') },
  };
  const sb = createSupervisor((config ? config(box) : base) as never, { log, baseDir: box.root, stateDir: box.root });
  worlds.push({ sb, box });
  const events: RoomEvent[] = [];
  sb.events$.subscribe((e) => events.push(e));
  return { sb, box, events };
}

/** For afterEach: stop every supervisor, check nothing it started survives, remove the sandboxes. */
export async function closeWorlds(): Promise<void> {
  for (const { sb, box } of worlds.splice(0)) {
    await sb.stop();
    await box.assertNoProcesses();
    await box.close();
  }
  expect(processRegistry.list()).toEqual([]);
}

export const turnEnd = (sb: Supervisor): Promise<RoomEvent> =>
  firstValueFrom(sb.events$.pipe(filter((e) => e.type === 'turn.completed' || e.type === 'turn.failed' || e.type === 'turn.interrupted')));
