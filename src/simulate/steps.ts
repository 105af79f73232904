// The step interpreter: what each scenario verb does to the world (the scripted app-server,
// the room, the host, virtual time) and when it counts as a divergence.
import { mismatch } from './match.js';
import type { InboxEntry } from './peer.js';
import type { Step } from './scenario.js';
import { checkFinal, closest } from './checks.js';
import { json, strip } from './format.js';
import { DEFAULT_UNTIL_MS, StepFailure, type World } from './world.js';

export async function runStep(w: World, step: Step): Promise<void> {
  if ('post' in step) return w.post(step.post, step.from, step.thread);
  if ('command' in step) return w.post(`/${step.command}${step.arg ? ` ${step.arg}` : ''}`, step.from, undefined);
  if ('decide' in step) return w.decide(step);
  if ('expect' in step) {
    let entry: InboxEntry | undefined;
    const found = await w.waitFor(() => (entry = w.peer.take(step.expect, step.params)) !== undefined, step.within ?? 0);
    if (!found || !entry) {
      const waiting = w.peer.unconsumed();
      throw new StepFailure(`expected the client to send ${step.expect}${step.params !== undefined ? ` with ${json(step.params)}` : ''}, but it did not`, {
        expected: { method: step.expect, params: step.params },
        actual: waiting.map((w) => ({ method: w.method, params: w.params })),
        details: waiting.length
          ? ['client requests not consumed by the script:', ...waiting.map((w) => `  ${w.method} ${json(w.params, 300)}`), ...sameMethodHint(w, step.expect, step.params)]
          : ['the client sent no request the script has not consumed'],
      });
    }
    if (step.respond !== undefined || step.error !== undefined) w.reply(entry, step.error ? { error: step.error } : { result: step.respond });
    else if (step.as) w.held.set(step.as, entry);
    return;
  }
  if ('respond' in step) {
    const entry = w.held.get(step.respond);
    if (!entry) throw new StepFailure(`no request named "${step.respond}" is held (name it with "as" on its expect step)`);
    w.held.delete(step.respond);
    w.reply(entry, step.error ? { error: step.error } : { result: step.result ?? {} });
    return;
  }
  if ('notify' in step) {
    if (!w.peer.push(step.params === undefined ? { method: step.notify } : { method: step.notify, params: step.params })) {
      throw new StepFailure(`cannot send ${step.notify}: no app-server process is running`);
    }
    return;
  }
  if ('request' in step) {
    const id = step.id ?? w.nextServerId++;
    const name = step.as ?? String(id);
    w.serverRequests.set(name, id);
    if (!w.peer.push({ id, method: step.request, params: step.params ?? {} })) {
      throw new StepFailure(`cannot send ${step.request}: no app-server process is running`);
    }
    return;
  }
  if ('answer' in step) {
    const id = w.serverRequests.get(step.answer);
    if (id === undefined) throw new StepFailure(`no server request named "${step.answer}" was sent`);
    if (step.none) {
      const a = w.peer.answers.get(String(id));
      if (a) throw new StepFailure(`expected no answer to ${step.answer}, but the client answered`, { actual: strip(a) });
      return;
    }
    const got = await w.waitFor(() => w.peer.answers.has(String(id)), step.within ?? 0);
    if (!got) throw new StepFailure(`expected the client to answer server request ${step.answer} (id ${String(id)}), but it did not`, { expected: { result: step.result, error: step.error } });
    const a = strip(w.peer.answers.get(String(id))!);
    const expected = { ...(step.result !== undefined ? { result: step.result } : {}), ...(step.error !== undefined ? { error: step.error } : {}) };
    const m = mismatch(a, expected);
    if (m) throw new StepFailure(`the answer to ${step.answer} differs at ${m.path}: ${m.why}`, { expected, actual: a, mismatch: m });
    return;
  }
  if ('send' in step) {
    if (!w.peer.push(step.send)) throw new StepFailure('cannot send: no app-server process is running');
    return;
  }
  if ('malformed' in step) {
    if (!w.peer.push(step.malformed)) throw new StepFailure('cannot send: no app-server process is running');
    return;
  }
  if ('crash' in step) {
    const k = step.crash;
    const ok = w.peer.crash({
      ...(k.code !== undefined ? { code: k.code } : {}),
      ...(k.signal !== undefined ? { signal: k.signal } : {}),
      ...(k.kind ? { kind: k.kind } : {}),
      ...(k.reason ? { reason: k.reason } : {}),
      ...(k.stderr ? { stderrTail: k.stderr } : {}),
      ...(k.retryable !== undefined ? { retryable: k.retryable } : {}),
    });
    if (!ok) throw new StepFailure('cannot crash: no app-server process is running');
    return;
  }
  if ('hang' in step) {
    if (!w.peer.hang()) throw new StepFailure('cannot hang: no app-server process is running');
    return;
  }
  if ('restart' in step) {
    w.conn.restart(step.restart);
    return;
  }
  if ('shutdown' in step) {
    w.shutDown = true;
    await w.drive(w.mgr.stop({ interrupt: step.shutdown.interrupt }));
    w.router.dispose('host shut down');
    await w.drive(w.conn.stop());
    return;
  }
  if ('delay' in step) return w.advance(step.delay);
  if ('until' in step) {
    let at = -1;
    const found = await w.waitFor(() => {
      at = w.events.findIndex((e, i) => i >= w.untilCursor && !mismatch(e, step.until));
      return at >= 0;
    }, step.within ?? DEFAULT_UNTIL_MS);
    if (!found) {
      throw new StepFailure(`no room event matching ${json(step.until)} within ${step.within ?? DEFAULT_UNTIL_MS} ms (virtual)`, {
        expected: step.until,
        ...closest(w, step.until, w.untilCursor),
      });
    }
    w.untilCursor = at + 1;
    return;
  }
  if ('assert' in step) {
    const d = checkFinal(w, step.assert, w.finalStates(), 'assert');
    if (d) throw new StepFailure(d.message, { expected: d.expected, actual: d.actual, ...(d.mismatch ? { mismatch: d.mismatch } : {}) });
    return;
  }
  throw new StepFailure(`unknown step ${json(step)}`);
}

function sameMethodHint(w: World, method: string, params: unknown): string[] {
  if (params === undefined) return [];
  const same = w.peer.inbox.filter((x) => x.method === method);
  return same.flatMap((x) => {
    const m = mismatch(x.params, params);
    return m ? [`a ${method} ${x.consumed ? 'already consumed' : 'was sent'} but differs at ${m.path}: ${m.why}`] : [];
  });
}
