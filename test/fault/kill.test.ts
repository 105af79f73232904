// Fault suite, part 1: the REAL `codex app-server` is SIGKILLed (its whole process group)
// at each point of its lifecycle: handshake, thread start/resume, mid-stream, during an
// approval, during an interrupt. Each time: the turn in flight (if any) fails within a second, the connection comes back
// by itself, and the next message resumes the same Codex thread — the scripted model's next
// request carries the earlier conversation.
//
// Deterministic windows: the wire tap stops the server (SIGSTOP) just before the frame of
// interest is written and kills it (SIGKILL) just after, so `initialize`, `thread/start`,
// `thread/resume` and `turn/interrupt` are provably in flight and never answered.
//
// The hung (SIGSTOPped) app-server is in test/fault/hung.test.ts.
// Not repeated here (see there): half-open WebSocket detected by the heartbeat
// (test/integration/transport-websocket.test.ts), -32001 overload retried with backoff for idempotent
// calls only (test/unit/connection/machine.test.ts), 100,000 fuzzed frames (test/fault/fuzz-frames.test.ts).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { say, shell } from '../support/mock-model.js';
import { requestText, slowText } from '../support/fault-model.js';
import { acceptsOnWire, cleanupAll, faultHost, faultWorld, finishFaultFile, inject, type FaultHost, type World } from '../support/fault-harness.js';

afterEach(cleanupAll);
afterAll(() => finishFaultFile('fault.kill'), 30_000);

/** The model's request `i` carries the whole earlier conversation of the thread. */
function expectConversation(w: World, i: number, ...texts: string[]): void {
  const text = requestText(w.model.requests[i]);
  for (const t of texts) expect(text, `model request ${i} should contain "${t}"`).toContain(t);
}

/** One completed turn that gives the thread something to remember. */
async function firstTurn(h: FaultHost, word: string) {
  h.post(`Remember the word ${word}`);
  const first = await h.room.end();
  expect(first.type).toBe('turn.completed');
  return first as typeof first & { threadId: string; turnId: string };
}

