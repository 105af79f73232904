// Former setting names, accepted with a warning that says what to write instead. "guardian"
// now means Codex's own reviewer subagent (appServer.mode "guardian"); Switchboard's rule
// engine is the "policy" reviewer (approvals.reviewer "policy", rules in approvals.policy).
import type { SwitchboardConfig } from './schema.js';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Rewrites deprecated names in the raw (merged) configuration before it is parsed. `where`
 * names a field's source for the messages.
 */
export function applyDeprecations(merged: Json, where: (path: string[]) => string): { warnings: string[]; problems: string[] } {
  const warnings: string[] = [];
  const problems: string[] = [];
  const approvals = merged.approvals;
  if (!isObj(approvals)) return { warnings, problems };
  if (approvals.reviewer === 'guardian') {
    warnings.push(
      `approvals.reviewer (${where(['approvals', 'reviewer'])}): "guardian" is deprecated, write "policy" (Switchboard's rule engine); ` +
        `Codex's own reviewer is appServer.mode "guardian". Read as "policy"`,
    );
    approvals.reviewer = 'policy';
  }
  if ('guardian' in approvals) {
    if ('policy' in approvals) {
      problems.push(`approvals.guardian (${where(['approvals', 'guardian'])}): the former name of approvals.policy, and both are set: keep approvals.policy`);
    } else {
      warnings.push(`approvals.guardian (${where(['approvals', 'guardian'])}): deprecated, write approvals.policy (the rules of the "policy" reviewer). Read as approvals.policy`);
      approvals.policy = approvals.guardian;
    }
    delete approvals.guardian;
  }
  return { warnings, problems };
}

/** Rules that no reviewer will apply (e.g. a config written when mode "guardian" meant the rule engine). */
export function unusedPolicyWarning(config: SwitchboardConfig): string | undefined {
  const rules = config.approvals.policy?.rules.length ?? 0;
  if (rules === 0) return undefined;
  const reviewer = config.approvals.reviewer ?? (config.appServer.mode === 'policy' ? 'policy' : 'user');
  if (reviewer === 'policy') return undefined;
  return (
    `approvals.policy has ${rules} rule(s) but the reviewer is "${reviewer}", so none applies: set appServer.mode "policy" ` +
    `(sandboxed; Switchboard's rules answer Codex) or approvals.reviewer "policy"` +
    (config.appServer.mode === 'guardian' ? '; appServer.mode "guardian" lets Codex\'s own reviewer subagent decide' : '')
  );
}
