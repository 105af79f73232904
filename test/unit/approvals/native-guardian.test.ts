// Codex's own reviewer: its notifications as room events, the override's event in Codex core's
// form, the denials an owner may still approve, and who may run `/guardian approve`.
import { describe, expect, it } from 'vitest';
import { actionTitle, assessmentEventOf, coreAction, guardianEventsOf, type GuardianReviewEvent } from '../../../src/approvals/native-guardian.js';
import { GuardianDenials } from '../../../src/supervisor/guardian-denials.js';
import { guardianCommand } from '../../../src/supervisor/guardian-command.js';
import { RoomAccess } from '../../../src/supervisor/access.js';
import { DEFAULT_RESTRICTED_COMMANDS } from '../../../src/config/schema.js';
import { memoryLogger } from '../../support/log.js';

const S = 'lab/chat/main';
const review = (status: string, extra: Record<string, unknown> = {}) => ({
  threadId: 'thr_1',
  turnId: 'turn_1',
  reviewId: 'rev-0123456789',
  targetItemId: 'call_1',
  startedAtMs: 10,
  completedAtMs: status === 'inProgress' ? undefined : 20,
  decisionSource: 'agent',
  review: { status, riskLevel: 'high', userAuthorization: 'low', rationale: 'too risky\u0007 here' },
  action: { type: 'command', source: 'unifiedExec', command: 'rm -rf /', cwd: '/w' },
  ...extra,
});

describe('native guardian notifications → room events', () => {
  it('a review step is a guardian.review event; a denial adds how to override it', () => {
    const [started] = guardianEventsOf('item/autoApprovalReview/started', review('inProgress'), S, 5);
    expect(started).toMatchObject({ type: 'guardian.review', session: S, at: 5, status: 'inProgress', reviewId: 'rev-0123456789', title: 'Run: rm -rf /', targetItemId: 'call_1' });
    const denied = guardianEventsOf('item/autoApprovalReview/completed', review('denied'), S, 6);
    expect(denied).toHaveLength(2);
    expect(denied[0]).toMatchObject({ status: 'denied', riskLevel: 'high', userAuthorization: 'low', rationale: 'too risky here', completedAtMs: 20, action: { type: 'command' } });
    expect(denied[1]).toEqual({ type: 'notice', session: S, at: 6, level: 'info', text: expect.stringContaining('/guardian approve rev-0123456789') });
    expect(guardianEventsOf('item/autoApprovalReview/completed', review('approved'), S, 7)).toHaveLength(1);
  });

  it('guardianWarning is a warning notice; malformed notifications are dropped', () => {
    expect(guardianEventsOf('guardianWarning', { threadId: 'thr_1', message: 'Automatic approval review denied\u001b[31m' }, S, 1)).toEqual([
      { type: 'notice', session: S, at: 1, level: 'warning', text: 'Codex guardian: Automatic approval review denied[31m' },
    ]);
    expect(guardianEventsOf('guardianWarning', { message: 'no thread' }, S, 1)).toEqual([]);
    expect(guardianEventsOf('item/autoApprovalReview/completed', review('exploded'), S, 1)).toEqual([]);
    expect(guardianEventsOf('item/autoApprovalReview/completed', { ...review('denied'), action: 'rm' }, S, 1)).toEqual([]);
  });

  it('titles say what was reviewed, one bounded line', () => {
    expect(actionTitle({ type: 'execve', argv: ['git', 'push'] })).toBe('Run: git push');
    expect(actionTitle({ type: 'applyPatch', files: ['/w/a', '/w/b'] })).toBe('Edit /w/a, /w/b');
    expect(actionTitle({ type: 'networkAccess', target: 'https://x.test', host: 'x.test' })).toBe('Network access: https://x.test');
    expect(actionTitle({ type: 'mcpToolCall', server: 'docs', toolName: 'search' })).toBe('MCP tool docs.search');
    expect(actionTitle({ type: 'requestPermissions', reason: 'net' })).toBe('Permissions: net');
    expect(actionTitle({ type: 'command', command: `a\nb${'x'.repeat(400)}` })).toHaveLength(300);
  });
});

