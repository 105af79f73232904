// Shared setup of the backend security tests (issue 11): a supervisor over the real codex
// app-server and the scripted model, restartable on the same database and bindings.
import path from 'node:path';
import { firstValueFrom, filter } from 'rxjs';
import { expect } from 'vitest';
import { createSupervisor, type Supervisor } from '../../src/supervisor/supervisor.js';
import type { RoomEvent } from '../../src/events/room-events.js';
import { processRegistry } from '../../src/process/registry.js';
import type { Script } from '../support/mock-model.js';
import { makeSandbox, type Sandbox } from '../support/sandbox.js';
import { memoryLogger } from '../support/log.js';

export interface World {
  box: Sandbox;
  /** A supervisor on the world's database and bindings; stopped by `close`. */
  supervisor(config?: Record<string, unknown>): Promise<{ sb: Supervisor; events: RoomEvent[] }>;
  close(): Promise<void>;
}

export async function world(script: Script): Promise<World> {
  const box = await makeSandbox(script);
  const running: Supervisor[] = [];
  return {
    box,
    async supervisor(config = {}) {
      const { log } = memoryLogger('warn');
      const sb = createSupervisor(
        {
          appServer: { env: box.env, approvalPolicy: 'untrusted', sandbox: 'workspace-write' },
          agents: { defaults: { cwd: box.workspace, models: ['openai/gpt-a', 'openai/gpt-b'] } },
          sessions: { bindingsDir: path.join(box.root, 'bindings'), idleWatchdogSeconds: 60, onMessageDuringTurn: 'queue' },
          storage: { kind: 'dataset', path: path.join(box.root, 'threads.db') },
          approvals: { reviewer: 'user' },
          ...config,
        } as never,
        { log, baseDir: box.root, stateDir: box.root },
      );
      running.push(sb);
      const events: RoomEvent[] = [];
      sb.events$.subscribe((e) => events.push(e));
      await sb.start();
      return { sb, events };
    },
    async close() {
      for (const sb of running.splice(0)) await sb.stop();
      await box.assertNoProcesses();
      await box.close();
      expect(processRegistry.list()).toEqual([]);
    },
  };
}

export const next = <T extends RoomEvent['type']>(sb: Supervisor, type: T, pred: (e: Extract<RoomEvent, { type: T }>) => boolean = () => true): Promise<Extract<RoomEvent, { type: T }>> =>
  firstValueFrom(sb.events$.pipe(filter((e): e is Extract<RoomEvent, { type: T }> => e.type === type && pred(e as Extract<RoomEvent, { type: T }>))));

export const turnEnd = (sb: Supervisor): Promise<RoomEvent> =>
  firstValueFrom(sb.events$.pipe(filter((e) => e.type === 'turn.completed' || e.type === 'turn.failed' || e.type === 'turn.interrupted')));

export const notices = (events: RoomEvent[]): string[] => events.flatMap((e) => (e.type === 'notice' ? [e.text] : []));
