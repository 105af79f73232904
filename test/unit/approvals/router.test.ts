// The approval router as the connection's handler: room prompts, who may decide, withdrawal,
// guardian routing, dynamic tools, the audit stream, and the answers on the wire.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RpcEngine } from '../../../src/connection/rpc-engine.js';
import type { ServerRequest } from '../../../src/connection/rpc-engine.js';
import type { Reviewer } from '../../../src/approvals/types.js';
import { ApprovalRouter } from '../../../src/approvals/router.js';
import type { Transport } from '../../../src/transport/types.js';
import { classifyNotification } from '../../../src/protocol/notifications.js';
import {
  THREAD,
  TURN,
  commandParams,
  fileChangeParams,
  formParams,
  toolCallParams,
} from '../../support/approval-fixtures.js';
import { APPROVER, OWNER, SESSION, auditOf, makeRouter } from '../../support/approval-router.js';
import { memoryLogger } from '../../support/log.js';

let nextId = 1;
function call(router: ApprovalRouter, method: string, params: Record<string, unknown>) {
  const controller = new AbortController();
  const req: ServerRequest = { id: nextId++, method, params, threadId: (params.threadId as string) ?? undefined, signal: controller.signal };
  const answer = Promise.resolve(router.handler(req));
  return { answer, controller, req };
}

const routers: ApprovalRouter[] = [];
const track = <T extends { router: ApprovalRouter }>(x: T): T => (routers.push(x.router), x);
afterEach(() => {
  vi.useRealTimers();
  for (const r of routers.splice(0)) r.dispose();
});

