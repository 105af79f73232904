// The policy reviewer: Switchboard's own rule engine (allow/deny rules). Deny rules win over
// allow rules; a request no rule decides is escalated to the user or denied, by configuration.
// Every decision carries the reason (the rule) that produced it. (Codex's own reviewer
// subagent, "guardian", is a different thing: see native-guardian.ts.)
import { z } from 'zod';
import { summarize } from '../protocol/wire.js';
import { allSegments, hostMatches, nameMatches, parseCommand, pathMatches, startsWithWords } from './match.js';
import { ApprovalKindSchema, type ApprovalRequest, type ReviewContext, type ReviewResult, type Reviewer, type ReviewSubject } from './types.js';

const stringOrList = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

const PolicyRuleSchema = z
  .strictObject({
    effect: z.enum(['allow', 'deny']),
    /** Shown in the room and the audit; defaults to a description of the rule. */
    reason: z.string().optional(),
    /** Only these kinds (default: any kind the matchers apply to). */
    kinds: z.array(ApprovalKindSchema).min(1).optional(),
    /** Command prefixes, word by word (`"git status"`, `["npm", "test"]` style strings). */
    command: stringOrList.optional(),
    /** Path globs for file changes, permission paths, legacy patches. */
    paths: stringOrList.optional(),
    /** Network hosts: `example.com`, `*.example.com`, `*`. */
    hosts: stringOrList.optional(),
    /** MCP server / tool names (`*` wildcards). */
    mcpServer: z.string().min(1).optional(),
    mcpTool: z.string().min(1).optional(),
    /** A permissions request asking for network access. */
    network: z.boolean().optional(),
  })
  .refine((r) => r.command || r.paths || r.hosts || r.mcpServer || r.mcpTool || r.network !== undefined || r.kinds, {
    message: 'a rule needs at least one matcher (command, paths, hosts, mcpServer, mcpTool, network or kinds)',
  });
export type PolicyRule = z.infer<typeof PolicyRuleSchema>;

export const ReviewPolicySchema = z.strictObject({
  rules: z.array(PolicyRuleSchema).default([]),
  /** When no rule decides: ask the user (`escalate`) or deny. */
  fallback: z.enum(['escalate', 'deny']).default('escalate'),
});
export type ReviewPolicy = z.infer<typeof ReviewPolicySchema>;
export type ReviewPolicyInput = z.input<typeof ReviewPolicySchema>;

/**
 * A reviewer's current name: `guardian` is the policy reviewer's former name (deprecated
 * since "guardian" means Codex's own reviewer subagent).
 */
export const reviewerName = (name: string): string => (name === 'guardian' ? 'policy' : name);

