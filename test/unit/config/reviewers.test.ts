// appServer.mode "guardian" = Codex's own reviewer subagent (as the gateway seed's preset);
// Switchboard's rule engine is the "policy" reviewer, its former name "guardian" read with a warning.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/load.js';
import { stackSettingsFromConfig } from '../../../src/stack/settings.js';

const settingsOf = (flags: Record<string, unknown>) => {
  const loaded = loadConfig({ env: {}, flags });
  const s = stackSettingsFromConfig(loaded.config, '0.0.0');
  const session = s.sessions.settings({ id: 'a', model: undefined, models: undefined, cwd: '/w', developerInstructions: undefined, approvers: [] });
  return { loaded, reviewer: s.approvals.reviewer, policy: s.approvals.policy, session };
};

describe('approval modes in the config', () => {
  it('mode "guardian" sends thread/start what the seed\'s table says; Switchboard\'s reviewer is the user', () => {
    const { session, reviewer, loaded } = settingsOf({ appServer: { mode: 'guardian' } });
    expect(session).toMatchObject({ approvalPolicy: 'on-request', approvalsReviewer: 'guardian_subagent', sandbox: 'workspace-write' });
    expect(reviewer).toBe('user');
    expect(loaded.warnings).toEqual([]);
  });

  it('individual policy fields still override the mode', () => {
    const { session } = settingsOf({ appServer: { mode: 'guardian', sandbox: 'read-only', approvalsReviewer: 'auto_review' } });
    expect(session).toMatchObject({ approvalPolicy: 'on-request', approvalsReviewer: 'auto_review', sandbox: 'read-only' });
    expect(loadConfig({ env: { SWITCHBOARD_MODE: 'guardian' } }).config.appServer.mode).toBe('guardian');
  });

  it('mode "policy": sandboxed, Codex asks Switchboard, whose rules answer', () => {
    const rules = { rules: [{ effect: 'allow', command: 'ls' }], fallback: 'deny' };
    const { session, reviewer, policy, loaded } = settingsOf({ appServer: { mode: 'policy' }, approvals: { policy: rules } });
    expect(session).toMatchObject({ approvalPolicy: 'on-request', approvalsReviewer: 'user', sandbox: 'workspace-write' });
    expect(reviewer).toBe('policy');
    expect(policy).toEqual({ rules: [{ effect: 'allow', command: 'ls' }], fallback: 'deny' });
    expect(loaded.warnings).toEqual([]);
  });
});

describe('the former name "guardian" of the policy reviewer', () => {
  it('approvals.reviewer "guardian" and approvals.guardian are read as "policy", each with a warning', () => {
    const { reviewer, policy, loaded } = settingsOf({ approvals: { reviewer: 'guardian', guardian: { rules: [{ effect: 'deny', command: 'rm' }] } } });
    expect(reviewer).toBe('policy');
    expect(policy).toMatchObject({ rules: [{ effect: 'deny', command: 'rm' }], fallback: 'escalate' });
    expect(loaded.warnings).toEqual([
      'approvals.reviewer (flag): "guardian" is deprecated, write "policy" (Switchboard\'s rule engine); Codex\'s own reviewer is appServer.mode "guardian". Read as "policy"',
      'approvals.guardian (flag): deprecated, write approvals.policy (the rules of the "policy" reviewer). Read as approvals.policy',
    ]);
  });

  it('both names at once is an error', () => {
    expect(() => loadConfig({ env: {}, flags: { approvals: { guardian: { fallback: 'deny' }, policy: { fallback: 'deny' } } } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: {}, flags: { approvals: { guardian: { fallback: 'deny' }, policy: { fallback: 'deny' } } } })).toThrow(/approvals.guardian \(flag\): the former name of approvals.policy, and both are set/);
  });

  it('rules that no reviewer applies are pointed out (a config from when mode "guardian" meant the rule engine)', () => {
    const { loaded } = settingsOf({ appServer: { mode: 'guardian' }, approvals: { policy: { rules: [{ effect: 'allow', command: 'ls' }] } } });
    expect(loaded.warnings).toEqual([
      'approvals.policy has 1 rule(s) but the reviewer is "user", so none applies: set appServer.mode "policy" (sandboxed; Switchboard\'s rules answer Codex) or approvals.reviewer "policy"; appServer.mode "guardian" lets Codex\'s own reviewer subagent decide',
    ]);
  });

  it('an unknown reviewer names the accepted ones', () => {
    expect(() => loadConfig({ env: {}, flags: { approvals: { reviewer: 'robot' } } })).toThrow(/approvals.reviewer \(flag\): write one of "user", "policy"/);
  });

  it('a bad field under the former name is reported with its source', () => {
    expect(() => loadConfig({ env: {}, flags: { approvals: { guardian: { fallback: 'shrug' } } } })).toThrow(/approvals.policy.fallback \(flag\): write one of "escalate", "deny"/);
  });
});
