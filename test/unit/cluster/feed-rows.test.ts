// What room_events rows and their NOTIFY payloads carry, read back from untrusted text.
import { describe, expect, it } from 'vitest';
import { MAX_EVENTS_PER_ROW, payloadNode, publisherOf, rowEvents, rowSession } from '../../../src/cluster/feed-rows.js';
import type { RoomEvent } from '../../../src/events/room-events.js';

const notice = (text: string, session = 's'): RoomEvent => ({ type: 'notice', session, at: 1, level: 'info', text });

describe('feed rows', () => {
  it('a body is a batch in order, or one event (an older node); bad elements are counted, an over-long row refused', () => {
    expect(rowEvents([notice('1'), { nope: 1 }, notice('2')])).toEqual({ events: [notice('1'), notice('2')], skipped: 1 });
    expect(rowEvents(notice('old'))).toEqual({ events: [notice('old')], skipped: 0 });
    expect(rowEvents('text')).toEqual({ events: [], skipped: 1 });
    expect(rowEvents(null)).toEqual({ events: [], skipped: 1 });
    expect(rowEvents(Array(MAX_EVENTS_PER_ROW).fill(notice('x')))?.events).toHaveLength(MAX_EVENTS_PER_ROW);
    expect(rowEvents(Array(MAX_EVENTS_PER_ROW + 1).fill(notice('x')))).toBeUndefined();
  });

  it("a row's session: the batch's one conversation, else '*'", () => {
    expect(rowSession([notice('1', 'a'), notice('2', 'a')])).toBe('a');
    expect(rowSession([notice('1', 'a'), notice('2', 'b')])).toBe('*');
  });

  it('a payload names its node after the seq; anything else names none', () => {
    expect(publisherOf('12:node-a')).toBe('node-a');
    expect(publisherOf('12:a:b')).toBe('a:b');
    for (const p of [undefined, '', '12', '12:', ':a', 'x12:a', '12345678901234567890:a', `1:${'a'.repeat(8_000)}`]) expect(publisherOf(p)).toBeUndefined();
  });

  it('a node name too long for a payload is left out of it', () => {
    expect(payloadNode('node-a')).toBe('node-a');
    expect(payloadNode('é'.repeat(600))).toBeNull();
  });
});
