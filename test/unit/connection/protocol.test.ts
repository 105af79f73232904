import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeRequest } from '../../../src/protocol/wire.js';
import { checkVersion, compareVersions, versionFromUserAgent } from '../../../src/protocol/version.js';
import { failClosedAnswer, validateServerAnswer } from '../../../src/protocol/server-requests.js';
import { classifyNotification } from '../../../src/protocol/notifications.js';

describe('wire frames', () => {
  it('classifies requests, notifications, responses and errors', () => {
    expect(decodeFrame('{"id":1,"method":"item/tool/call","params":{}}')).toMatchObject({ ok: true, frame: { kind: 'request', id: 1 } });
    expect(decodeFrame('{"method":"turn/started","params":{"x":1}}')).toMatchObject({ ok: true, frame: { kind: 'notification' } });
    expect(decodeFrame('{"id":"a","result":{"ok":true}}')).toMatchObject({ ok: true, frame: { kind: 'response', id: 'a' } });
    expect(decodeFrame('{"id":2,"error":{"code":-32001,"message":"busy"}}')).toMatchObject({
      ok: true,
      frame: { kind: 'error', error: { code: -32001 } },
    });
  });

  it('tolerates a jsonrpc field and passes unknown fields through', () => {
    const r = decodeFrame('{"jsonrpc":"2.0","method":"x/y","params":{"newField":[1]},"extra":true}');
    expect(r).toMatchObject({ ok: true, frame: { kind: 'notification', method: 'x/y', params: { newField: [1] } } });
  });

  it('rejects malformed frames with a reason instead of throwing', () => {
    for (const bad of ['not json', '[1,2]', '42', 'null', '{"id":true,"method":"m"}', '{"foo":1}', '{"id":1,"error":{"code":"x"}}']) {
      const r = decodeFrame(bad);
      expect(r.ok, bad).toBe(false);
      if (!r.ok) expect(r.reason.length).toBeGreaterThan(0);
    }
  });

  it('encodes without a jsonrpc field', () => {
    expect(JSON.parse(encodeRequest(7, 'model/list', {}))).toEqual({ id: 7, method: 'model/list', params: {} });
  });
});

describe('server version', () => {
  it('reads the text after the first slash of userAgent', () => {
    expect(versionFromUserAgent('codex_cli_rs/0.169.0 (Debian 12.0.0; x86_64) xterm (switchboard; 0.1.0)')).toBe('0.169.0');
    expect(versionFromUserAgent('name/0.118.0-alpha.2 (x)')).toBe('0.118.0-alpha.2');
    expect(versionFromUserAgent('no-version-here')).toBeUndefined();
    expect(versionFromUserAgent('name/garbage')).toBeUndefined();
  });

  it('orders versions by semver precedence', () => {
    expect(compareVersions('0.118.0', '0.118.0')).toBe(0);
    expect(compareVersions('0.169.0', '0.118.0')).toBe(1);
    expect(compareVersions('0.100.0', '0.118.0')).toBe(-1);
    expect(compareVersions('0.118.0-alpha.1', '0.118.0')).toBe(-1);
    expect(compareVersions('1.0.0', '0.999.999')).toBe(1);
  });

  it('refuses older or missing versions with the documented message', () => {
    expect(checkVersion('x/0.169.0 (y)')).toEqual({ ok: true, version: '0.169.0' });
    expect(checkVersion('x/0.100.0 (y)')).toMatchObject({
      ok: false,
      message: 'Codex app-server 0.118.0 or newer is required, found 0.100.0',
    });
    const missing = checkVersion('fork-without-version');
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.message).toMatch(/^Codex app-server 0.118.0 or newer is required, found unversioned/);
  });
});

describe('fail-closed answers', () => {
  const cases: Array<[string, unknown]> = [
    ['item/commandExecution/requestApproval', { decision: 'decline' }],
    ['item/fileChange/requestApproval', { decision: 'decline' }],
    ['item/permissions/requestApproval', { permissions: {}, scope: 'turn' }],
    ['mcpServer/elicitation/request', { action: 'decline', content: null, _meta: null }],
    ['item/tool/requestUserInput', { answers: {} }],
  ];
  it.each(cases)('%s is denied with the exact shape', (method, expected) => {
    const answer = failClosedAnswer(method);
    expect(answer).toEqual({ result: expected });
    expect(validateServerAnswer(method, answer)).toBeUndefined();
  });

  it('dynamic tool calls fail with success:false', () => {
    const a = failClosedAnswer('item/tool/call');
    expect(a).toMatchObject({ result: { success: false } });
    expect(validateServerAnswer('item/tool/call', a)).toBeUndefined();
  });

  it('legacy approvals are denied', () => {
    for (const m of ['applyPatchApproval', 'execCommandApproval']) {
      const a = failClosedAnswer(m);
      expect(a).toMatchObject({ result: { decision: { denied: {} } } });
      expect(validateServerAnswer(m, a)).toBeUndefined();
    }
  });

  it('unsupported and unknown requests get JSON-RPC errors', () => {
    expect(failClosedAnswer('account/chatgptAuthTokens/refresh')).toMatchObject({ error: { code: -32000 } });
    expect(failClosedAnswer('something/new')).toMatchObject({ error: { code: -32601 } });
  });

  it('never validates an accept that has the wrong shape', () => {
    expect(validateServerAnswer('item/commandExecution/requestApproval', { result: { decision: 'yes' } })).toBeDefined();
    expect(validateServerAnswer('item/fileChange/requestApproval', { result: { decision: 'acceptWithExecpolicyAmendment' } })).toBeDefined();
    expect(validateServerAnswer('item/permissions/requestApproval', { result: { permissions: {}, scope: 'forever' } })).toBeDefined();
  });
});

describe('notifications', () => {
  it('validates known methods and routes by thread id', () => {
    const n = classifyNotification('item/agentMessage/delta', { threadId: 't', turnId: 'u', itemId: 'i', delta: 'Hi', extra: 1 });
    expect(n).toMatchObject({ known: true, valid: true, threadId: 't', params: { delta: 'Hi', extra: 1 } });
  });
  it('delivers unknown methods raw', () => {
    expect(classifyNotification('brand/new', { threadId: 'z' })).toMatchObject({ known: false, valid: true, threadId: 'z' });
  });
  it('flags a known method with a broken payload but still delivers it', () => {
    const n = classifyNotification('turn/completed', { threadId: 't' });
    expect(n.valid).toBe(false);
    expect(n.problem).toMatch(/turn/);
  });
  it('reads the thread id of thread/started from params.thread.id', () => {
    expect(classifyNotification('thread/started', { thread: { id: 'thr_9' } }).threadId).toBe('thr_9');
  });
});
