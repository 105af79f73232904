// A person's decision, routed to the harness that holds the approval. The role rule is
// checked here as well as in each harness: fail closed even against a harness that forgets.
import type { Logger } from 'pino';
import { summarize } from '../protocol/wire.js';
import type { Harness } from './harness.js';
import { DecideSchema, type DecideInput } from './post.js';

export type DecideResult = { ok: true } | { ok: false; reason: string };

/** Decides where the approval lives: here, or (several nodes) on the node that asked, through `cluster`. */
export interface DecisionCluster {
  decide(d: DecideInput): Promise<DecideResult>;
  /** An approval this node asked: a refusal when it no longer drives the conversation (undefined: not one of them). */
  stillDriving(approvalId: string): Promise<DecideResult | undefined> | undefined;
}

export function decideHereOrForward(harnesses: Iterable<Harness>, input: DecideInput, log: Logger, cluster: DecisionCluster | undefined): DecideResult | Promise<DecideResult> {
  const here = (): DecideResult | Promise<DecideResult> => {
    const r = routeDecision(harnesses, input, log);
    if (r.ok || !cluster || !r.reason.startsWith('unknown approval')) return r;
    return cluster.decide(input);
  };
  const check = typeof input?.approvalId === 'string' ? cluster?.stillDriving(input.approvalId) : undefined;
  return check ? check.then((refused) => refused ?? here()) : here();
}

export function routeDecision(harnesses: Iterable<Harness>, input: DecideInput, log: Logger): DecideResult {
  const parsed = DecideSchema.safeParse(input);
  if (!parsed.success) return { ok: false, reason: `invalid decision: ${summarize(parsed.error)}` };
  const i = parsed.data;
  if (i.role === 'observer' || i.role === 'agent') {
    log.warn({ approvalId: i.approvalId, by: i.by, role: i.role }, 'decision rejected');
    return { ok: false, reason: `${i.by} may not decide approvals: ${i.role}s cannot decide` };
  }
  // Transports may add fields of their own: pass only the decision.
  const d = {
    approvalId: i.approvalId,
    by: i.by,
    decision: i.decision,
    ...(i.role ? { role: i.role } : {}),
    ...(i.room ? { room: i.room } : {}),
    ...(i.content !== undefined ? { content: i.content } : {}),
  };
  for (const h of harnesses) {
    if (!h.decide) continue;
    const r = h.decide(d);
    if (r.ok || !/unknown approval|no such approval|not found/i.test(r.reason)) return r;
  }
  return { ok: false, reason: `unknown approval "${d.approvalId}"` };
}