describe('user reviewer through the router', () => {
  it('posts the prompt, takes the owner’s decision, answers, resolves the prompt, audits', async () => {
    const { router, room, audits, records } = track(makeRouter());
    const { answer } = call(router, 'item/commandExecution/requestApproval', commandParams());
    const prompt = await room.nextRequested();
    expect(prompt).toMatchObject({
      session: SESSION,
      kind: 'command',
      turnId: TURN,
      title: 'Run: echo hi > out.txt',
      choices: ['accept', 'acceptWithExecpolicyAmendment', 'cancel', 'decline'],
      reviewer: 'user',
      detail: { command: 'echo hi > out.txt', cwd: '/ws' },
    });
    expect(prompt.expiresAt).toBeGreaterThan(prompt.at);
    expect(router.pending()).toMatchObject([{ approvalId: prompt.approvalId, kind: 'command', awaitingUser: true, reviewer: 'user' }]);

    expect(router.decide({ approvalId: prompt.approvalId, by: OWNER, decision: 'accept' })).toEqual({ ok: true });
    await expect(answer).resolves.toEqual({ result: { decision: 'accept' } });
    expect(await room.resolvedFor(prompt.approvalId)).toMatchObject({ outcome: 'approved', decision: 'accept', by: OWNER, session: SESSION });
    expect(router.pending()).toEqual([]);
    expect(auditOf(audits, prompt.approvalId)).toMatchObject({ reviewers: ['user'], decision: 'accept', by: OWNER, outcome: 'approved', failClosed: false });
    // The outcome is logged with who, what and how long.
    const line = records().find((r) => r.msg === 'approval approved');
    expect(line).toMatchObject({ approvalId: prompt.approvalId, by: OWNER, decision: 'accept', method: 'item/commandExecution/requestApproval' });
    expect(typeof line?.latencyMs).toBe('number');
  });

  it('a configured approver may decide; anyone else is rejected, logged, and changes nothing', async () => {
    const { router, room, records } = track(makeRouter());
    const { answer } = call(router, 'item/commandExecution/requestApproval', commandParams());
    const { approvalId } = await room.nextRequested();

    const r = router.decide({ approvalId, by: 'mallory', decision: 'accept' });
    expect(r).toEqual({
      ok: false,
      reason: `mallory may not decide approval ${approvalId}: only the session owner (alice), approvers (bob) and room owners/approvers can (mallory is neither the session owner nor an approver)`,
    });
    expect(router.pending()[0]?.awaitingUser).toBe(true);
    expect(room.notices().at(-1)).toMatchObject({ level: 'warning', text: 'mallory may not decide this approval.' });
    expect(records().some((x) => x.msg === 'decision rejected' && x.by === 'mallory')).toBe(true);

    expect(router.decide({ approvalId, by: APPROVER, decision: 'cancel', reason: 'not now' })).toEqual({ ok: true });
    await expect(answer).resolves.toEqual({ result: { decision: 'cancel' } });
    expect(await room.resolvedFor(approvalId)).toMatchObject({ outcome: 'denied', by: APPROVER, reason: 'not now' });
  });

  it('a second decision and a late one are rejected', async () => {
    const { router, room } = track(makeRouter());
    const { answer } = call(router, 'item/commandExecution/requestApproval', commandParams());
    const { approvalId } = await room.nextRequested();
    expect(router.decide({ approvalId, by: OWNER, decision: 'decline' }).ok).toBe(true);
    expect(router.decide({ approvalId, by: APPROVER, decision: 'accept' })).toEqual({ ok: false, reason: `approval ${approvalId} was already decided by ${OWNER}` });
    await expect(answer).resolves.toEqual({ result: { decision: 'decline' } });
    expect(router.decide({ approvalId, by: OWNER, decision: 'accept' })).toEqual({ ok: false, reason: `approval ${approvalId} is already finished (denied)` });
    expect(router.decide({ approvalId: 'apr_nope', by: OWNER, decision: 'accept' })).toEqual({ ok: false, reason: 'unknown approval apr_nope' });
    expect(router.decide({ approvalId, by: '', decision: 'accept' })).toMatchObject({ ok: false, reason: expect.stringMatching(/invalid decision: by/) });
  });

  it('an undeclared decision from the room is never sent: it is refused naming the offered choices, and the prompt stays open', async () => {
    // Issue 11 #12: the person is told it did not work (it used to return ok:true and then deny).
    const { router, room, audits } = track(makeRouter());
    const { answer } = call(router, 'item/commandExecution/requestApproval', commandParams());
    const { approvalId, choices } = await room.nextRequested();
    const r = router.decide({ approvalId, by: OWNER, decision: 'acceptForSession' });
    expect(r).toEqual({ ok: false, reason: `decision "acceptForSession" was not offered (offered: ${choices.join(', ')}); approval ${approvalId} is still open` });
    expect(router.pending()[0]?.awaitingUser).toBe(true);
    expect(router.decide({ approvalId, by: OWNER, decision: 'decline' })).toEqual({ ok: true });
    await expect(answer).resolves.toEqual({ result: { decision: 'decline' } });
    expect(auditOf(audits, approvalId)).toMatchObject({ failClosed: false, outcome: 'denied', decision: 'decline' });
  });

  it('withdrawn by Codex (signal): no answer, prompt retracted, a later decision rejected', async () => {
    const { router, room, audits } = track(makeRouter());
    const { answer, controller } = call(router, 'item/commandExecution/requestApproval', commandParams());
    const { approvalId } = await room.nextRequested();
    controller.abort(new Error('resolved by the server'));
    await expect(answer).resolves.toBeUndefined();
    expect(await room.resolvedFor(approvalId)).toMatchObject({ outcome: 'withdrawn', reason: 'resolved by the server' });
    expect(auditOf(audits, approvalId).outcome).toBe('withdrawn');
    expect(router.decide({ approvalId, by: OWNER, decision: 'accept' })).toEqual({ ok: false, reason: `approval ${approvalId} was withdrawn` });
  });

  it('withdrawTurn withdraws only that turn; turn/completed does it too', async () => {
    const { router, room } = track(makeRouter());
    const a = call(router, 'item/commandExecution/requestApproval', commandParams());
    const b = call(router, 'item/fileChange/requestApproval', fileChangeParams());
    const c = call(router, 'item/commandExecution/requestApproval', commandParams({ turnId: 'turn-2', itemId: 'x' }));
    await room.nextRequested(2);
    expect(router.withdrawTurn(THREAD, TURN, '/stop')).toBe(2);
    await expect(a.answer).resolves.toBeUndefined();
    await expect(b.answer).resolves.toBeUndefined();
    expect(router.pending().map((p) => p.turnId)).toEqual(['turn-2']);
    router.observe(classifyNotification('turn/completed', { threadId: THREAD, turn: { id: 'turn-2', status: 'interrupted', items: [] } }));
    await expect(c.answer).resolves.toBeUndefined();
    expect(room.resolved().map((r) => r.outcome)).toEqual(['withdrawn', 'withdrawn', 'withdrawn']);
  });

  it('no room for the thread: nobody can be asked, so the answer is the denial', async () => {
    const { router, room, audits } = track(makeRouter({ context: null }));
    const { answer } = call(router, 'item/commandExecution/requestApproval', commandParams());
    await expect(answer).resolves.toEqual({ result: { decision: 'decline' } });
    expect(room.requested()).toEqual([]);
    expect(audits[0]?.reason).toMatch(/no room session for thread thr-1/);
  });

  it('timeout → denial, prompt resolved as denied', async () => {
    vi.useFakeTimers();
    const { router, room } = track(makeRouter({ timeouts: { command: 60_000 } }));
    const { answer } = call(router, 'item/commandExecution/requestApproval', commandParams());
    const { approvalId } = await room.nextRequested();
    await vi.advanceTimersByTimeAsync(60_000);
    await expect(answer).resolves.toEqual({ result: { decision: 'decline' } });
    expect(await room.resolvedFor(approvalId)).toMatchObject({ outcome: 'denied', by: 'timeout', decision: 'timeout' });
  });

  it('file change prompts show the diff learnt from item/started', async () => {
    const { router, room } = track(makeRouter());
    router.observe(
      classifyNotification('item/started', {
        threadId: THREAD,
        turnId: TURN,
        item: { type: 'fileChange', id: 'call_3', status: 'inProgress', changes: [{ path: '/ws/hello.txt', kind: { type: 'add' }, diff: 'hi\n' }] },
      }),
    );
    call(router, 'item/fileChange/requestApproval', fileChangeParams());
    const prompt = await room.nextRequested();
    expect(prompt.title).toBe('Change /ws/hello.txt');
    expect(prompt.detail.changes).toEqual([{ path: '/ws/hello.txt', kind: 'add', diff: 'hi\n' }]);
  });

  it('a form answer is validated: accepted content is sent, invalid content declined', async () => {
    const { router, room } = track(makeRouter());
    const good = call(router, 'mcpServer/elicitation/request', formParams());
    const p1 = await room.nextRequested(0);
    expect(p1.kind).toBe('mcpForm');
    router.decide({ approvalId: p1.approvalId, by: OWNER, decision: 'accept', content: { name: 'Ann', age: 33 } });
    await expect(good.answer).resolves.toEqual({ result: { action: 'accept', content: { name: 'Ann', age: 33 }, _meta: null } });
    const bad = call(router, 'mcpServer/elicitation/request', formParams());
    const p2 = await room.nextRequested(1);
    // Invalid content is refused with the reason, and the form stays open for a valid answer.
    expect(router.decide({ approvalId: p2.approvalId, by: OWNER, decision: 'accept', content: { name: 'Ann', age: 'old' } })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^form answer is invalid: age must be integer; approval apr_\w+ is still open$/),
    });
    expect(router.decide({ approvalId: p2.approvalId, by: OWNER, decision: 'decline' })).toEqual({ ok: true });
    await expect(bad.answer).resolves.toEqual({ result: { action: 'decline', content: null, _meta: null } });
  });
});