export function parseReviewPolicy(input: unknown): ReviewPolicy {
  const r = ReviewPolicySchema.safeParse(input ?? {});
  if (!r.success) throw new Error(`invalid review policy: ${summarize(r.error)}`);
  return r.data;
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const words = (prefix: string): string[] => parseCommand(prefix).segments[0] ?? [];

/** Kinds the policy can judge; forms, URLs and questions need a person. */
const JUDGEABLE = new Set(['command', 'fileChange', 'permissions', 'mcpToolApproval', 'legacyCommand', 'legacyPatch']);

type Verdict = 'match' | 'no';

/**
 * Does one matcher of a rule match the subject? Allow and deny read matchers differently,
 * always in the direction that denies more: an allow needs every path / host covered and
 * a simple command; a deny needs one path, host or command segment.
 */
function matchRule(rule: PolicyRule, kind: string, s: ReviewSubject): Verdict {
  const allow = rule.effect === 'allow';
  if (rule.kinds && !rule.kinds.includes(kind as never)) return 'no';
  if (rule.command) {
    if (s.command === undefined && s.argv === undefined) return 'no';
    const parsed = parseCommand(s.argv ?? s.command!);
    const prefixes = list(rule.command).map(words);
    if (allow) {
      // Operators, redirections and substitutions can do anything: an allow covers only a
      // single simple command whose words start with the prefix.
      if (parsed.compound || parsed.broken || parsed.segments.length !== 1) return 'no';
      if (!prefixes.some((p) => startsWithWords(parsed.segments[0]!, p))) return 'no';
    } else if (!allSegments(s.argv ?? s.command!).some((seg) => prefixes.some((p) => startsWithWords(seg, p, true)))) {
      return 'no';
    }
  }
  if (rule.paths) {
    const globs = list(rule.paths);
    if (!s.paths || s.paths.length === 0) return 'no';
    const hit = (p: string) => globs.some((g) => pathMatches(p, g, s.cwd));
    if (allow ? !s.paths.every(hit) : !s.paths.some(hit)) return 'no';
  }
  if (rule.hosts) {
    const pats = list(rule.hosts);
    if (!s.hosts || s.hosts.length === 0) return 'no';
    const hit = (h: string) => pats.some((p) => hostMatches(h, p));
    if (allow ? !s.hosts.every(hit) : !s.hosts.some(hit)) return 'no';
  }
  if (rule.mcpServer && (s.mcpServer === undefined || !nameMatches(s.mcpServer, rule.mcpServer))) return 'no';
  if (rule.mcpTool && (s.mcpTool === undefined || !nameMatches(s.mcpTool, rule.mcpTool))) return 'no';
  if (rule.network !== undefined && s.network !== rule.network) return 'no';
  if (allow) {
    // An allow vouches for everything the request touches: paths must be known and covered
    // by the rule's globs, and network access needs a rule that says `network: true`.
    if (kind === 'fileChange' || kind === 'legacyPatch' || kind === 'permissions') {
      if (s.paths === undefined) return 'no';
      if (s.paths.length > 0 && !rule.paths) return 'no';
      if (s.paths.length === 0 && kind !== 'permissions') return 'no';
    }
    if (kind === 'permissions' && s.network && rule.network !== true) return 'no';
    if (s.hosts?.length && !rule.hosts) return 'no'; // a command rule does not vouch for a host
  }
  return 'match';
}

function describeRule(rule: PolicyRule): string {
  const parts: string[] = [];
  if (rule.kinds) parts.push(`kinds ${rule.kinds.join('|')}`);
  if (rule.command) parts.push(`command ${list(rule.command).map((c) => JSON.stringify(c)).join('|')}`);
  if (rule.paths) parts.push(`paths ${list(rule.paths).join('|')}`);
  if (rule.hosts) parts.push(`hosts ${list(rule.hosts).join('|')}`);
  if (rule.mcpServer) parts.push(`mcp server ${rule.mcpServer}`);
  if (rule.mcpTool) parts.push(`mcp tool ${rule.mcpTool}`);
  if (rule.network !== undefined) parts.push(`network ${rule.network}`);
  return `${rule.effect} rule (${parts.join(', ')})`;
}

export interface PolicyVerdict {
  effect: 'allow' | 'deny' | 'none';
  rule: PolicyRule | undefined;
  reason: string;
}

/** Evaluate the policy for a request: deny rules first, then allow rules, else none. */
export function evaluatePolicy(policy: ReviewPolicy, request: Pick<ApprovalRequest, 'kind' | 'subject'>): PolicyVerdict {
  if (!JUDGEABLE.has(request.kind)) return { effect: 'none', rule: undefined, reason: `the policy does not answer ${request.kind} requests` };
  for (const effect of ['deny', 'allow'] as const) {
    for (const rule of policy.rules) {
      if (rule.effect !== effect) continue;
      if (matchRule(rule, request.kind, request.subject) === 'match') {
        return { effect, rule, reason: rule.reason ?? describeRule(rule) };
      }
    }
  }
  return { effect: 'none', rule: undefined, reason: 'no policy rule matches' };
}

export class PolicyReviewer implements Reviewer {
  readonly name = 'policy';
  readonly policy: ReviewPolicy;

  constructor(policy: ReviewPolicyInput | ReviewPolicy = {}) {
    this.policy = parseReviewPolicy(policy);
  }

  async review(request: ApprovalRequest, _ctx?: ReviewContext): Promise<ReviewResult> {
    const v = evaluatePolicy(this.policy, request);
    const denyChoice = request.choices.includes('decline') ? 'decline' : 'cancel';
    if (v.effect === 'deny') return { choice: denyChoice, reason: `policy: ${v.reason}`, by: this.name };
    // A `humanCommand` is a checkpoint that needs a fresh decision of a person: no rule allows it.
    if (v.effect === 'allow' && request.detail.commandKind === 'humanCommand') return this.fallback(request, 'a humanCommand needs a person\'s decision', denyChoice, true);
    if (v.effect === 'allow') {
      // Allow means "this once": persistence (session/always, amendments) stays a human call.
      if (request.choices.includes('accept')) return { choice: 'accept', reason: `policy: ${v.reason}`, by: this.name };
      return this.fallback(request, `an allow rule matched but "accept" was not offered (${v.reason})`, denyChoice);
    }
    return this.fallback(request, v.reason, denyChoice);
  }

  private fallback(_request: ApprovalRequest, why: string, denyChoice: string, toPerson = false): ReviewResult {
    if (this.policy.fallback === 'escalate' || toPerson) return { escalate: true, reason: `policy: ${why}` };
    return { choice: denyChoice, reason: `policy: ${why}; denied by default`, by: this.name };
  }
}
