// The streamed deltas skip zod on their hot path (a hand check of the same shape): these prove
// the verdicts did not change, and that a malformed delta is still caught and kept out of the room.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { RpcEngine } from '../../../src/connection/rpc-engine.js';
import { classifyNotification, notificationSchemas, type InboundNotification } from '../../../src/protocol/notifications.js';
import { TurnTranslator } from '../../../src/turn/translate.js';
import type { RoomEvent } from '../../../src/events/room-events.js';
import { memoryLogger } from '../../support/log.js';

const DELTAS = [
  'item/agentMessage/delta',
  'item/plan/delta',
  'item/reasoning/summaryTextDelta',
  'item/reasoning/textDelta',
  'item/commandExecution/outputDelta',
  'item/fileChange/outputDelta',
] as const;

const good = { threadId: 'thr_1', turnId: 'turn_1', itemId: 'msg_1', delta: 'Hi' };
const payloads: Array<[string, unknown]> = [
  ['well formed', good],
  ['extra fields', { ...good, extra: { nested: [1] } }],
  ['empty delta', { ...good, delta: '' }],
  ['delta is a number', { ...good, delta: 42 }],
  ['delta is null', { ...good, delta: null }],
  ['delta missing', { threadId: 'thr_1', turnId: 'turn_1', itemId: 'msg_1' }],
  ['itemId is a number', { ...good, itemId: 7 }],
  ['turnId missing', { threadId: 'thr_1', itemId: 'msg_1', delta: 'x' }],
  ['threadId only as thread.id', { thread: { id: 'thr_1' }, turnId: 'turn_1', itemId: 'msg_1', delta: 'x' }],
  ['threadId is an object', { ...good, threadId: { id: 'thr_1' } }],
  ['params is an array', ['thr_1', 'turn_1', 'msg_1', 'x']],
  ['params is null', null],
  ['params is a string', 'thr_1'],
];

describe('streamed delta validation', () => {
  for (const method of DELTAS) {
    it(`${method}: same verdict as its zod schema for every payload`, () => {
      const schema = notificationSchemas[method] as z.ZodType;
      for (const [what, params] of payloads) {
        const zodSaysValid = schema.safeParse(typeof params === 'object' && params !== null ? params : {}).success;
        const n = classifyNotification(method, params);
        expect({ what, valid: n.valid }).toEqual({ what, valid: zodSaysValid });
        expect(n.known).toBe(true);
        if (!n.valid) expect(n.problem).toBeTruthy();
        else expect(n.params).toMatchObject(params as object);
      }
    });
  }

  it('a malformed delta line is counted, logged and kept out of the room; the good ones stream', () => {
    const { log, records } = memoryLogger();
    const events: RoomEvent[] = [];
    const translator = new TurnTranslator({ session: 's', sink: (e) => events.push(e), signal: () => {}, activityThrottleMs: 1000 });
    translator.bind('turn_1');
    const seen: InboundNotification[] = [];
    const engine = new RpcEngine({
      log,
      serverRequestBackstopMs: 1000,
      onNotification: (n) => {
        seen.push(n);
        translator.handle(n);
      },
    });
    const line = (params: unknown) => JSON.stringify({ method: 'item/agentMessage/delta', params });
    engine.handleLine(line(good));
    engine.handleLine(line({ ...good, delta: { text: 'not a string' } }));
    engine.handleLine(line({ ...good, delta: 5 }));
    // A string delta with a broken id: still not shown (its item cannot be trusted).
    engine.handleLine(line({ ...good, itemId: 7, delta: 'bad id' }));
    engine.handleLine(line({ ...good, delta: ' there' }));
    expect(engine.stats.invalidNotifications).toBe(3);
    expect(seen.map((n) => n.valid)).toEqual([true, false, false, false, true]);
    expect(seen[1]!.problem).toMatch(/delta/);
    expect(seen[3]!.problem).toMatch(/itemId/);
    expect(records().filter((r) => r.msg === 'notification failed its schema; delivered raw')).toHaveLength(3);
    expect(events.filter((e) => e.type === 'message.delta').map((e) => (e as { delta: string }).delta)).toEqual(['Hi', ' there']);
  });
});