describe('policy and custom reviewers', () => {
  const policy = {
    rules: [
      { effect: 'allow' as const, command: 'touch' },
      { effect: 'deny' as const, command: 'rm', reason: 'no deleting' },
    ],
  };
  const cmd = (script: string) => commandParams({ command: `/bin/bash -lc '${script}'`, itemId: script });

  it('allow and deny without asking anyone; the room gets a notice with the reason', async () => {
    const { router, room, audits } = track(makeRouter({ reviewer: 'policy', policy }));
    await expect(call(router, 'item/commandExecution/requestApproval', cmd('touch a.txt')).answer).resolves.toEqual({ result: { decision: 'accept' } });
    await expect(call(router, 'item/commandExecution/requestApproval', cmd('rm -f a.txt')).answer).resolves.toEqual({ result: { decision: 'decline' } });
    expect(room.requested()).toEqual([]);
    expect(room.notices().map((n) => [n.level, n.text])).toEqual([
      ['info', 'Allowed: Run: touch a.txt (policy: allow rule (command "touch"))'],
      ['warning', 'Denied: Run: rm -f a.txt (policy: no deleting)'],
    ]);
    expect(audits.map((a) => [a.by, a.outcome, a.reason])).toEqual([
      ['policy', 'approved', 'policy: allow rule (command "touch")'],
      ['policy', 'denied', 'policy: no deleting'],
    ]);
  });

  it('no rule → escalates to the user, whose prompt says why', async () => {
    const { router, room, audits } = track(makeRouter({ reviewer: 'policy', policy }));
    const { answer } = call(router, 'item/commandExecution/requestApproval', cmd('make all'));
    const prompt = await room.nextRequested();
    expect(prompt.detail.escalatedFrom).toEqual({ reviewer: 'policy', reason: 'policy: no policy rule matches' });
    router.decide({ approvalId: prompt.approvalId, by: OWNER, decision: 'accept' });
    await expect(answer).resolves.toEqual({ result: { decision: 'accept' } });
    expect(audits[0]).toMatchObject({ reviewers: ['policy', 'user'], by: OWNER });
  });

  it('fallback deny: no rule → denied without a prompt', async () => {
    const { router, room } = track(makeRouter({ reviewer: 'policy', policy: { ...policy, fallback: 'deny' } }));
    await expect(call(router, 'item/commandExecution/requestApproval', cmd('make all')).answer).resolves.toEqual({ result: { decision: 'decline' } });
    expect(room.requested()).toEqual([]);
  });

  it('the former name "guardian" (reviewer and option) still selects the policy reviewer', async () => {
    const { router, audits } = track(makeRouter({ reviewer: 'guardian', guardian: policy }));
    await expect(call(router, 'item/commandExecution/requestApproval', cmd('rm -f a.txt')).answer).resolves.toEqual({ result: { decision: 'decline' } });
    expect(audits.map((a) => [a.reviewers, a.by, a.reason])).toEqual([[['policy'], 'policy', 'policy: no deleting']]);
  });

  it('the session picks its reviewer; a host can plug in its own async reviewer', async () => {
    const llm: Reviewer = {
      name: 'llm',
      review: async (req) => (req.kind === 'command' ? { choice: 'accept', reason: 'model says ok' } : { escalate: true, reason: 'unsure' }),
    };
    const { router, audits } = track(
      makeRouter({ reviewers: [llm], context: { session: SESSION, owner: OWNER, approvers: [], reviewer: 'llm' } }),
    );
    await expect(call(router, 'item/commandExecution/requestApproval', commandParams()).answer).resolves.toEqual({ result: { decision: 'accept' } });
    expect(audits[0]).toMatchObject({ reviewers: ['llm'], by: 'llm', reason: 'model says ok' });
    expect(() => makeRouter({ reviewers: [{ name: 'user', review: llm.review }] })).toThrow(/reserved/);
  });

  it('an unknown reviewer name fails closed', async () => {
    const { router, audits } = track(makeRouter({ reviewer: 'nobody' }));
    await expect(call(router, 'item/commandExecution/requestApproval', commandParams()).answer).resolves.toEqual({ result: { decision: 'decline' } });
    expect(audits[0]?.reason).toMatch(/no reviewer named "nobody"/);
  });
});

