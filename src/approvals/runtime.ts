// Live handles of an approval router (reviewers, the tool registry), kept out of machine
// context: the approval machine's default actors look them up by `runtimeId`.
import type { ToolRegistry } from './tools.js';
import type { Reviewer } from './types.js';

export interface ApprovalRuntime {
  reviewer(name: string): Reviewer | undefined;
  tools: ToolRegistry;
}

const runtimes = new Map<string, ApprovalRuntime>();

export const approvalRuntimes = {
  register(id: string, rt: ApprovalRuntime): void {
    if (runtimes.has(id)) throw new Error(`approval runtime "${id}" is already registered`);
    runtimes.set(id, rt);
  },
  get(id: string): ApprovalRuntime {
    const rt = runtimes.get(id);
    if (!rt) throw new Error(`no approval runtime registered as "${id}"`);
    return rt;
  },
  unregister(id: string): void {
    runtimes.delete(id);
  },
};
