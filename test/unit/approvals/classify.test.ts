// Classification and answers for every server request type: the exact choices offered,
// the exact wire answers, and the fail-closed denial when anything does not fit.
import { describe, expect, it } from 'vitest';
import { answerFor, classifyServerRequest, denialVerdict, displayCommand, type Classification } from '../../../src/approvals/classify.js';
import { formFields, validateFormContent } from '../../../src/approvals/form.js';
import { resolveApprovalSettings } from '../../../src/approvals/settings.js';
import type { ApprovalRequest } from '../../../src/approvals/types.js';
import { failClosedAnswer, validateServerAnswer } from '../../../src/protocol/server-requests.js';
import { ErrorCodes } from '../../../src/protocol/wire.js';
import {
  FORM_SCHEMA,
  commandParams,
  fileChangeParams,
  formParams,
  legacyExecParams,
  legacyPatchParams,
  permissionsParams,
  samples,
  serverRequest,
  toolApprovalParams,
  toolCallParams,
  urlParams,
  userInputParams,
} from '../../support/approval-fixtures.js';

function classify(method: string, params: Record<string, unknown>, hints = {}): Classification {
  return classifyServerRequest('apr_test', serverRequest(method, params), hints);
}

function request(method: string, params: Record<string, unknown>, hints = {}): ApprovalRequest {
  const c = classify(method, params, hints);
  if (c.type === 'immediate') throw new Error(`expected a reviewable request, got immediate: ${c.reason}`);
  return c.request;
}

describe('fail-closed answers, one per request type', () => {
  // The denial must be a valid answer of the right shape (the engine would refuse anything else).
  const expected: Record<string, unknown> = {
    'item/commandExecution/requestApproval': { result: { decision: 'decline' } },
    'item/fileChange/requestApproval': { result: { decision: 'decline' } },
    'item/permissions/requestApproval': { result: { permissions: {}, scope: 'turn' } },
    'mcpServer/elicitation/request': { result: { action: 'decline', content: null, _meta: null } },
    'item/tool/requestUserInput': { result: { answers: {} } },
    'item/tool/call': { result: { contentItems: [{ type: 'inputText', text: 'why' }], success: false } },
    execCommandApproval: { result: { decision: { denied: { rejection: 'why' } } } },
    applyPatchApproval: { result: { decision: { denied: { rejection: 'why' } } } },
  };
  for (const [method, answer] of Object.entries(expected)) {
    it(`${method} → ${JSON.stringify(answer)}`, () => {
      const v = denialVerdict(method, 'why');
      expect(v.answer).toEqual(answer);
      expect(v.outcome).toBe('denied');
      expect(v.failClosed).toBe(true);
      expect(validateServerAnswer(method, v.answer)).toBeUndefined();
    });
  }

  it('account/chatgptAuthTokens/refresh and attestation/generate → JSON-RPC error, answered at once', () => {
    for (const method of ['account/chatgptAuthTokens/refresh', 'attestation/generate']) {
      const c = classify(method, { reason: 'unauthorized' });
      expect(c.type).toBe('immediate');
      if (c.type !== 'immediate') return;
      expect(c.answer).toEqual({ error: { code: ErrorCodes.unsupported, message: `${method} is not supported by this client` } });
    }
  });

  it('an unknown method → -32601', () => {
    const c = classify('item/brandNew/request', { threadId: 't' });
    expect(c.type === 'immediate' && c.answer).toEqual({ error: { code: -32601, message: 'method not found: item/brandNew/request' } });
  });

  it('malformed params of every known type → that type’s denial, at once', () => {
    for (const method of Object.keys(samples)) {
      const c = classify(method, { threadId: 42 });
      expect(c.type, method).toBe('immediate');
      if (c.type !== 'immediate') continue;
      expect(c.reason).toMatch(/could not be understood/);
      expect(c.answer).toEqual(failClosedAnswer(method, 'request could not be understood'));
    }
  });

  it('an unsupported elicitation mode is declined', () => {
    const c = classify('mcpServer/elicitation/request', formParams({ mode: 'openai/userVerification', challenge: 'x' }));
    expect(c.type === 'immediate' && c.answer).toEqual({ result: { action: 'decline', content: null, _meta: null } });
  });
});

