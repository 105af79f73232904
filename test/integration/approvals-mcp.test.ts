// MCP elicitations against the REAL codex app-server and a real MCP server
// (test/support/mcp-server.mjs, @modelcontextprotocol/sdk): tool-call approvals and the
// server's own form (elicitInput). The MCP server echoes what it received, so both its
// log and the scripted model's next request show what reached it.
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { functionCallOutputs, say, type CallItem } from '../support/mock-model.js';
import { startHarness, stopHarnesses, type Harness } from '../support/approval-harness.js';
import { OWNER } from '../support/approval-router.js';

afterEach(stopHarnesses);

const mcp = (tool: string, args: Record<string, unknown>, callId: string): CallItem => ({
  call: { name: tool, namespace: 'mcp__test', arguments: args, callId },
});
const outputOf = (h: Harness, callId: string): string => {
  for (const req of h.mock.requests) {
    const o = functionCallOutputs(req).find((x) => x.call_id === callId);
    if (o) return JSON.stringify(o.output);
  }
  return '';
};
const mcpLog = (h: Harness): Array<Record<string, any>> =>
  existsSync(h.mcpLog) ? readFileSync(h.mcpLog, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];

describe('MCP tool-call approval (elicitation with _meta.codex_approval_kind)', () => {
  it('allowed → the tool runs with its arguments; declined → it does not', async () => {
    const h = await startHarness({
      script: [mcp('echo', { text: 'hello' }, 'call_yes'), say('ok'), mcp('echo', { text: 'secret plan' }, 'call_no'), say('ok')],
      approvalPolicy: 'untrusted',
      sandbox: 'workspace-write',
      mcp: true,
    });
    const first = await h.startTurn();
    const p1 = await h.room.nextRequested(0);
    expect(p1).toMatchObject({
      kind: 'mcpToolApproval',
      title: 'Allow the test MCP server to run tool "echo"?',
      choices: ['accept', 'acceptForSession', 'acceptAlways', 'decline', 'cancel'],
      detail: { server: 'test', tool: 'echo', arguments: { text: 'hello' } },
    });
    h.router.decide({ approvalId: p1.approvalId, by: OWNER, decision: 'accept' });
    expect((await h.turnCompleted(first)).turn.status).toBe('completed');
    expect(outputOf(h, 'call_yes')).toContain('echo: hello');

    const second = await h.startTurn();
    const p2 = await h.room.nextRequested(1);
    h.router.decide({ approvalId: p2.approvalId, by: OWNER, decision: 'decline' });
    expect((await h.turnCompleted(second)).turn.status).toBe('completed');
    expect(outputOf(h, 'call_no')).toContain('user rejected MCP tool call');
    expect(outputOf(h, 'call_no')).not.toContain('echo: secret plan');
    // What the MCP server itself received: only the approved call.
    expect(mcpLog(h)).toEqual([{ tool: 'echo', args: { text: 'hello' } }]);
    expect(h.audits.map((a) => [a.kind, a.decision, a.outcome])).toEqual([
      ['mcpToolApproval', 'accept', 'approved'],
      ['mcpToolApproval', 'decline', 'denied'],
    ]);
  });

  it('allow for the session (_meta.persist) → Codex stops asking for that tool', async () => {
    const h = await startHarness({
      script: [mcp('echo', { text: 'one' }, 'call_1'), say('ok'), mcp('echo', { text: 'two' }, 'call_2'), say('ok')],
      approvalPolicy: 'untrusted',
      sandbox: 'workspace-write',
      mcp: true,
    });
    const first = await h.startTurn();
    const p1 = await h.room.nextRequested(0);
    h.router.decide({ approvalId: p1.approvalId, by: OWNER, decision: 'acceptForSession' });
    await h.turnCompleted(first);
    const second = await h.startTurn();
    expect((await h.turnCompleted(second)).turn.status).toBe('completed');
    expect(h.room.requested()).toHaveLength(1);
    expect(outputOf(h, 'call_2')).toContain('echo: two');
    expect(mcpLog(h).map((e) => e.args.text)).toEqual(['one', 'two']);
  });
});

