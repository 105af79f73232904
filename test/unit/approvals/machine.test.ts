// The approval machine with provided fake reviewers and tools: answers, per-kind timeouts
// (simulated clock), reviewer failures, withdrawal, undeclared decisions, escalation.
import { describe, expect, it } from 'vitest';
import { SimulatedClock, createActor, fromPromise, toPromise } from 'xstate';
import { approvalMachine, provideApprovalMachine, type ApprovalEmitted, type ApprovalMachineInput } from '../../../machines/approval.machine.js';
import type { ReviewActorInput, ToolActorInput } from '../../../src/approvals/actors.js';
import type { ToolCallOutcome } from '../../../src/approvals/tools.js';
import type { ApprovalOutput } from '../../../src/approvals/types.js';
import { commandParams, formParams, serverRequest, toolCallParams, userInputParams } from '../../support/approval-fixtures.js';

type ReviewImpl = (input: ReviewActorInput, signal: AbortSignal) => Promise<unknown>;
type ToolImpl = (input: ToolActorInput, signal: AbortSignal) => Promise<ToolCallOutcome>;

/** A reviewer that never answers; resolves `aborted` when it is told to stop. */
function hangingReviewer() {
  let aborted!: () => void;
  const abortedP = new Promise<void>((r) => (aborted = r));
  const calls: ReviewActorInput[] = [];
  const impl: ReviewImpl = (input, signal) => {
    calls.push(input);
    return new Promise((_, reject) => signal.addEventListener('abort', () => (aborted(), reject(new Error('aborted'))), { once: true }));
  };
  return { impl, calls, aborted: abortedP };
}

function start(
  opts: { review?: ReviewImpl; tool?: ToolImpl; input?: Partial<ApprovalMachineInput>; method?: string; params?: Record<string, unknown> } = {},
) {
  const reviews: ReviewActorInput[] = [];
  const machine = approvalMachine.provide({
    actors: {
      review: fromPromise<unknown, ReviewActorInput>(async ({ input, signal }) => {
        reviews.push(input);
        if (!opts.review) throw new Error('no fake reviewer');
        return opts.review(input, signal);
      }),
      runTool: fromPromise<ToolCallOutcome, ToolActorInput>(async ({ input, signal }) => {
        if (!opts.tool) throw new Error('no fake tool');
        return opts.tool(input, signal);
      }),
    },
  });
  const clock = new SimulatedClock();
  const actor = createActor(machine, {
    clock,
    input: {
      approvalId: 'apr_1',
      startedAt: 1_000,
      request: serverRequest(opts.method ?? 'item/commandExecution/requestApproval', opts.params ?? commandParams()),
      reviewer: 'user',
      escalateTo: undefined,
      session: 'room/ch/th',
      ...opts.input,
    },
  });
  const output = toPromise(actor) as Promise<ApprovalOutput>;
  actor.start();
  return { actor, clock, output, reviews };
}