describe('command approvals', () => {
  it('offers exactly the availableDecisions Codex sent, plus decline', () => {
    const r = request('item/commandExecution/requestApproval', commandParams());
    expect(r.kind).toBe('command');
    expect(r.choices).toEqual(['accept', 'acceptWithExecpolicyAmendment', 'cancel', 'decline']);
    expect(r.title).toBe('Run: echo hi > out.txt');
    expect(r.detail).toMatchObject({ command: 'echo hi > out.txt', cwd: '/ws', reason: 'The test needs to run this outside the sandbox.' });
  });

  it('answers each offered decision with the exact wire value, amendments included', () => {
    const r = request('item/commandExecution/requestApproval', commandParams());
    expect(answerFor(r, { choice: 'accept' }).answer).toEqual({ result: { decision: 'accept' } });
    expect(answerFor(r, { choice: 'cancel' })).toMatchObject({ answer: { result: { decision: 'cancel' } }, outcome: 'denied', failClosed: false });
    expect(answerFor(r, { choice: 'decline' }).answer).toEqual({ result: { decision: 'decline' } });
    const amended = answerFor(r, { choice: 'acceptWithExecpolicyAmendment' });
    expect(amended).toMatchObject({ outcome: 'approved', failClosed: false });
    expect(amended.answer).toEqual({
      result: { decision: { acceptWithExecpolicyAmendment: { execpolicy_amendment: ['/bin/bash', '-lc', 'echo hi > out.txt'] } } },
    });
  });

  it('never sends a decision that was not offered (acceptForSession here)', () => {
    const r = request('item/commandExecution/requestApproval', commandParams());
    const v = answerFor(r, { choice: 'acceptForSession' });
    expect(v).toMatchObject({ outcome: 'denied', failClosed: true, answer: { result: { decision: 'decline' } } });
    expect(v.reason).toMatch(/"acceptForSession" was not offered/);
  });

  it('without availableDecisions: the four basics plus proposed amendments, network ones by host', () => {
    const r = request(
      'item/commandExecution/requestApproval',
      commandParams({
        availableDecisions: undefined,
        networkApprovalContext: { host: 'pypi.org', protocol: 'https' },
        proposedNetworkPolicyAmendments: [{ host: 'pypi.org', action: 'allow' }],
      }),
    );
    expect(r.choices).toEqual([
      'accept',
      'acceptForSession',
      'decline',
      'cancel',
      'acceptWithExecpolicyAmendment',
      'applyNetworkPolicyAmendment:allow:pypi.org',
    ]);
    expect(r.title).toBe('Network access to pypi.org');
    expect(r.subject.hosts).toEqual(['pypi.org']);
    const v = answerFor(r, { choice: 'applyNetworkPolicyAmendment:allow:pypi.org' });
    expect(v.answer).toEqual({
      result: { decision: { applyNetworkPolicyAmendment: { network_policy_amendment: { host: 'pypi.org', action: 'allow' } } } },
    });
    expect(v.outcome).toBe('approved');
  });

  it('drops offered decisions it does not understand instead of passing them on', () => {
    const r = request('item/commandExecution/requestApproval', commandParams({ availableDecisions: ['accept', { somethingNew: {} }, 'bogus'] }));
    expect(r.choices).toEqual(['accept', 'decline']);
    expect(r.detail.unrecognizedDecisions).toEqual([{ somethingNew: {} }, 'bogus']);
  });

  it('shows the script inside a bash -lc wrapper', () => {
    expect(displayCommand("/bin/bash -lc 'echo it'\\''s'")).toBe("echo it's");
    expect(displayCommand(['bash', '-lc', 'ls -la'])).toBe('ls -la');
    expect(displayCommand(['git', 'commit', '-m', 'a b'])).toBe("git commit -m 'a b'");
  });
});

describe('file change approvals', () => {
  it('offers the four decisions and shows the changes learnt from item/started', () => {
    const hints = { fileChanges: [{ path: '/ws/hello.txt', kind: 'add', diff: 'hi\n' }] };
    const r = request('item/fileChange/requestApproval', fileChangeParams(), hints);
    expect(r.choices).toEqual(['accept', 'acceptForSession', 'decline', 'cancel']);
    expect(r.title).toBe('Change /ws/hello.txt');
    expect(r.detail.changes).toEqual(hints.fileChanges);
    expect(r.subject.paths).toEqual(['/ws/hello.txt']);
    for (const choice of r.choices) expect(answerFor(r, { choice }).answer).toEqual({ result: { decision: choice } });
    expect(answerFor(r, { choice: 'acceptForSession' }).outcome).toBe('approved');
  });

  it('without the item, paths are unknown (the guardian then cannot allow)', () => {
    const r = request('item/fileChange/requestApproval', fileChangeParams({ grantRoot: '/ws' }));
    expect(r.subject.paths).toBeUndefined();
    expect(r.title).toBe('Apply file changes');
  });
});

