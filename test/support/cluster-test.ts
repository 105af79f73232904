// Helpers the several-nodes tests share: which post a model request answers, and a bounded poll
// for conditions that span processes and a database (no actor to waitFor on).
import { expect } from 'vitest';
import { processRegistry } from '../../src/process/registry.js';
import type { Supervisor } from '../../src/supervisor/supervisor.js';
import type { ResponsesRequest } from './mock-model.js';
import type { Sandbox } from './sandbox.js';

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

/** What a cluster test opened (room servers and clients, the nodes, one sandbox): closed in reverse after each test, and no process may outlive it. */
export class ClusterTeardown {
  readonly supervisors: Supervisor[] = [];
  readonly closers: Array<() => Promise<void> | void> = [];
  box: Sandbox | undefined;

  async run(): Promise<void> {
    for (const c of this.closers.splice(0).reverse()) await c();
    for (const sb of this.supervisors.splice(0)) await sb.stop();
    await this.box?.assertNoProcesses();
    await this.box?.close();
    this.box = undefined;
    expect(processRegistry.list()).toEqual([]);
  }
}
