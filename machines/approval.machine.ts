// The approval actor: one server request, from classification to its answer.
//
//   classifying ─┬─ (unsupported / malformed) ─────────────────────────────→ done
//                └→ pending(reviewing → escalated | runningTool) ─ answer ──→ done
//                      ├─ approvalTimeout (per kind) → fail-closed answer ──→ done
//                      └─ WITHDRAW (resolved elsewhere, turn ended, lost) ──→ withdrawn
//
// `done` always carries an answer; `withdrawn` never does (nothing may be sent). A reviewer
// that throws, returns garbage, or picks a decision Codex did not offer yields the denial.
// The reviewers, the tools and the clock are provided by the owner (ApprovalRouter) with
// `approvalMachine.provide(...)`; unprovided, every review fails and so is denied.
import { assign, emit, fromPromise, setup } from 'xstate';
import type { ReviewActorInput, ToolActorInput } from '../src/approvals/actors.js';
import { answerFor, classifyServerRequest, denialVerdict } from '../src/approvals/classify.js';
import { auditOutput, errorText, fromVerdict, resultOf, type ApprovalEmitted, type Result } from '../src/approvals/outcome.js';
import type { ToolCallOutcome } from '../src/approvals/tools.js';
import {
  DEFAULT_APPROVAL_TIMEOUTS,
  ReviewResultSchema,
  isEscalation,
  type ApprovalKind,
  type ApprovalOutput,
  type ApprovalRequest,
  type ApprovalTimeouts,
  type RequestHints,
  type ServerRequestData,
} from '../src/approvals/types.js';

export interface ApprovalMachineInput {
  approvalId: string;
  /** When the request arrived (the owner's clock); deadlines count from here. */
  startedAt: number;
  request: ServerRequestData;
  /** The first reviewer to ask (`user`, `policy`, or a host's own). */
  reviewer: string;
  /** Who is asked when a reviewer escalates; undefined = escalation is a denial. */
  escalateTo?: string | undefined;
  /** Room session of the request's thread (the user reviewer posts there). */
  session?: string | undefined;
  timeouts?: Partial<ApprovalTimeouts>;
  hints?: RequestHints;
}

export interface ApprovalContext {
  approvalId: string;
  raw: ServerRequestData;
  hints: RequestHints;
  session: string | undefined;
  timeouts: ApprovalTimeouts;
  /** The reviewer being asked now, and everyone asked so far. */
  reviewer: string;
  escalateTo: string | undefined;
  reviewers: string[];
  escalatedFrom: { reviewer: string; reason: string } | undefined;
  /** Classification: set on entry to `classifying`. */
  kind: ApprovalKind | undefined;
  title: string;
  route: 'review' | 'tool' | 'immediate';
  request: ApprovalRequest | undefined;
  timeoutMs: number;
  startedAt: number;
  expiresAt: number | undefined;
  /** Stamped on entering a final state by the provided `stampFinish` (the owner's clock). */
  finishedAt: number;
  result: Result | undefined;
}

export type ApprovalEvent = { type: 'WITHDRAW'; reason: string };
export type { ApprovalEmitted };

/** What a reviewer actor gets; `escalatedFrom` is set only once a reviewer escalated. */
const reviewInput = (context: ApprovalContext): ReviewActorInput => ({
  reviewer: context.reviewer,
  request: context.request!,
  session: context.session,
  expiresAt: context.expiresAt,
  escalatedFrom: context.escalatedFrom,
});