describe('permission approvals', () => {
  const r = () => request('item/permissions/requestApproval', permissionsParams());

  it('grants everything requested for the turn or the session', () => {
    expect(r().choices).toEqual(['accept', 'acceptForSession', 'decline']);
    const all = { network: { enabled: true }, fileSystem: { read: ['/ws/cache'], write: ['/ws/out', '/ws/tmp'] } };
    expect(answerFor(r(), { choice: 'accept' }).answer).toEqual({ result: { permissions: all, scope: 'turn' } });
    expect(answerFor(r(), { choice: 'acceptForSession' }).answer).toEqual({ result: { permissions: all, scope: 'session' } });
  });

  it('grants a subset', () => {
    const v = answerFor(r(), { choice: 'accept', content: { fileSystem: { write: ['/ws/out'] } } });
    expect(v.answer).toEqual({ result: { permissions: { fileSystem: { read: null, write: ['/ws/out'] } }, scope: 'turn' } });
    expect(v.outcome).toBe('approved');
  });

  it('refuses to grant more than was requested', () => {
    const v = answerFor(r(), { choice: 'accept', content: { fileSystem: { write: ['/etc'] } } });
    expect(v).toMatchObject({ outcome: 'denied', failClosed: true, answer: { result: { permissions: {}, scope: 'turn' } } });
    expect(v.reason).toMatch(/not requested: write \/etc/);
    const noNet = request('item/permissions/requestApproval', permissionsParams({ permissions: { network: null, fileSystem: null } }));
    expect(answerFor(noNet, { choice: 'accept', content: { network: true } }).reason).toMatch(/network access was not requested/);
  });

  it('denial is an empty grant', () => {
    expect(answerFor(r(), { choice: 'decline' }).answer).toEqual({ result: { permissions: {}, scope: 'turn' } });
  });
});

