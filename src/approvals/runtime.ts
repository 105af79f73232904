// Live handles of an approval router (reviewers, the tool registry), kept out of machine
// context: the approval machine's default actors look them up by `runtimeId`.
import type { ToolRegistry } from './tools.js';
import type { Reviewer } from './types.js';
import { liveRegistry } from '../util/live-registry.js';

export interface ApprovalRuntime {
  reviewer(name: string): Reviewer | undefined;
  tools: ToolRegistry;
}

export const approvalRuntimes = liveRegistry<ApprovalRuntime>('approval runtime');