export const approvalMachine = setup({
  types: {
    context: {} as ApprovalContext,
    events: {} as ApprovalEvent,
    input: {} as ApprovalMachineInput,
    output: {} as ApprovalOutput,
    emitted: {} as ApprovalEmitted,
  },
  // Placeholders: the owner provides the live ones. A missing reviewer means a denial.
  actors: {
    review: fromPromise<unknown, ReviewActorInput>(() => Promise.reject(new Error('no reviewers were provided'))),
    runTool: fromPromise<ToolCallOutcome, ToolActorInput>(() => Promise.reject(new Error('no tools were provided'))),
  },
  delays: {
    // One named delay; its length depends on the kind (a question waits longer than a tool).
    approvalTimeout: ({ context }) => context.timeoutMs,
  },
  guards: {
    isImmediate: ({ context }) => context.route === 'immediate',
    isTool: ({ context }) => context.route === 'tool',
    canEscalate: ({ context }, params: { output: unknown }) =>
      isEscalation(params.output) && context.escalateTo !== undefined && !context.reviewers.includes(context.escalateTo),
    isEscalation: (_, params: { output: unknown }) => isEscalation(params.output),
  },
  actions: {
    classify: assign(({ context }) => {
      const c = classifyServerRequest(context.approvalId, context.raw, context.hints);
      if (c.type === 'immediate') {
        return {
          route: 'immediate' as const,
          kind: c.kind,
          title: c.title,
          result: { answer: c.answer, outcome: 'denied' as const, decision: undefined, by: 'switchboard', reason: c.reason, failClosed: true },
        };
      }
      const timeoutMs = context.timeouts[c.request.kind];
      return {
        route: c.type,
        kind: c.request.kind,
        title: c.request.title,
        request: c.request,
        timeoutMs,
        expiresAt: context.startedAt + timeoutMs,
      };
    }),
    escalate: assign(({ context }, params: { output: unknown }) => {
      const reason = isEscalation(params.output) ? params.output.reason : 'escalated';
      const next = context.escalateTo!;
      return { reviewer: next, reviewers: [...context.reviewers, next], escalatedFrom: { reviewer: context.reviewer, reason } };
    }),
    applyDecision: assign(({ context }, params: { output: unknown }) => {
      const method = context.raw.method;
      if (isEscalation(params.output)) {
        const why = `${context.reviewer} escalated (${params.output.reason}) and nobody else can decide`;
        return { result: fromVerdict(denialVerdict(method, why), undefined, context.reviewer) };
      }
      const parsed = ReviewResultSchema.safeParse(params.output);
      if (!parsed.success || isEscalation(parsed.data)) {
        return { result: fromVerdict(denialVerdict(method, `${context.reviewer} returned an invalid decision`), undefined, context.reviewer) };
      }
      const decision = parsed.data;
      const verdict = answerFor(context.request!, decision);
      return { result: fromVerdict(verdict, decision.choice, decision.by ?? context.reviewer) };
    }),
    applyToolResult: assign((_, params: { output: ToolCallOutcome }) => ({
      result: {
        answer: { result: params.output.result },
        outcome: params.output.result.success ? ('answered' as const) : ('denied' as const),
        decision: params.output.result.success ? 'success' : 'failure',
        by: 'tool',
        reason: params.output.reason,
        failClosed: params.output.failClosed,
      },
    })),
    denyFailure: assign(({ context }, params: { error: unknown; by: string }) => ({
      result: fromVerdict(denialVerdict(context.raw.method, `${params.by} failed: ${errorText(params.error)}`), undefined, params.by),
    })),
    denyTimeout: assign(({ context }) => ({
      result: fromVerdict(denialVerdict(context.raw.method, `no decision within ${context.timeoutMs} ms`), 'timeout', 'timeout'),
    })),
    recordWithdrawn: assign((_, params: { reason: string }) => ({
      result: { answer: undefined, outcome: 'withdrawn' as const, decision: undefined, by: 'codex', reason: params.reason, failClosed: false },
    })),
    // Without a provided clock no time passes: the owner provides its own `now`.
    stampFinish: assign(({ context }) => ({ finishedAt: context.startedAt })),
    announceReview: emit(({ context }) => ({
      type: 'approval.requested' as const,
      approvalId: context.approvalId,
      reviewer: context.reviewer,
      kind: context.kind!,
      title: context.title,
      choices: context.request?.choices ?? [],
      expiresAt: context.expiresAt,
      escalatedFrom: context.escalatedFrom,
    })),
    announceResolved: emit(({ context }) => {
      const r = resultOf(context);
      return { type: 'approval.resolved' as const, approvalId: context.approvalId, outcome: r.outcome, decision: r.decision, by: r.by, failClosed: r.failClosed };
    }),
    announceAudit: emit(({ context }) => ({ type: 'approval.audit' as const, audit: auditOutput(context).audit })),
  },
}).createMachine({
  id: 'approval',
  context: ({ input }) => ({
    approvalId: input.approvalId,
    raw: input.request,
    hints: input.hints ?? {},
    session: input.session,
    timeouts: { ...DEFAULT_APPROVAL_TIMEOUTS, ...input.timeouts },
    reviewer: input.reviewer,
    escalateTo: input.escalateTo,
    reviewers: [input.reviewer],
    escalatedFrom: undefined,
    kind: undefined,
    title: input.request.method,
    route: 'immediate',
    request: undefined,
    timeoutMs: 0,
    startedAt: input.startedAt,
    expiresAt: undefined,
    finishedAt: input.startedAt,
    result: undefined,
  }),
  initial: 'classifying',
  states: {
    classifying: {
      entry: 'classify',
      always: [{ guard: 'isImmediate', target: 'done' }, { guard: 'isTool', target: 'pending.runningTool' }, { target: 'pending.reviewing' }],
    },
    pending: {
      // Entered directly into reviewing or runningTool by `classifying`.
      initial: 'reviewing',
      after: { approvalTimeout: { target: 'done', actions: 'denyTimeout' } },
      on: {
        WITHDRAW: { target: 'withdrawn', actions: { type: 'recordWithdrawn', params: ({ event }) => ({ reason: event.reason }) } },
      },
      states: {
        reviewing: {
          entry: 'announceReview',
          invoke: {
            id: 'reviewer',
            src: 'review',
            input: ({ context }) => reviewInput(context),
            onDone: [
              {
                guard: { type: 'canEscalate', params: ({ event }) => ({ output: event.output }) },
                target: 'escalated',
                actions: { type: 'escalate', params: ({ event }) => ({ output: event.output }) },
              },
              { target: '#approval.done', actions: { type: 'applyDecision', params: ({ event }) => ({ output: event.output }) } },
            ],
            onError: {
              target: '#approval.done',
              actions: { type: 'denyFailure', params: ({ context, event }) => ({ error: event.error, by: context.reviewer }) },
            },
          },
        },
        escalated: {
          entry: 'announceReview',
          invoke: {
            id: 'escalatedReviewer',
            src: 'review',
            input: ({ context }) => reviewInput(context),
            // A second escalation has nowhere to go: applyDecision turns it into a denial.
            onDone: { target: '#approval.done', actions: { type: 'applyDecision', params: ({ event }) => ({ output: event.output }) } },
            onError: {
              target: '#approval.done',
              actions: { type: 'denyFailure', params: ({ context, event }) => ({ error: event.error, by: context.reviewer }) },
            },
          },
        },
        runningTool: {
          invoke: {
            id: 'tool',
            src: 'runTool',
            input: ({ context }): ToolActorInput => ({ request: context.request! }),
            onDone: { target: '#approval.done', actions: { type: 'applyToolResult', params: ({ event }) => ({ output: event.output }) } },
            onError: {
              target: '#approval.done',
              actions: { type: 'denyFailure', params: ({ event }) => ({ error: event.error, by: 'tool' }) },
            },
          },
        },
      },
    },
    done: { type: 'final', entry: ['stampFinish', 'announceResolved', 'announceAudit'] },
    withdrawn: { type: 'final', entry: ['stampFinish', 'announceResolved', 'announceAudit'] },
  },
  output: ({ context }) => auditOutput(context),
});

export type ApprovalMachine = typeof approvalMachine;

/** The machine wired to its owner's reviewers, tools and clock (see ApprovalRouter). */
export function provideApprovalMachine(
  machine: ApprovalMachine,
  deps: {
    review: ReturnType<typeof fromPromise<unknown, ReviewActorInput>>;
    runTool: ReturnType<typeof fromPromise<ToolCallOutcome, ToolActorInput>>;
    now: () => number;
  },
): ApprovalMachine {
  return machine.provide({
    actors: { review: deps.review, runTool: deps.runTool },
    actions: { stampFinish: assign(() => ({ finishedAt: deps.now() })) },
  });
}
