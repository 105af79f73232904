// IO of the approval machine, as XState actors. Tests (and hosts) replace them with
// `approvalMachine.provide({ actors: { review, runTool } })`.
import { fromPromise } from 'xstate';
import { approvalRuntimes } from './runtime.js';
import type { ToolCallOutcome } from './tools.js';
import type { ApprovalRequest, ReviewContext } from './types.js';

export interface ReviewActorInput {
  runtimeId: string;
  reviewer: string;
  request: ApprovalRequest;
  session: string | undefined;
  expiresAt: number | undefined;
  escalatedFrom: ReviewContext['escalatedFrom'];
}

/** Ask one reviewer. Resolves with whatever it returned: the machine validates it. */
export const reviewActor = fromPromise<unknown, ReviewActorInput>(async ({ input, signal }) => {
  const reviewer = approvalRuntimes.get(input.runtimeId).reviewer(input.reviewer);
  if (!reviewer) throw new Error(`no reviewer named "${input.reviewer}"`);
  return reviewer.review(input.request, {
    signal,
    session: input.session,
    expiresAt: input.expiresAt,
    escalatedFrom: input.escalatedFrom,
  });
});

export interface ToolActorInput {
  runtimeId: string;
  request: ApprovalRequest;
}

/** Run a host-registered dynamic tool; the signal aborts it on timeout or withdrawal. */
export const toolActor = fromPromise<ToolCallOutcome, ToolActorInput>(async ({ input, signal }) => {
  const p = input.request.params as { namespace?: string | null; tool: string; arguments: unknown; threadId: string; turnId: string; callId: string };
  return approvalRuntimes.get(input.runtimeId).tools.call(
    { namespace: p.namespace, tool: p.tool, arguments: p.arguments, threadId: p.threadId, turnId: p.turnId, callId: p.callId },
    signal,
  );
});
