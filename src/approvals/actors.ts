// IO of the approval machine, as XState actors built over live handles. The router provides
// them with `approvalMachine.provide({ actors })` (closures over its reviewers and tool
// registry); tests provide fakes the same way. No registry: nothing here is global.
import { fromPromise } from 'xstate';
import type { ToolCallOutcome, ToolRegistry } from './tools.js';
import type { ApprovalRequest, ReviewContext, Reviewer } from './types.js';

export interface ReviewActorInput {
  reviewer: string;
  request: ApprovalRequest;
  session: string | undefined;
  expiresAt: number | undefined;
  escalatedFrom: ReviewContext['escalatedFrom'];
}

export interface ToolActorInput {
  request: ApprovalRequest;
}

/** Ask one reviewer (looked up by name). Resolves with whatever it returned: the machine validates it. */
export const reviewActor = (reviewerNamed: (name: string) => Reviewer | undefined) =>
  fromPromise<unknown, ReviewActorInput>(async ({ input, signal }) => {
    const reviewer = reviewerNamed(input.reviewer);
    if (!reviewer) throw new Error(`no reviewer named "${input.reviewer}"`);
    return reviewer.review(input.request, { signal, session: input.session, expiresAt: input.expiresAt, escalatedFrom: input.escalatedFrom });
  });

/** Run a host-registered dynamic tool; the signal aborts it on timeout or withdrawal. */
export const toolActor = (tools: ToolRegistry) =>
  fromPromise<ToolCallOutcome, ToolActorInput>(async ({ input, signal }) => {
    const p = input.request.params as { namespace?: string | null; tool: string; arguments: unknown; threadId: string; turnId: string; callId: string };
    return tools.call({ namespace: p.namespace, tool: p.tool, arguments: p.arguments, threadId: p.threadId, turnId: p.turnId, callId: p.callId }, signal);
  });