describe('MCP elicitations', () => {
  it('tool approval: allow once / session / always per _meta.persist, or decline', () => {
    const r = request('mcpServer/elicitation/request', toolApprovalParams());
    expect(r.kind).toBe('mcpToolApproval');
    expect(r.choices).toEqual(['accept', 'acceptForSession', 'acceptAlways', 'decline', 'cancel']);
    expect(r.subject).toEqual({ mcpServer: 'test', mcpTool: 'echo' });
    expect(r.detail).toMatchObject({ server: 'test', tool: 'echo', arguments: { text: 'hello' } });
    expect(answerFor(r, { choice: 'accept' }).answer).toEqual({ result: { action: 'accept', content: null, _meta: null } });
    expect(answerFor(r, { choice: 'acceptForSession' }).answer).toEqual({ result: { action: 'accept', content: null, _meta: { persist: 'session' } } });
    expect(answerFor(r, { choice: 'acceptAlways' }).answer).toEqual({ result: { action: 'accept', content: null, _meta: { persist: 'always' } } });
    expect(answerFor(r, { choice: 'decline' }).answer).toEqual({ result: { action: 'decline', content: null, _meta: null } });
  });

  it('tool approval without persist offers no persistence', () => {
    const r = request('mcpServer/elicitation/request', toolApprovalParams({ _meta: { codex_approval_kind: 'mcp_tool_call', tool_name: 'echo' } }));
    expect(r.choices).toEqual(['accept', 'decline', 'cancel']);
    expect(answerFor(r, { choice: 'acceptAlways' })).toMatchObject({ failClosed: true, outcome: 'denied' });
  });

  it('form: renders the fields of requestedSchema', () => {
    const r = request('mcpServer/elicitation/request', formParams());
    expect(r.kind).toBe('mcpForm');
    expect(r.choices).toEqual(['accept', 'decline', 'cancel']);
    const fields = r.detail.fields as ReturnType<typeof formFields>;
    expect(fields.map((f) => [f.name, f.type, f.required])).toEqual([
      ['age', 'integer', true],
      ['color', 'string', false],
      ['name', 'string', true],
    ]);
    expect(fields[0]).toMatchObject({ title: 'Age', minimum: 0, maximum: 150 });
    expect(fields[1]?.options).toEqual([
      { value: 'red', label: 'red' },
      { value: 'green', label: 'green' },
      { value: 'blue', label: 'blue' },
    ]);
  });

  it('form: a valid answer is sent (scalars coerced from chat text), an invalid one is declined', () => {
    const r = request('mcpServer/elicitation/request', formParams());
    const ok = answerFor(r, { choice: 'accept', content: { name: 'Ann', age: '33', color: 'red' } });
    expect(ok).toMatchObject({ outcome: 'answered', failClosed: false });
    expect(ok.answer).toEqual({ result: { action: 'accept', content: { name: 'Ann', age: 33, color: 'red' }, _meta: null } });

    for (const [content, problem] of [
      [{ name: 'Ann' }, /must have required property 'age'/],
      [{ name: 'Ann', age: -1 }, /age must be >= 0/],
      [{ name: 'Ann', age: 3, color: 'pink' }, /color must be equal to one of the allowed values/],
      [{ name: 'Ann', age: 3, admin: true }, /unknown field\(s\): admin/],
      ['Ann, 33', /must be an object/],
      [undefined, /must be an object/],
    ] as const) {
      const v = answerFor(r, { choice: 'accept', content });
      expect(v.answer, JSON.stringify(content)).toEqual({ result: { action: 'decline', content: null, _meta: null } });
      expect(v.failClosed).toBe(true);
      expect(v.reason).toMatch(problem);
    }
  });

  it('form validation does not mutate the caller’s content and handles formats', () => {
    const content = { name: 'Ann', age: '7' };
    validateFormContent(FORM_SCHEMA, content);
    expect(content.age).toBe('7');
    const schema = { type: 'object', properties: { mail: { type: 'string', format: 'email' } }, $schema: 'https://json-schema.org/draft/2020-12/schema' };
    expect(validateFormContent(schema, { mail: 'a@b.co' }).ok).toBe(true);
    expect(validateFormContent(schema, { mail: 'nope' }).ok).toBe(false);
  });

  it('url mode: confirm or decline', () => {
    const r = request('mcpServer/elicitation/request', urlParams());
    expect(r.kind).toBe('mcpUrl');
    expect(r.detail).toMatchObject({ url: 'https://auth.example.com/login?x=1' });
    expect(r.subject.hosts).toEqual(['auth.example.com']);
    expect(answerFor(r, { choice: 'accept' }).answer).toEqual({ result: { action: 'accept', content: null, _meta: null } });
    expect(answerFor(r, { choice: 'decline' }).answer).toEqual({ result: { action: 'decline', content: null, _meta: null } });
  });
});

describe('request_user_input', () => {
  const r = () => request('item/tool/requestUserInput', userInputParams());

  it('shows the questions with their options and answers with the user’s choices', () => {
    expect(r().choices).toEqual(['answer']);
    expect(r().detail.questions).toHaveLength(2);
    const v = answerFor(r(), { choice: 'answer', content: { db: 'sqlite', name: ['switchboard'] } });
    expect(v).toMatchObject({ outcome: 'answered', failClosed: false });
    expect(v.answer).toEqual({ result: { answers: { db: { answers: ['sqlite'] }, name: { answers: ['switchboard'] } } } });
  });

  it('an answer outside the options, a missing answer or an unknown question is refused (fail-closed)', () => {
    for (const [content, why] of [
      [{ db: 'mysql', name: 'x' }, /allows only "postgres", "sqlite"/],
      [{ db: 'sqlite' }, /question "name" has no answer/],
      [{ db: 'sqlite', name: 'x', extra: 'y' }, /unknown question "extra"/],
    ] as const) {
      const v = answerFor(r(), { choice: 'answer', content });
      expect(v.answer).toEqual({ result: { answers: {} } });
      expect(v.reason).toMatch(why);
    }
  });
});

describe('command approval kinds (kind: command, writeStdin, humanCommand)', () => {
  it('a humanCommand is shown as one and offers only the one-time choices (accept, decline, cancel)', () => {
    const r = request('item/commandExecution/requestApproval', commandParams({ kind: 'humanCommand', command: 'deploy --prod' }));
    expect(r.title).toBe('A person must approve: deploy --prod');
    expect(r.detail.commandKind).toBe('humanCommand');
    expect(r.choices).toEqual(['accept', 'cancel', 'decline']);
    expect(r.detail.unrecognizedDecisions).toEqual([{ acceptWithExecpolicyAmendment: { execpolicy_amendment: ['/bin/bash', '-lc', 'echo hi > out.txt'] } }]);
    expect(answerFor(r, { choice: 'acceptWithExecpolicyAmendment' }).failClosed).toBe(true);
  });

  it('writeStdin says it writes to a running command; a missing kind is a plain command', () => {
    const stdin = request('item/commandExecution/requestApproval', commandParams({ kind: 'writeStdin', command: 'yes' }));
    expect(stdin.title).toBe('Write to a running command: yes');
    expect(stdin.detail.commandKind).toBe('writeStdin');
    const plain = request('item/commandExecution/requestApproval', commandParams({ kind: undefined }));
    expect(plain.title).toBe('Run: echo hi > out.txt');
    expect(plain.detail.commandKind).toBe('command');
  });
});

