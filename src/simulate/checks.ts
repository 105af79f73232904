// Checks after the steps: requests nobody expected, the expected room events (ordered,
// partial), absent events, and final/asserted states; each failure is a Divergence.
import { matchSubsequence, mismatch } from './match.js';
import type { FinalExpect } from './scenario.js';
import type { Divergence, FinalStates } from './runner.js';
import { json } from './format.js';
import type { World } from './world.js';

export function checkUnexpected(w: World): Divergence | undefined {
  if (w.s.server.allowUnexpected) return undefined;
  const left = w.peer.unconsumed().filter((x) => !x.hung);
  if (left.length === 0) return undefined;
  return w.divergence('unexpected', `the client sent ${left.length} request(s) the script never expected: ${left.map((x) => x.method).join(', ')}`, {
    actual: left.map((x) => ({ method: x.method, params: x.params, process: x.process })),
    details: [...left.map((x) => `  ${x.method} ${json(x.params, 300)}`), 'add an "expect" step for each (or a server rule, or server.allowUnexpected)'],
  });
}

export function checkEvents(w: World): Divergence | undefined {
  const exp = w.s.expect;
  const r = matchSubsequence(w.events, exp.events);
  if (!r.ok) {
    const expected = exp.events[r.failedAt];
    return w.divergence('event', `expected room event #${r.failedAt} was not seen (searched from room event [${r.from}])`, {
      index: r.failedAt,
      expected,
      ...closest(w, expected, r.from),
      details: [
        r.indexes.length ? `matched so far: ${r.indexes.map((idx, e) => `#${e}→[${idx}]`).join(' ')}` : 'no expected event matched before it',
      ],
    });
  }
  for (let a = 0; a < exp.absent.length; a++) {
    const idx = w.events.findIndex((e) => !mismatch(e, exp.absent[a]));
    if (idx >= 0) {
      return w.divergence('absent', `room event [${idx}] matches absent #${a}, which must not appear`, {
        index: a,
        expected: { absent: exp.absent[a] },
        actual: { index: idx, event: w.events[idx] },
        details: [],
      });
    }
  }
  return undefined;
}

/** The nearest actual event to an expected one: same type first, from `from` on. */
export function closest(w: World, expected: unknown, from: number): Pick<Divergence, 'actual' | 'mismatch' | 'details'> {
  const type = (expected as { type?: unknown } | undefined)?.type;
  const sameType = w.events.map((e, i) => ({ e, i })).filter((x) => x.i >= from && (type === undefined || x.e.type === type));
  const before = w.events.map((e, i) => ({ e, i })).filter((x) => x.i < from && !mismatch(x.e, expected));
  const hints: string[] = [];
  if (before.length) hints.push(`a matching event exists earlier, at [${before.map((x) => x.i).join(', ')}] (the order differs)`);
  if (!sameType.length) {
    hints.push(type !== undefined ? `no "${String(type)}" event at or after [${from}]` : `no event at or after [${from}]`);
    return { details: hints };
  }
  const best = sameType[0]!;
  const m = mismatch(best.e, expected);
  if (m) hints.push(`closest: [${best.i}] differs at ${m.path}: ${m.why}`);
  return { actual: { index: best.i, event: best.e }, ...(m ? { mismatch: m } : {}), details: hints };
}

export function checkFinal(w: World, exp: FinalExpect, actual: FinalStates, kind: 'final' | 'assert'): Divergence | undefined {
  const what = kind === 'final' ? 'final state' : 'asserted state';
  const check = (field: string, expected: unknown, got: unknown): Divergence | undefined => {
    const m = mismatch(got, expected);
    if (!m) return undefined;
    return w.divergence('final', `${what} "${field}" differs at ${m.path}: ${m.why}`, {
      expected: { [field]: expected },
      actual: { [field]: got },
      mismatch: m,
      details: [],
    });
  };
  if (exp.connection !== undefined) {
    const d = check('connection', exp.connection, actual.connection);
    if (d) return d;
  }
  if (exp.connectionStatus) {
    const d = check('connectionStatus', exp.connectionStatus, actual.connectionStatus);
    if (d) return d;
  }
  if (exp.session !== undefined) {
    const d = check('session', exp.session, actual.session);
    if (d) return d;
  }
  if (exp.sessionStatus) {
    const d = check('sessionStatus', exp.sessionStatus, actual.sessionStatus);
    if (d) return d;
  }
  if (exp.pendingApprovals !== undefined) {
    const d = check('pendingApprovals', exp.pendingApprovals, actual.pendingApprovals);
    if (d) return d;
  }
  if (exp.answers) {
    for (const [name, want] of Object.entries(exp.answers)) {
      if (!w.serverRequests.has(name)) {
        return w.divergence('final', `${what} "answers.${name}": no server request of that name was sent`, { details: [] });
      }
      const got = actual.answers[name] ?? null;
      if (want === null) {
        if (got !== null) return w.divergence('final', `${what} "answers.${name}": expected no answer, got one`, { expected: null, actual: got, details: [] });
        continue;
      }
      if (got === null) return w.divergence('final', `${what} "answers.${name}": expected an answer, none was sent`, { expected: want, actual: null, details: [] });
      const d = check(`answers.${name}`, want, got);
      if (d) return d;
    }
  }
  if (exp.audits) {
    const r = matchSubsequence(actual.audits, exp.audits);
    if (!r.ok) {
      return w.divergence('final', `${what} "audits": expected audit #${r.failedAt} not found`, {
        expected: exp.audits[r.failedAt],
        actual: actual.audits.map((a) => ({ kind: a.kind, outcome: a.outcome, decision: a.decision, by: a.by, reason: a.reason })),
        details: [],
      });
    }
  }
  if (exp.requests) {
    const d = check('requests', exp.requests, actual.requests);
    if (d) return d;
  }
  return undefined;
}
