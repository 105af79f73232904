// Helpers the several-nodes tests share: which post a model request answers, and a bounded poll
// for conditions that span processes and a database (no actor to waitFor on).
import path from 'node:path';
import { expect } from 'vitest';
import type { RoomEvent } from '../../src/events/room-events.js';
import { processRegistry } from '../../src/process/registry.js';
import { createSupervisor, type Supervisor } from '../../src/supervisor/supervisor.js';
import { memoryLogger } from './log.js';
import { say, shell, type ResponsesRequest } from './mock-model.js';
import { makeSandbox, type Sandbox } from './sandbox.js';

/** The text of the last user message Codex sent the model (trimmed): which post a request answers. */
export function lastUserText(req: ResponsesRequest): string {
  const users = req.input.filter((i) => i.role === 'user');
  return ((users.at(-1)?.content ?? []) as Array<{ text?: string }>).map((c) => c.text ?? '').join('').trim();
}

/** Resolves with the first truthy value of `what` (sync or async), polled every 25 ms; throws after `ms`. */
export async function until<T>(what: () => T | undefined | false | Promise<T | undefined | false>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await what();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The model of the approval tests: each post asks to write a file named after it (an escalated command: a person must approve). */
export const writeFileNamedAfterPost = (req: ResponsesRequest) =>
  req.input.at(-1)?.type === 'function_call_output' ? say(`done ${lastUserText(req)}`) : shell(`echo x > ${lastUserText(req)}.txt`, { escalated: true });

export interface TestNode {
  node: string;
  sb: Supervisor;
  events: RoomEvent[];
}

/** What a cluster test opened (room servers and clients, the nodes, one sandbox): closed in reverse after each test, and no process may outlive it. */
export class ClusterTeardown {
  readonly supervisors: Supervisor[] = [];
  readonly closers: Array<() => Promise<void> | void> = [];
  box: Sandbox | undefined;

  /**
   * A sandbox running `script` as the model, and in-process supervisors on the database at `url`,
   * one per name, each with its own real app-server (lease TTL 2 s): started, and stopped by run().
   */
  async nodes(url: string, names: string[], script: Parameters<typeof makeSandbox>[0], extra: { appServer?: Record<string, unknown>; [key: string]: unknown } = {}): Promise<TestNode[]> {
    const box = (this.box = await makeSandbox(script));
    const { appServer, ...rest } = extra;
    const nodes = names.map((node) => {
      const { log } = memoryLogger('warn');
      const config = {
        appServer: { env: box.env, ...appServer },
        agents: { defaults: { cwd: box.workspace } },
        sessions: { idleWatchdogSeconds: 60 },
        storage: { kind: 'postgres', url },
        cluster: { node, leaseTtlMs: 2_000 },
        ...rest,
      };
      const sb = createSupervisor(config as never, { log, baseDir: box.root, stateDir: path.join(box.root, node) });
      this.supervisors.push(sb);
      const events: RoomEvent[] = [];
      sb.events$.subscribe((e) => events.push(e));
      return { node, sb, events };
    });
    await Promise.all(nodes.map((n) => n.sb.start()));
    return nodes;
  }

  async run(): Promise<void> {
    for (const c of this.closers.splice(0).reverse()) await c();
    for (const sb of this.supervisors.splice(0)) await sb.stop();
    await this.box?.assertNoProcesses();
    await this.box?.close();
    this.box = undefined;
    expect(processRegistry.list()).toEqual([]);
  }
}
