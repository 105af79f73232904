// A Supervisor on the real app-server in a sandbox (scripted model, its own CODEX_HOME, HOME and
// workspace), recording its room events; `stopSandboxSupervisors` (afterEach) stops every one
// and proves no process outlived it.
import path from 'node:path';
import { firstValueFrom, filter } from 'rxjs';
import { expect } from 'vitest';
import { createSupervisor, type Supervisor } from '../../src/supervisor/supervisor.js';
import type { RoomEvent } from '../../src/events/room-events.js';
import { processRegistry } from '../../src/process/registry.js';
import type { Script } from './mock-model.js';
import { makeSandbox, type Sandbox } from './sandbox.js';
import { memoryLogger } from './log.js';

const open: Array<{ sb: Supervisor; box: Sandbox }> = [];

export interface SandboxSupervisorOptions {
  /** config.toml lines for the model provider's section, and for the file's root. */
  extraToml?: string;
  rootToml?: string;
  /** Extra `agents.defaults` (e.g. `models`). */
  agentDefaults?: Record<string, unknown>;
}

export async function sandboxSupervisor(script: Script, opts: SandboxSupervisorOptions = {}): Promise<{ sb: Supervisor; box: Sandbox; events: RoomEvent[] }> {
  const box = await makeSandbox(script, opts.extraToml, opts.rootToml);
  const { log } = memoryLogger('info');
  const sb = createSupervisor(
    {
      appServer: { env: box.env },
      agents: { defaults: { cwd: box.workspace, ...opts.agentDefaults } },
      sessions: { bindingsDir: path.join(box.root, 'bindings'), idleWatchdogSeconds: 60 },
      storage: { kind: 'dataset', path: path.join(box.root, 'threads.db') },
    } as never,
    { log, baseDir: box.root, stateDir: path.join(box.root, 'state') },
  );
  open.push({ sb, box });
  const events: RoomEvent[] = [];
  sb.events$.subscribe((e) => events.push(e));
  await sb.start();
  return { sb, box, events };
}

/** A supervisor a test built itself in `box`: stopped (and its box checked) by `stopSandboxSupervisors`. */
export function stopAfterTest(sb: Supervisor, box: Sandbox): void {
  open.push({ sb, box });
}

export async function stopSandboxSupervisors(): Promise<void> {
  for (const { sb, box } of open.splice(0)) {
    await sb.stop();
    await box.assertNoProcesses();
    await box.close();
  }
  expect(processRegistry.list()).toEqual([]);
}

/** The event of type `T` (tool events share one member of the union). */
export type Ev<T extends RoomEvent['type']> = RoomEvent extends infer E ? (E extends { type: infer U } ? (T extends U ? E & { type: T } : never) : never) : never;

/** The next end of a turn. */
export type TurnEnd = Ev<'turn.completed' | 'turn.failed' | 'turn.interrupted'>;
export const turnEnded = (sb: Supervisor): Promise<TurnEnd> =>
  firstValueFrom(sb.events$.pipe(filter((e): e is TurnEnd => /^turn\.(completed|failed|interrupted)$/.test(e.type))));

/** Ann posts `text` in room `lab`. */
export const postAsAnn = (sb: Supervisor, text: string) => sb.post({ room: 'lab', from: { id: 'ann', name: 'Ann' }, text });

export const noticeTexts = (events: RoomEvent[]) => events.filter((e): e is Ev<'notice'> => e.type === 'notice').map((e) => e.text);
