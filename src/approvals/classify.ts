// Every server request → an approval kind with the exact choices Codex offers, and a
// reviewer's decision → the wire answer. Pure functions over plain data, dispatched by
// method and kind to src/approvals/kinds/; anything not offered, malformed or unknown
// becomes the fail-closed denial.
import { UNSUPPORTED_METHODS, failClosedAnswer, validateServerAnswer, type ServerRequestAnswer } from '../protocol/server-requests.js';
import { answerKinds, requestMethods } from './kinds/index.js';
import { APPROVING, immediate, invalid, type AnswerVerdict, type Classification } from './kinds/shared.js';
import type { ApprovalRequest, Decision, RequestHints, ServerRequestData } from './types.js';

export { displayCommand } from './kinds/shared.js';
export type { AnswerVerdict, Classification } from './kinds/shared.js';

/**
 * Classify one server request. Never throws: a request we cannot understand is answered
 * at once with its fail-closed denial (`type: 'immediate'`).
 */
export function classifyServerRequest(approvalId: string, req: ServerRequestData, hints: RequestHints = {}): Classification {
  if (UNSUPPORTED_METHODS.has(req.method)) return immediate(req, undefined, `${req.method} is not supported by Switchboard`);
  const handler = requestMethods.get(req.method);
  if (!handler) return immediate(req, undefined, `unknown server request ${req.method}`);
  const r = handler.schema.safeParse(req.params);
  if (!r.success) return invalid(req, handler.kind, r.error);
  return handler.toRequest({ approvalId, req, hints }, r.data);
}

/** The fail-closed denial of a classified request. */
export function denialVerdict(method: string, reason: string): AnswerVerdict {
  return { answer: failClosedAnswer(method, reason), outcome: 'denied', failClosed: true, reason };
}

/**
 * Turn a reviewer's decision into the wire answer. A choice that was not offered, content
 * that does not fit, or an answer of the wrong shape all become the fail-closed denial.
 */
export function answerFor(request: ApprovalRequest, decision: Decision): AnswerVerdict {
  const { method } = request;
  const choice = decision.choice;
  if (!request.choices.includes(choice)) {
    return denialVerdict(method, `decision "${choice}" was not offered (offered: ${request.choices.join(', ') || 'none'})`);
  }
  const kind = answerKinds[request.kind];
  const r = kind.toAnswer(request, decision);
  if ('deny' in r) return denialVerdict(method, r.deny);
  const answer: ServerRequestAnswer = { result: r.result };
  const problem = validateServerAnswer(method, answer);
  if (problem) return denialVerdict(method, `answer for "${choice}" has the wrong shape: ${problem}`);
  const outcome = kind.outcome?.(choice) ?? (APPROVING.has(choice) ? 'approved' : 'denied');
  return { answer, outcome, failClosed: false, reason: decision.reason || `${choice} by the reviewer` };
}