describe('app-server killed at each lifecycle point (real codex, kill -9 of the process group)', () => {
  it('during the handshake: the connection comes back and the waiting message resumes the thread', async () => {
    const survived = inject('app-server killed during the handshake');
    const w = await faultWorld([say('Noted: PELICAN.'), say('It was PELICAN.')]);
    const h = await faultHost(w);
    const lost: string[] = [];
    h.conn.onLifecycle((e) => e.type === 'lost' && lost.push(e.exit.reason));
    const first = await firstTurn(h, 'PELICAN');

    const inHandshake = h.killOn('initialize');
    const noticed = h.nextLifecycle('lost');
    const idle = h.kill(); // the restart after this kill is the handshake we kill
    await noticed;
    h.post('What was the word?'); // arrives while restarting: waits for a ready connection
    const killed = await inHandshake;
    expect(killed.pid).not.toBe(idle.pid);

    const second = await h.room.end(30_000);
    expect(second).toMatchObject({ type: 'turn.completed', threadId: first.threadId });
    expect(h.conn.status()).toMatchObject({ state: 'running.ready', restarts: 2 });
    expect(lost).toEqual(['codex app-server exited on SIGKILL', 'codex app-server exited on SIGKILL']);
    expect(h.tap.sent.filter((m) => m.method === 'initialize')).toHaveLength(3);
    expect(w.model.requests).toHaveLength(2);
    expectConversation(w, 1, 'Remember the word PELICAN', 'Noted: PELICAN.', 'What was the word?');
    survived();
  });

  it('during thread/start and during thread/resume: the message is kept, bound on the new server, same thread after', async () => {
    const survived = inject('app-server killed during thread start/resume');
    const w = await faultWorld([say('Noted: KIWI.'), say('It was KIWI.')]);
    const h = await faultHost(w);

    const inStart = h.killOn('thread/start');
    h.post('Remember the word KIWI');
    await inStart;
    const first = await h.room.end(30_000);
    expect(first.type).toBe('turn.completed');
    expect(h.tap.sent.filter((m) => m.method === 'thread/start')).toHaveLength(2);
    expect(h.room.notices().some((n) => n.startsWith('Could not open the Codex thread'))).toBe(true);
    expect(w.model.requests).toHaveLength(1); // the killed thread/start never reached the model

    const inResume = h.killOn('thread/resume');
    const noticed = h.nextLifecycle('lost');
    h.kill(); // the thread is now unloaded: the next message must resume it
    await noticed;
    h.post('What was the word?');
    await inResume;
    const second = await h.room.end(30_000);
    expect(second).toMatchObject({ type: 'turn.completed', threadId: (first as { threadId: string }).threadId });
    expect(h.tap.sent.filter((m) => m.method === 'thread/resume')).toHaveLength(2);
    expectConversation(w, 1, 'Remember the word KIWI', 'Noted: KIWI.', 'What was the word?');
    survived();
  });

  it('mid-stream (the model streaming slowly): the turn fails within a second, the next message resumes', async () => {
    const survived = inject('app-server killed mid-stream');
    const story = 'Once upon a time, in a land of endless summer, a heron counted the reeds one by one. '.repeat(3);
    const w = await faultWorld([say('Noted: HERON.'), slowText(story, 60, 60), say('It was HERON.')]);
    const h = await faultHost(w);
    const first = await firstTurn(h, 'HERON');

    h.post('Tell me a long story');
    const started = await h.room.next('turn.started', (e) => e.turnId !== first.turnId);
    await h.room.next('message.delta', (d) => d.turnId === started.turnId);
    await h.room.next('message.delta', (d) => d.turnId === started.turnId);
    const killed = h.kill();
    const failed = await h.room.end();
    expect(failed).toMatchObject({ type: 'turn.failed', turnId: started.turnId, threadId: first.threadId });
    expect((failed as { error: string }).error).toMatch(/connection to the app-server lost: codex app-server exited on SIGKILL/);
    expect(failed.receivedAt - killed.at).toBeLessThan(1_000); // functional bound: "fails within a second"
    const streamed = h.room.all('message.delta').filter((d) => d.turnId === started.turnId).length;
    expect(streamed).toBeGreaterThanOrEqual(2);
    expect(streamed).toBeLessThan(60); // it really was cut mid-stream

    await h.conn.waitForReady(undefined, 10_000);
    expect(h.conn.status().pid).not.toBe(killed.pid);
    h.post('What was the word?');
    const third = await h.room.end(30_000);
    expect(third).toMatchObject({ type: 'turn.completed', threadId: first.threadId });
    expectConversation(w, 2, 'Remember the word HERON', 'Noted: HERON.', 'What was the word?');
    survived();
  });

  it('during an approval: the turn fails within a second, the approval is withdrawn, the command never runs', async () => {
    const survived = inject('app-server killed during an approval');
    const w = await faultWorld([say('Noted: OTTER.'), shell('touch escaped.txt', { escalated: true }), say('It was OTTER.')]);
    const h = await faultHost(w, { settings: { approvalPolicy: 'untrusted' }, approvals: { reviewer: 'user' } });
    const first = await firstTurn(h, 'OTTER');

    h.post('Create a file');
    const prompt = await h.room.next('approval.requested');
    expect(h.router!.pending()).toMatchObject([{ approvalId: prompt.approvalId, awaitingUser: true }]);
    const killed = h.kill();
    const failed = await h.room.end();
    expect(failed).toMatchObject({ type: 'turn.failed', threadId: first.threadId });
    expect(failed.receivedAt - killed.at).toBeLessThan(1_000);
    expect(await h.room.next('approval.resolved')).toMatchObject({ approvalId: prompt.approvalId, outcome: 'withdrawn' });
    expect(h.audits).toMatchObject([{ approvalId: prompt.approvalId, outcome: 'withdrawn' }]);
    // A decision arriving after the disconnect is refused; nothing was ever answered.
    expect(h.router!.decide({ approvalId: prompt.approvalId, by: 'u-owner', decision: 'accept' })).toEqual({
      ok: false,
      reason: `approval ${prompt.approvalId} was withdrawn`,
    });

    h.post('What was the word?');
    const third = await h.room.end(30_000);
    expect(third).toMatchObject({ type: 'turn.completed', threadId: first.threadId });
    expectConversation(w, 2, 'Remember the word OTTER', 'Noted: OTTER.', 'What was the word?');
    expect(existsSync(path.join(w.cwd, 'escaped.txt'))).toBe(false);
    expect(acceptsOnWire(h.tap.sent)).toEqual([]);
    survived();
  });

  it('during turn/interrupt (/stop): the turn fails within a second, the next message resumes', async () => {
    const survived = inject('app-server killed during interrupt');
    const w = await faultWorld([say('Noted: LYNX.'), { text: 'never sent', stallMs: 60_000 }, say('It was LYNX.')]);
    const h = await faultHost(w);
    const first = await firstTurn(h, 'LYNX');

    h.post('Think for a long time');
    await h.room.next('turn.started', (e) => e.turnId !== first.turnId);
    await expect.poll(() => w.model.requests.length, { timeout: 10_000 }).toBe(2);
    const inInterrupt = h.killOn('turn/interrupt');
    h.post('/stop');
    const killed = await inInterrupt;
    const failed = await h.room.end();
    expect(failed).toMatchObject({ type: 'turn.failed', threadId: first.threadId });
    expect((failed as { error: string }).error).toMatch(/connection to the app-server lost/);
    expect(failed.receivedAt - killed.at).toBeLessThan(1_000);

    h.post('What was the word?');
    const third = await h.room.end(30_000);
    expect(third).toMatchObject({ type: 'turn.completed', threadId: first.threadId });
    expectConversation(w, 2, 'Remember the word LYNX', 'Noted: LYNX.', 'What was the word?');
    survived();
  });
});