describe('dynamic tools', () => {
  it('runs a registered tool; unknown tool, bad arguments or a throw → success:false', async () => {
    const { router, audits } = track(makeRouter());
    router.registerTool({
      name: 'lookup',
      description: 'Look a key up',
      inputSchema: { type: 'object', properties: { key: { type: 'string' } }, required: ['key'], additionalProperties: false },
      execute: (args) => {
        const key = (args as { key: string }).key;
        if (key === 'boom') throw new Error('exploded');
        return `value of ${key}`;
      },
    });
    await expect(call(router, 'item/tool/call', toolCallParams()).answer).resolves.toEqual({
      result: { contentItems: [{ type: 'inputText', text: 'value of a' }], success: true },
    });
    await expect(call(router, 'item/tool/call', toolCallParams({ tool: 'missing' })).answer).resolves.toEqual({
      result: { contentItems: [{ type: 'inputText', text: 'unknown tool: missing' }], success: false },
    });
    const bad = await call(router, 'item/tool/call', toolCallParams({ arguments: { key: 1 } })).answer;
    expect(bad).toMatchObject({ result: { success: false, contentItems: [{ text: expect.stringMatching(/invalid arguments for lookup: key must be string/) }] } });
    const thrown = await call(router, 'item/tool/call', toolCallParams({ arguments: { key: 'boom' } })).answer;
    expect(thrown).toMatchObject({ result: { success: false, contentItems: [{ text: 'tool lookup failed: exploded' }] } });
    expect(audits.map((a) => [a.kind, a.outcome, a.failClosed])).toEqual([
      ['dynamicTool', 'answered', false],
      ['dynamicTool', 'denied', true],
      ['dynamicTool', 'denied', true],
      ['dynamicTool', 'denied', true],
    ]);
    expect(() => router.registerTool({ name: 'lookup', description: 'x', inputSchema: {}, execute: () => '' })).toThrow(/already registered/);
    expect(() => router.registerTool({ name: 'bad name', description: 'x', inputSchema: {}, execute: () => '' })).toThrow(/invalid dynamic tool: name/);
  });
});