describe('request_user_input isBlocking', () => {
  it('is carried into the approval detail (absent: blocking, as older servers meant)', () => {
    expect(request('item/tool/requestUserInput', userInputParams()).detail.isBlocking).toBe(true);
    expect(request('item/tool/requestUserInput', userInputParams({ isBlocking: false })).detail.isBlocking).toBe(false);
    expect(request('item/tool/requestUserInput', userInputParams({ isBlocking: undefined })).detail.isBlocking).toBe(true);
  });
});

describe('dynamic tool calls and legacy approvals', () => {
  it('item/tool/call is routed to the tool registry, not a reviewer', () => {
    const c = classify('item/tool/call', toolCallParams());
    expect(c.type).toBe('tool');
    expect(c.type === 'tool' && c.request.title).toBe('Tool: lookup');
  });

  it('legacy execCommandApproval maps choices to the v1 decisions', () => {
    const r = request('execCommandApproval', legacyExecParams());
    expect(r.kind).toBe('legacyCommand');
    expect(r.title).toBe('Run: rm -rf build');
    expect(answerFor(r, { choice: 'accept' }).answer).toEqual({ result: { decision: 'approved' } });
    expect(answerFor(r, { choice: 'acceptForSession' }).answer).toEqual({ result: { decision: 'approved_for_session' } });
    expect(answerFor(r, { choice: 'decline', reason: 'no' }).answer).toEqual({ result: { decision: { denied: { rejection: 'no' } } } });
    expect(answerFor(r, { choice: 'cancel' }).answer).toEqual({ result: { decision: 'abort' } });
  });

  it('legacy applyPatchApproval exposes the patched paths', () => {
    const r = request('applyPatchApproval', legacyPatchParams());
    expect(r.kind).toBe('legacyPatch');
    expect(r.subject.paths).toEqual(['/ws/a.txt']);
    expect(answerFor(r, { choice: 'accept' }).answer).toEqual({ result: { decision: 'approved' } });
  });
});

describe('approval settings', () => {
  it('modes set approvalPolicy, sandbox and reviewer; fields override', () => {
    expect(resolveApprovalSettings('yolo')).toEqual({
      approvalPolicy: 'never',
      sandbox: 'danger-full-access',
      approvalsReviewer: 'user',
      reviewer: 'user',
    });
    // guardian = Codex's own reviewer subagent (the gateway seed's preset); what still reaches Switchboard goes to the user.
    expect(resolveApprovalSettings('guardian')).toEqual({
      approvalPolicy: 'on-request',
      sandbox: 'workspace-write',
      approvalsReviewer: 'guardian_subagent',
      reviewer: 'user',
    });
    // policy = Switchboard's rule engine answers what Codex asks.
    expect(resolveApprovalSettings('policy')).toEqual({
      approvalPolicy: 'on-request',
      sandbox: 'workspace-write',
      approvalsReviewer: 'user',
      reviewer: 'policy',
    });
    expect(resolveApprovalSettings('guardian', { sandbox: 'read-only', approvalsReviewer: 'auto_review', approvalPolicy: 'untrusted' })).toEqual({
      sandbox: 'read-only',
      approvalsReviewer: 'auto_review',
      reviewer: 'user',
      approvalPolicy: 'untrusted',
    });
    // The policy reviewer's former name is still read.
    expect(resolveApprovalSettings('yolo', { reviewer: 'guardian' }).reviewer).toBe('policy');
  });

  it('rejects unknown modes and bad overrides with a clear message', () => {
    expect(() => resolveApprovalSettings('reckless' as never)).toThrow(/unknown approval mode "reckless": use yolo, guardian, policy, user/);
    expect(() => resolveApprovalSettings('yolo', { sandbox: 'everything' as never })).toThrow(/invalid approval settings: sandbox/);
  });
});