describe('approval machine', () => {
  it('classify → review → answer → done, with the audit record', async () => {
    const { actor, output, reviews } = start({ review: async () => ({ choice: 'accept', by: 'alice', reason: 'looks fine' }) });
    const out = await output;
    expect(actor.getSnapshot().value).toBe('done');
    expect(out.answer).toEqual({ result: { decision: 'accept' } });
    expect(out.audit).toMatchObject({
      approvalId: 'apr_1',
      method: 'item/commandExecution/requestApproval',
      kind: 'command',
      threadId: 'thr-1',
      turnId: 'turn-1',
      title: 'Run: echo hi > out.txt',
      reviewers: ['user'],
      decision: 'accept',
      outcome: 'approved',
      by: 'alice',
      reason: 'looks fine',
      failClosed: false,
    });
    expect(out.audit.latencyMs).toBeGreaterThanOrEqual(0);
    // The reviewer saw the classified request, its room and its deadline.
    expect(reviews[0]).toMatchObject({ reviewer: 'user', session: 'room/ch/th', request: { kind: 'command', choices: expect.arrayContaining(['accept']) } });
    expect(reviews[0]?.expiresAt).toBe(out.audit.startedAt + 10 * 60_000);
  });

  it('timeout (named per-kind delay) → fail-closed denial, and the reviewer is told to stop', async () => {
    const r = hangingReviewer();
    const { actor, clock, output } = start({ review: r.impl, input: { timeouts: { command: 5_000 } } });
    clock.increment(4_999);
    expect(actor.getSnapshot().status).toBe('active');
    clock.increment(1);
    const out = await output;
    await r.aborted;
    expect(out.answer).toEqual({ result: { decision: 'decline' } });
    expect(out.audit).toMatchObject({ outcome: 'denied', decision: 'timeout', by: 'timeout', failClosed: true, reason: 'no decision within 5000 ms' });
  });

  it('timeouts differ per kind: a question outlives a command (defaults 15 vs 10 min)', async () => {
    const a = start({ review: hangingReviewer().impl });
    const b = start({ review: hangingReviewer().impl, method: 'item/tool/requestUserInput', params: userInputParams() });
    a.clock.increment(10 * 60_000);
    b.clock.increment(10 * 60_000);
    expect((await a.output).audit.by).toBe('timeout');
    expect(b.actor.getSnapshot().status).toBe('active');
    b.clock.increment(5 * 60_000);
    const out = await b.output;
    // Empty answers only on timeout.
    expect(out.answer).toEqual({ result: { answers: {} } });
    expect(out.audit.by).toBe('timeout');
  });

  it('a reviewer that throws → denial with the reason', async () => {
    const { output } = start({
      review: async () => {
        throw new Error('room unreachable');
      },
    });
    const out = await output;
    expect(out.answer).toEqual({ result: { decision: 'decline' } });
    expect(out.audit).toMatchObject({ outcome: 'denied', failClosed: true, by: 'user', reason: 'user failed: room unreachable' });
  });

  it('a reviewer returning garbage → denial', async () => {
    const { output } = start({ review: async () => ({ yes: 'please' }) });
    const out = await output;
    expect(out.answer).toEqual({ result: { decision: 'decline' } });
    expect(out.audit.reason).toBe('user returned an invalid decision');
  });

  it('a decision that was not offered is never sent: denial, recorded as such', async () => {
    // availableDecisions has no acceptForSession here.
    const { output } = start({ review: async () => ({ choice: 'acceptForSession', by: 'alice' }) });
    const out = await output;
    expect(out.answer).toEqual({ result: { decision: 'decline' } });
    expect(out.audit).toMatchObject({ decision: 'acceptForSession', outcome: 'denied', failClosed: true });
    expect(out.audit.reason).toMatch(/"acceptForSession" was not offered/);
  });

  it('an invalid form answer is declined', async () => {
    const { output } = start({
      method: 'mcpServer/elicitation/request',
      params: formParams(),
      review: async () => ({ choice: 'accept', content: { name: '', age: 'old' } }),
    });
    const out = await output;
    expect(out.answer).toEqual({ result: { action: 'decline', content: null, _meta: null } });
    expect(out.audit.reason).toMatch(/form answer is invalid: .*name must NOT have fewer than 1 characters/);
  });

  it('WITHDRAW → withdrawn: no answer, and the reviewer is told to stop', async () => {
    const r = hangingReviewer();
    const { actor, output } = start({ review: r.impl });
    actor.send({ type: 'WITHDRAW', reason: 'resolved by the server' });
    const out = await output;
    await r.aborted;
    expect(actor.getSnapshot().value).toBe('withdrawn');
    expect(out.answer).toBeUndefined();
    expect(out.audit).toMatchObject({ outcome: 'withdrawn', reason: 'resolved by the server', failClosed: false });
  });

  it('escalation: policy → user, who decides', async () => {
    const { output, reviews } = start({
      input: { reviewer: 'policy', escalateTo: 'user' },
      review: async (input) =>
        input.reviewer === 'policy' ? { escalate: true, reason: 'no rule' } : { choice: 'accept', by: 'alice' },
    });
    const out = await output;
    expect(reviews.map((r) => r.reviewer)).toEqual(['policy', 'user']);
    expect(reviews[1]?.escalatedFrom).toEqual({ reviewer: 'policy', reason: 'no rule' });
    expect(out.answer).toEqual({ result: { decision: 'accept' } });
    expect(out.audit).toMatchObject({ reviewers: ['policy', 'user'], by: 'alice', outcome: 'approved' });
  });

  it('escalation with nobody to escalate to, or a second escalation, is a denial', async () => {
    const alone = start({ input: { reviewer: 'policy' }, review: async () => ({ escalate: true, reason: 'no rule' }) });
    expect((await alone.output).audit).toMatchObject({ outcome: 'denied', failClosed: true, reason: expect.stringMatching(/nobody else can decide/) });
    const twice = start({ input: { reviewer: 'policy', escalateTo: 'user' }, review: async () => ({ escalate: true, reason: 'shrug' }) });
    const out = await twice.output;
    expect(twice.reviews).toHaveLength(2);
    expect(out.answer).toEqual({ result: { decision: 'decline' } });
  });

  it('unsupported and unknown requests are answered at once, without a reviewer', async () => {
    const { output, reviews, actor } = start({ method: 'account/chatgptAuthTokens/refresh', params: { reason: 'unauthorized' } });
    const out = await output;
    expect(actor.getSnapshot().value).toBe('done');
    expect(reviews).toHaveLength(0);
    expect(out.answer).toMatchObject({ error: { code: -32000 } });
    expect(out.audit).toMatchObject({ reviewers: [], outcome: 'denied', by: 'switchboard', failClosed: true });
  });

  it('dynamic tool calls run the tool; a failing tool or a timeout → success:false', async () => {
    const ok = start({
      method: 'item/tool/call',
      params: toolCallParams(),
      tool: async () => ({ result: { contentItems: [{ type: 'inputText', text: 'value-a' }], success: true }, reason: 'ok', failClosed: false }),
    });
    expect((await ok.output).answer).toEqual({ result: { contentItems: [{ type: 'inputText', text: 'value-a' }], success: true } });
    expect(ok.reviews).toHaveLength(0);

    const thrown = start({
      method: 'item/tool/call',
      params: toolCallParams(),
      tool: async () => {
        throw new Error('disk full');
      },
    });
    expect((await thrown.output).answer).toMatchObject({ result: { success: false } });

    let aborted = false;
    const slow = start({
      method: 'item/tool/call',
      params: toolCallParams(),
      input: { timeouts: { dynamicTool: 1000 } },
      tool: (_input, signal) => new Promise((_, reject) => signal.addEventListener('abort', () => ((aborted = true), reject(new Error('x'))))),
    });
    slow.clock.increment(1000);
    const out = await slow.output;
    expect(out.answer).toMatchObject({ result: { success: false } });
    expect(out.audit.by).toBe('timeout');
    expect(aborted).toBe(true);
  });

  it('default actors (no reviewers provided) fail closed', async () => {
    const actor = createActor(approvalMachine, {
      input: { approvalId: 'apr_x', startedAt: 0, request: serverRequest('item/commandExecution/requestApproval', commandParams()), reviewer: 'user' },
    });
    const output = toPromise(actor) as Promise<ApprovalOutput>;
    actor.start();
    const out = await output;
    expect(out.answer).toEqual({ result: { decision: 'decline' } });
    expect(out.audit.reason).toMatch(/no reviewers were provided/);
  });

  it('announces each reviewer asked, the resolution and the audit (typed emit), with the provided clock', async () => {
    let now = 5_000;
    const machine = provideApprovalMachine(approvalMachine, {
      review: fromPromise<unknown, ReviewActorInput>(async ({ input }) =>
        input.reviewer === 'policy' ? { escalate: true, reason: 'no rule' } : ((now += 250), { choice: 'accept', by: 'alice' }),
      ),
      runTool: fromPromise<ToolCallOutcome, ToolActorInput>(() => Promise.reject(new Error('unused'))),
      now: () => now,
    });
    const actor = createActor(machine, {
      input: { approvalId: 'apr_e', startedAt: 5_000, request: serverRequest('item/commandExecution/requestApproval', commandParams()), reviewer: 'policy', escalateTo: 'user' },
    });
    const seen: ApprovalEmitted[] = [];
    actor.on('*', (e) => seen.push(e));
    const output = toPromise(actor) as Promise<ApprovalOutput>;
    actor.start();
    const out = await output;
    expect(seen.map((e) => e.type)).toEqual(['approval.requested', 'approval.requested', 'approval.resolved', 'approval.audit']);
    expect(seen[0]).toMatchObject({ reviewer: 'policy', kind: 'command', expiresAt: 5_000 + 10 * 60_000, escalatedFrom: undefined });
    expect(seen[1]).toMatchObject({ reviewer: 'user', escalatedFrom: { reviewer: 'policy', reason: 'no rule' } });
    expect(seen[2]).toEqual({ type: 'approval.resolved', approvalId: 'apr_e', outcome: 'approved', decision: 'accept', by: 'alice', failClosed: false });
    expect(seen[3]).toEqual({ type: 'approval.audit', audit: out.audit });
    expect(out.audit).toMatchObject({ startedAt: 5_000, finishedAt: 5_250, latencyMs: 250 });
  });
});