describe('the override event in Codex core\'s form', () => {
  it('snake_case keys and core value names; a stdin cwd as a file URL', () => {
    expect(coreAction({ type: 'command', source: 'unifiedExec', command: 'ls', cwd: '/w' })).toEqual({ type: 'command', source: 'unified_exec', command: 'ls', cwd: '/w' });
    expect(coreAction({ type: 'writeStdin', approvalId: 'a', processId: '1', stdin: 'y', cwd: '/w dir' })).toEqual({
      type: 'write_stdin',
      approval_id: 'a',
      process_id: '1',
      stdin: 'y',
      cwd: 'file:///w%20dir',
    });
    expect(coreAction({ type: 'networkAccess', target: 't', host: 'h', protocol: 'socks5Udp', port: 1 })).toMatchObject({ type: 'network_access', protocol: 'socks5_udp' });
    expect(coreAction({ type: 'mcpToolCall', server: 's', toolName: 't', connectorId: null })).toEqual({ type: 'mcp_tool_call', server: 's', tool_name: 't', connector_id: null });
    expect(coreAction({ type: 'requestPermissions', permissions: { fileSystem: { globScanMaxDepth: 2, entries: [{ access: 'read', path: { type: 'glob_pattern', pattern: '*' } }] } } })).toEqual({
      type: 'request_permissions',
      permissions: { file_system: { glob_scan_max_depth: 2, entries: [{ access: 'read', path: { type: 'glob_pattern', pattern: '*' } }] } },
    });
  });

  it('the whole assessment event', () => {
    const [denied] = guardianEventsOf('item/autoApprovalReview/completed', review('denied'), S, 6) as [GuardianReviewEvent];
    expect(assessmentEventOf(denied)).toEqual({
      id: 'rev-0123456789',
      target_item_id: 'call_1',
      turn_id: 'turn_1',
      started_at_ms: 10,
      completed_at_ms: 20,
      status: 'denied',
      risk_level: 'high',
      user_authorization: 'low',
      rationale: 'too risky here',
      decision_source: 'agent',
      action: { type: 'command', source: 'unified_exec', command: 'rm -rf /', cwd: '/w' },
    });
  });
});

describe('denials open to an override', () => {
  const denial = (reviewId: string, session = S) => ({ ...(guardianEventsOf('item/autoApprovalReview/completed', review('denied', { reviewId }), session, 1)[0] as GuardianReviewEvent) });

  it('keeps denials only, per conversation, bounded; a unique prefix of 6+ characters names one', () => {
    const d = new GuardianDenials(4);
    d.observe(guardianEventsOf('item/autoApprovalReview/completed', review('approved'), S, 1)[0]!);
    for (const id of ['aaaaaa-1', 'aaaaaa-2', 'bbbbbb-1', 'cccccc-1']) d.observe(denial(id));
    d.observe(denial('dddddd-1', 'other/chat/main'));
    expect(d.of(S).map((x) => x.reviewId)).toEqual(['aaaaaa-2', 'bbbbbb-1', 'cccccc-1']);
    expect(d.find(S, 'bbbbbb')).toMatchObject({ reviewId: 'bbbbbb-1' });
    expect(d.find(S, 'bbb')).toMatchObject({ problem: expect.stringMatching(/no denial "bbb"/) });
    expect(d.find(S, 'dddddd-1')).toMatchObject({ problem: expect.stringMatching(/no denial/) }); // another room's
    d.observe(denial('bbbbbb-2'));
    expect(d.find(S, 'bbbbbb')).toEqual({ problem: '"bbbbbb" matches 2 denials: give more of the id' });
    d.consume('cccccc-1');
    expect(d.of(S).map((x) => x.reviewId)).toEqual(['bbbbbb-1', 'bbbbbb-2']);
  });

  it('/guardian approve sends the core event once, then the denial is gone; a refusal by Codex keeps it', async () => {
    const d = new GuardianDenials();
    d.observe(denial('rev-1'));
    const sent: unknown[] = [];
    const notices: string[] = [];
    let fail = true;
    const host = {
      denials: d,
      request: async (_m: string, p: unknown) => {
        if (fail) throw new Error('thread not found: thr_1');
        sent.push(p);
        return {};
      },
      notice: (_l: string, t: string) => void notices.push(t),
    };
    const c = { session: S, from: { id: 'ann', name: 'Ann' } };
    await guardianCommand(host, c, ['approve', 'rev-1']);
    expect(notices.pop()).toBe('/guardian approve: Codex refused the override: thread not found: thr_1');
    fail = false;
    await guardianCommand(host, c, ['approve', 'rev-1']);
    expect(sent).toEqual([{ threadId: 'thr_1', event: expect.objectContaining({ id: 'rev-1', status: 'denied' }) }]);
    expect(notices.pop()).toMatch(/^Ann approved "Run: rm -rf \/"/);
    await guardianCommand(host, c, []);
    expect(notices.pop()).toMatch(/has denied nothing here/);
    await guardianCommand(host, c, ['approve']);
    expect(notices.pop()).toMatch(/^usage: \/guardian/);
  });

  it('/guardian approve is restricted by default; /guardian (the list) is not', () => {
    const access = new RoomAccess(() => ({}) as never, memoryLogger().log, DEFAULT_RESTRICTED_COMMANDS);
    expect(access.restrictedName('/guardian approve rev-1')).toBe('guardian approve');
    expect(access.restrictedName('/guardian')).toBeUndefined();
    expect(access.restrictedName('/codex resume x')).toBe('codex resume');
  });
});
