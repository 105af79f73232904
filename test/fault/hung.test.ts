// Fault suite, part 1b: a HUNG app-server — the real `codex app-server` frozen with SIGSTOP
// mid-stream: alive, holding its pipes and its thread, producing no output at all.
//
// Spec: the turn watchdog fires (short watchdog here), the unconfirmed interrupt escalates
// to a restart, the turn fails, and the conversation goes on on the same thread.
//
// The tests after the first guard three restart races found by this suite (now fixed):
// the old server used to be closed gently in the background while its replacement started,
// so (1) thread/resume on the new server failed with "already has an active writer" and the
// conversation was forked, (2) the old server's late exit detached the new, healthy
// transport, and (3) it could kill the replacement's handshake. A restart now kills the old
// server at once, and only a transport's own actor may detach it.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { say } from '../support/mock-model.js';
import { requestText, slowText } from '../support/fault-model.js';
import { isAlive, waitFor } from '../support/procs.js';
import { cleanupAll, faultHost, faultWorld, finishFaultFile, inject, killGroup, SESSION, type FaultHost, type HostOptions, type World } from '../support/fault-harness.js';

afterEach(cleanupAll);
afterAll(() => finishFaultFile('fault.hung'), 30_000);

const watchdog = { watchdogMs: 1_000, interruptWaitMs: 500 };
const script = (word: string) => [say(`Noted: ${word}.`), slowText('tick '.repeat(100), 100, 50), say(`It was ${word}.`)];

function expectConversation(w: World, i: number, ...texts: string[]): void {
  const text = requestText(w.model.requests[i]);
  for (const t of texts) expect(text, `model request ${i} should contain "${t}"`).toContain(t);
}

/**
 * A thread with one remembered word, then a turn whose app-server freezes mid-stream: the
 * watchdog fires, the interrupt is not confirmed, the connection restarts.
 */
async function hang(word: string, opts: HostOptions, beforeRestart?: (h: FaultHost, frozen: number) => void) {
  const w = await faultWorld(script(word));
  const h = await faultHost(w, { ...opts, settings: { ...watchdog, ...opts.settings } });
  h.post(`Remember the word ${word}`);
  const first = (await h.room.end()) as Awaited<ReturnType<FaultHost['room']['end']>> & { threadId: string; turnId: string };
  expect(first.type).toBe('turn.completed');
  h.post('Stream for a while');
  const started = await h.room.next('turn.started', (e) => e.turnId !== first.turnId);
  await h.room.next('message.delta', (d) => d.turnId === started.turnId);
  const frozen = h.conn.status().pid!;
  beforeRestart?.(h, frozen);
  killGroup(frozen, 'SIGSTOP');
  const failed = await h.room.end(15_000);
  expect(failed).toMatchObject({ type: 'turn.failed', turnId: started.turnId });
  expect((failed as { error: string }).error).toMatch(/no progress/);
  expect(h.room.notices()).toContain('No progress from Codex for 1 s: interrupting the turn.');
  expect(h.room.notices()).toContain('Codex did not confirm the interrupt within 0.5 s; restarting the app-server.');
  return { w, h, first, frozen };
}

describe('hung app-server (SIGSTOP: alive, silent)', () => {
  it('the watchdog fires, the interrupt escalates to a restart, the next message resumes the thread', async () => {
    const survived = inject('hung app-server (no output)');
    // The frozen server is SIGKILLed ~0.1 s after the restart, well before its replacement
    // is spawned (backoff 0.5 s): the restart path without the races pinned below.
    const { w, h, first, frozen } = await hang('IBIS', { closeGraceMs: 50, killGraceMs: 50, backoffBaseMs: 500 });
    expect(await waitFor(() => !isAlive(frozen), 5_000)).toBe(true);
    await h.conn.waitForReady(undefined, 10_000);
    expect(h.conn.status()).toMatchObject({ state: 'running.ready', restarts: 1 });
    expect(h.conn.status().pid).not.toBe(frozen);

    h.post('What was the word?');
    const third = await h.room.end(30_000);
    expect(third).toMatchObject({ type: 'turn.completed', threadId: first.threadId, session: SESSION });
    expectConversation(w, 2, 'Remember the word IBIS', 'Noted: IBIS.', 'What was the word?');
    survived();
  });

  it('a restart kills the hung server at once (even with long grace periods); the next message resumes the SAME thread', async () => {
    // Long grace periods would keep a gently-closed server alive next to its replacement,
    // which made thread/resume fail with "already has an active writer" and fork the thread.
    const { w, h, first, frozen } = await hang('EGRET', { closeGraceMs: 1_000, killGraceMs: 10_000 });
    expect(await waitFor(() => !isAlive(frozen), 2_000)).toBe(true);
    await h.conn.waitForReady(undefined, 10_000);
    h.post('What was the word?');
    const third = await h.room.end(30_000);
    expect(third).toMatchObject({ type: 'turn.completed', threadId: first.threadId });
    expect(h.room.notices().some((n) => n.includes('already has an active writer'))).toBe(false);
    expectConversation(w, 2, 'Remember the word EGRET', 'What was the word?');
  });

  it('the old server exiting late never disconnects the new one', async () => {
    const { h, frozen } = await hang('CRANE', { closeGraceMs: 200, killGraceMs: 4_000 });
    await h.conn.waitForReady(undefined, 10_000);
    expect(await waitFor(() => !isAlive(frozen), 10_000)).toBe(true);
    await waitFor(() => false, 200); // let any exit of the old transport be processed
    expect(h.conn.status()).toMatchObject({ state: 'running.ready', restarts: 1 });
    await expect(h.conn.request('model/list', {}, { timeoutMs: 5_000 })).resolves.toHaveProperty('data');
  });

  it('the replacement handshake is not disturbed by the old server dying', async () => {
    const { h, frozen } = await hang('STORK', { closeGraceMs: 1_000, killGraceMs: 10_000 }, (host, pid) => {
      // If the old server were still alive when the replacement sends `initialize`, kill it then.
      host.tap.before.push((msg, to) => {
        if (msg.method === 'initialize' && to !== pid && isAlive(pid)) killGroup(pid, 'SIGKILL');
      });
    });
    await h.conn.waitForReady(undefined, 10_000);
    expect(h.conn.status()).toMatchObject({ state: 'running.ready', restarts: 1 });
    expect(h.conn.status().lastExit ?? '').not.toMatch(/handshake failed/);
    expect(isAlive(frozen)).toBe(false);
  });
});