describe('router on the RPC engine (wire answers)', () => {
  function wire(router: ApprovalRouter) {
    const sent: Array<Record<string, unknown>> = [];
    const { log } = memoryLogger();
    const engine = new RpcEngine({ log, serverRequestBackstopMs: 60_000, onNotification: (n) => router.observe(n) });
    const transport: Transport = { pid: 1, description: 't', send: (t) => sent.push(JSON.parse(t)), close: async () => {} };
    engine.attach(transport);
    engine.setServerRequestHandler(router.handler);
    return { engine, sent };
  }

  it('answers with the same id and the exact shape; serverRequest/resolved withdraws without an answer', async () => {
    const { router, room } = track(makeRouter());
    const { engine, sent } = wire(router);
    engine.handleLine(JSON.stringify({ id: 7, method: 'item/commandExecution/requestApproval', params: commandParams() }));
    const p = await room.nextRequested(0);
    router.decide({ approvalId: p.approvalId, by: OWNER, decision: 'acceptWithExecpolicyAmendment' });
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0]).toEqual({
      id: 7,
      result: { decision: { acceptWithExecpolicyAmendment: { execpolicy_amendment: ['/bin/bash', '-lc', 'echo hi > out.txt'] } } },
    });

    engine.handleLine(JSON.stringify({ id: 8, method: 'item/commandExecution/requestApproval', params: commandParams() }));
    const q = await room.nextRequested(1);
    engine.handleLine(JSON.stringify({ method: 'serverRequest/resolved', params: { threadId: THREAD, requestId: 8 } }));
    expect(await room.resolvedFor(q.approvalId)).toMatchObject({ outcome: 'withdrawn' });
    expect(sent).toHaveLength(1);
    expect(engine.stats.pendingServerRequests).toBe(0);
  });

  it('unsupported requests get a JSON-RPC error, unknown ones -32601 (never an empty success)', async () => {
    const { router } = track(makeRouter());
    const { engine, sent } = wire(router);
    engine.handleLine(JSON.stringify({ id: 1, method: 'account/chatgptAuthTokens/refresh', params: { reason: 'unauthorized' } }));
    engine.handleLine(JSON.stringify({ id: 2, method: 'item/somethingNew/request', params: { threadId: THREAD } }));
    await vi.waitFor(() => expect(sent).toHaveLength(2));
    expect(sent).toEqual([
      { id: 2, error: { code: -32601, message: 'method not found: item/somethingNew/request' } },
      { id: 1, error: { code: -32000, message: 'account/chatgptAuthTokens/refresh is not supported by this client' } },
    ]);
  });

  it('a withdrawn turn still gets its denial on the wire if Codex is waiting (never silence)', async () => {
    const { router, room } = track(makeRouter());
    const { engine, sent } = wire(router);
    engine.handleLine(JSON.stringify({ id: 3, method: 'item/commandExecution/requestApproval', params: commandParams() }));
    await room.nextRequested(0);
    router.withdrawTurn(THREAD, TURN, 'turn stopped');
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0]).toEqual({ id: 3, result: { decision: 'decline' } });
  });

  it('dispose withdraws what is pending and later requests are denied', async () => {
    const { router, room } = makeRouter();
    const { engine, sent } = wire(router);
    engine.handleLine(JSON.stringify({ id: 4, method: 'item/commandExecution/requestApproval', params: commandParams() }));
    const p = await room.nextRequested(0);
    router.dispose();
    expect(await room.resolvedFor(p.approvalId)).toMatchObject({ outcome: 'withdrawn' });
    engine.handleLine(JSON.stringify({ id: 5, method: 'item/commandExecution/requestApproval', params: commandParams() }));
    await vi.waitFor(() => expect(sent).toHaveLength(2));
    expect(sent.map((m) => m.result)).toEqual([{ decision: 'decline' }, { decision: 'decline' }]);
  });

  it('rejects invalid timeouts with a clear message', () => {
    expect(() => new ApprovalRouter({ sink: () => {}, resolveContext: () => undefined, timeouts: { command: -5 } })).toThrow(
      /invalid approval timeouts: command: timeouts must be positive milliseconds/,
    );
  });
});

describe('currentTime/read', () => {
  it('is answered at once with the injected clock, in whole Unix seconds, without a prompt', async () => {
    const { router, room } = track(makeRouter({ now: () => 1_800_000_000_999 }));
    const { answer } = call(router, 'currentTime/read', { threadId: THREAD });
    await expect(answer).resolves.toEqual({ result: { currentTimeAt: 1_800_000_000 } });
    expect(router.pending()).toEqual([]);
    expect(room.events.filter((e) => e.type === 'approval.requested')).toEqual([]);
  });
});