describe('MCP form elicitation (the tool calls elicitInput)', () => {
  async function askTurn(timeouts?: Record<string, number>) {
    const h = await startHarness({
      script: [mcp('ask', {}, 'call_ask'), say('thanks')],
      approvalPolicy: 'untrusted',
      sandbox: 'workspace-write',
      mcp: true,
      ...(timeouts ? { router: { timeouts } } : {}),
    });
    const turnId = await h.startTurn();
    // The tool call itself needs approval first.
    const approval = await h.room.nextRequested(0);
    expect(approval.kind).toBe('mcpToolApproval');
    h.router.decide({ approvalId: approval.approvalId, by: OWNER, decision: 'accept' });
    return { h, turnId };
  }

  it('renders the fields; the validated answer reaches the MCP server', async () => {
    const { h, turnId } = await askTurn();
    const form = await h.room.nextRequested(1);
    expect(form).toMatchObject({ kind: 'mcpForm', title: 'Please fill in the form', choices: ['accept', 'decline', 'cancel'] });
    const fields = form.detail.fields as Array<{ name: string; required: boolean; type: string }>;
    expect(fields.map((f) => [f.name, f.type, f.required]).sort()).toEqual([
      ['age', 'integer', true],
      ['color', 'string', false],
      ['name', 'string', true],
    ]);
    // Chat answers arrive as text: "33" is coerced to the schema's integer.
    h.router.decide({ approvalId: form.approvalId, by: OWNER, decision: 'accept', content: { name: 'Ann', age: '33', color: 'green' } });
    expect((await h.turnCompleted(turnId)).turn.status).toBe('completed');
    expect(mcpLog(h)).toEqual([{ tool: 'ask', result: { action: 'accept', content: { name: 'Ann', age: 33, color: 'green' } } }]);
    expect(outputOf(h, 'call_ask')).toContain('elicitation result: {\\"action\\":\\"accept\\",\\"content\\":{\\"name\\":\\"Ann\\",\\"age\\":33,\\"color\\":\\"green\\"}}');
    expect(await h.room.resolvedFor(form.approvalId)).toMatchObject({ outcome: 'answered', decision: 'accept' });
  });

  it('an invalid answer is refused with the reason and never sent; the form stays open, and a decline reaches the MCP server', async () => {
    // Issue 11 #12: the bad content is refused at decide() (it used to be accepted, then declined).
    const { h, turnId } = await askTurn();
    const form = await h.room.nextRequested(1);
    expect(h.router.decide({ approvalId: form.approvalId, by: OWNER, decision: 'accept', content: { name: 'Ann', age: 'old' } })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^form answer is invalid: age must be integer; approval \S+ is still open$/),
    });
    expect(h.router.pending()).toMatchObject([{ approvalId: form.approvalId, awaitingUser: true }]);
    expect(h.router.decide({ approvalId: form.approvalId, by: OWNER, decision: 'decline' })).toEqual({ ok: true });
    expect((await h.turnCompleted(turnId)).turn.status).toBe('completed');
    expect(mcpLog(h)).toEqual([{ tool: 'ask', result: { action: 'decline' } }]);
    expect(outputOf(h, 'call_ask')).toContain('\\"action\\":\\"decline\\"');
    const resolved = await h.room.resolvedFor(form.approvalId);
    expect(resolved.outcome).toBe('denied');
    expect(resolved.decision).toBe('decline');
  });

  it('nobody answers the form → timeout → decline', async () => {
    const { h, turnId } = await askTurn({ mcpForm: 1500 });
    const form = await h.room.nextRequested(1);
    expect((await h.turnCompleted(turnId)).turn.status).toBe('completed');
    expect(mcpLog(h)).toEqual([{ tool: 'ask', result: { action: 'decline' } }]);
    expect(await h.room.resolvedFor(form.approvalId)).toMatchObject({ outcome: 'denied', by: 'timeout' });
  });
});
