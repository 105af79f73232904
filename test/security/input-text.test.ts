// Issue 11 #6: ill-formed text and a turn/start Codex never answers must not wedge a
// conversation. The text test runs the real `codex app-server` with the scripted model
// through the embedding API; the stall runs the real session and turn machines against a
// scripted app-server in virtual time (the real binary cannot be made to stay silent on demand
// once the text is repaired).
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RoomEvent } from '../../src/events/room-events.js';
import { runScenario } from '../../src/simulate/runner.js';
import { parseScenario } from '../../src/simulate/scenario.js';
import { wellFormedText } from '../../src/attachments/text.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { say } from '../support/mock-model.js';
import { closeWorlds, turnEnd, world } from './input-world.js';

afterEach(closeWorlds);

/** Every text the model received from the user, as one string. */
function userText(req: { input: Array<Record<string, unknown>> }): string {
  return JSON.stringify(req.input.filter((i) => i.role === 'user'));
}

describe('#6 text: ill-formed UTF-16 and control characters', () => {
  it('wellFormedText replaces lone surrogates with U+FFFD and keeps pairs', () => {
    expect(wellFormedText('a\ud800b\udc00c')).toBe('a\ufffdb\ufffdc');
    expect(wellFormedText('emoji \ud83d\ude00 ok')).toBe('emoji \ud83d\ude00 ok');
    expect(wellFormedText('end\ud83d')).toBe('end\ufffd');
  });

  it('a message with a lone surrogate completes a real turn; the model gets the repaired text', async () => {
    const { sb, box, events } = await world([say('Got it.'), say('Second answer.')]);
    await sb.start();
    let done = turnEnd(sb);
    await sb.post({ room: 'lab', from: { id: 'ann', name: 'Ann\ud800' }, text: 'half an emoji: \ud83d and a NUL\u0000 here' });
    const first = await done;
    expect(first.type, JSON.stringify(events.filter((e) => e.type === 'notice' || e.type === 'turn.failed'))).toBe('turn.completed');
    const sent = userText(box.model.requests[0]!);
    expect(sent).toContain('half an emoji: \ufffd and a NUL here');
    expect(sent).not.toMatch(/\\ud83d"|\\u0000/);
    // The conversation is not wedged: the next message is a new turn on the same thread.
    done = turnEnd(sb);
    await sb.post({ room: 'lab', from: { id: 'ann', name: 'Ann' }, text: 'and again' });
    expect((await done).type).toBe('turn.completed');
    expect(events.filter((e) => e.type === 'message.completed').map((e) => (e as { text: string }).text)).toEqual(['Got it.', 'Second answer.']);
  });
});

describe('#6 stall: turn/start never answered', () => {
  it('the turn fails after the bounded wait with a clear error; /status is idle and the next message works', async () => {
    const scenario = parseScenario({
      name: 'turn/start dropped by Codex',
      description: 'Codex never answers turn/start (as 0.169.0 does for ill-formed text).',
      steps: [
        { post: 'first' },
        { expect: 'thread/start', respond: { thread: { id: 'thr_1' } } },
        { expect: 'turn/start', as: 'start', note: 'never answered' },
        { delay: 30_000 },
        { command: 'status' },
        { post: 'second' },
        { expect: 'turn/start', params: { threadId: 'thr_1' }, respond: { turn: { id: 'turn_2', status: 'inProgress', items: [] } } },
        { notify: 'item/agentMessage/delta', params: { threadId: 'thr_1', turnId: 'turn_2', itemId: 'm1', delta: 'Here.' } },
        { notify: 'turn/completed', params: { threadId: 'thr_1', turn: { id: 'turn_2', status: 'completed', items: [] } } },
      ],
      expect: {
        events: [
          { type: 'notice', level: 'warning', text: { $regex: '^Codex did not accept the turn within 30 s' } },
          { type: 'turn.failed', threadId: 'thr_1', error: 'Codex did not accept the turn within 30 s (turn/start got no answer)' },
          { type: 'notice', text: { $regex: 'Turn: idle' } },
          { type: 'turn.started', turnId: 'turn_2' },
          { type: 'message.delta', delta: 'Here.' },
          { type: 'turn.completed', turnId: 'turn_2' },
        ],
        final: { sessionStatus: { turnRunning: false, lastTurn: { status: 'completed' } }, connectionStatus: { pending: 0 } },
      },
    });
    const r = await runScenario(scenario);
    expect(r.divergence?.message).toBeUndefined();
    expect(r.ok).toBe(true);
    // Failed at the bound, not at the 300 s watchdog.
    const failed = r.events.find((e) => e.type === 'turn.failed')!;
    const posted = r.events[0]?.at ?? 0;
    expect(failed.at - posted).toBeLessThan(300_000);
  });

  it('the start wait is configurable (turns.startTimeoutMs, default 30 s) and capped at 2^31-1 ms', () => {
    expect(ConfigSchema.parse({}).turns.startTimeoutMs).toBe(30_000);
    expect(ConfigSchema.parse({ turns: { startTimeoutMs: 2 ** 31 - 1 } }).turns.startTimeoutMs).toBe(2 ** 31 - 1);
    const r = ConfigSchema.safeParse({ turns: { startTimeoutMs: 2 ** 31 } });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path).toEqual(['turns', 'startTimeoutMs']);
    expect(ConfigSchema.safeParse({ attachments: { maxBytes: 0 } }).success).toBe(false);
  });
});

describe('#6 stall through production wiring: turns.startTimeoutMs reaches the turn', () => {
  it('a supervisor configured with turns.startTimeoutMs fails an unanswered turn/start at that bound and stays usable', async () => {
    const fakeServer = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'support', 'fake-app-server.mjs');
    const { sb } = await world([], (box) => ({
      appServer: { command: process.execPath, args: [fakeServer], env: { ...box.env, FAKE_SILENT_METHODS: 'turn/start' }, discovery: { enabled: false, timeoutMs: 1 } },
      agents: { defaults: { cwd: box.workspace, model: 'fake-model' } },
      sessions: { bindingsDir: path.join(box.root, 'bindings'), idleWatchdogSeconds: 120 },
      storage: { kind: 'none' },
      turns: { startTimeoutMs: 700 },
    }));
    await sb.start();
    const t0 = Date.now();
    const ended = turnEnd(sb);
    await sb.post({ room: 'lab', from: { id: 'ann' }, text: 'hello' });
    const failed = (await ended) as Extract<RoomEvent, { type: 'turn.failed' }>;
    expect(failed).toMatchObject({ type: 'turn.failed', error: 'Codex did not accept the turn within 0.7 s (turn/start got no answer)' });
    expect(Date.now() - t0).toBeLessThan(20_000);
    // Not wedged: the next message starts a turn of its own (and meets the same bound).
    const again = turnEnd(sb);
    await sb.post({ room: 'lab', from: { id: 'ann' }, text: 'still there?' });
    expect((await again).type).toBe('turn.failed');
  });
});
