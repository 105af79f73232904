// The page's WebSocket link against a scripted socket: join, resume after a drop with the
// last seq seen, duplicates dropped, jittered backoff capped near 10 s, no retry on a
// refused credential.
import { describe, expect, it } from 'vitest';
import { backoffMs, Link } from '../../../src/web/app/link.js';
import type { ServerFrame } from '../../../src/web/app/frames.js';

class FakeSocket {
  readyState = 0;
  sent: Array<Record<string, unknown>> = [];
  onopen: (() => void) | null = null;
  onmessage: ((m: { data: unknown }) => void) | null = null;
  onclose: ((e: { code: number; reason: string }) => void) | null = null;
  constructor(readonly url: string) {}
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  send(s: string) {
    this.sent.push(JSON.parse(s) as Record<string, unknown>);
  }
  receive(f: Record<string, unknown>) {
    this.onmessage?.({ data: JSON.stringify(f) });
  }
  close(code = 1000, reason = '') {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

function world() {
  const sockets: FakeSocket[] = [];
  const timers: Array<{ fn: () => void; ms: number }> = [];
  const frames: ServerFrame[] = [];
  const statuses: string[] = [];
  const rejected: string[] = [];
  const link = new Link({
    url: 'ws://room/',
    token: 'tok',
    room: 'lab',
    onFrame: (f) => frames.push(f),
    onStatus: (s) => statuses.push(s),
    onRejected: (r) => rejected.push(r),
    createSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s as unknown as WebSocket;
    },
    random: () => 0.5,
    setTimer: (fn, ms) => timers.push({ fn, ms }),
    clearTimer: () => {},
  });
  return { link, sockets, timers, frames, statuses, rejected };
}

const joined = (seq: number, resumed = false, epoch = 'ep1') => ({ type: 'joined', room: 'lab', participant: { id: 'ann', role: 'owner' }, epoch, seq, resumed, history: [], pending: [] });
const delta = (seq: number, d: string) => ({ type: 'event', seq, event: { type: 'message.delta', session: 'lab/chat/main', at: 1, turnId: 't', itemId: 'm', delta: d } });

describe('web link', () => {
  it('joins, resumes from the last seq after a drop, and drops events it already has', () => {
    const w = world();
    w.link.start();
    const s1 = w.sockets[0]!;
    s1.open();
    expect(s1.sent[0]).toMatchObject({ type: 'join', token: 'tok', room: 'lab' });
    expect(s1.sent[0]!.resume).toBeUndefined();
    s1.receive(joined(3));
    s1.receive(delta(4, 'a'));
    s1.receive(delta(5, 'b'));
    expect(w.link.send({ type: 'message', text: 'x' })).toBe(true);
    s1.close(1006);
    expect(w.statuses.at(-1)).toBe('offline');
    expect(w.link.send({ type: 'message', text: 'y' })).toBe(false);
    w.timers.shift()!.fn();
    expect(w.statuses.at(-1)).toBe('reconnecting');
    const s2 = w.sockets[1]!;
    s2.open();
    expect(s2.sent[0]).toMatchObject({ type: 'join', resume: { epoch: 'ep1', seq: 5 } });
    s2.receive(joined(6, true));
    s2.receive(delta(5, 'b'));
    s2.receive(delta(6, 'c'));
    const deltas = w.frames.filter((f) => f.type === 'event').map((f) => (f.type === 'event' && f.event?.type === 'message.delta' ? f.event.delta : ''));
    expect(deltas).toEqual(['a', 'b', 'c']);
  });

  it('after a rejoin that was not resumed, counts from the new seq', () => {
    const w = world();
    w.link.start();
    w.sockets[0]!.open();
    w.sockets[0]!.receive(joined(10));
    w.sockets[0]!.close(1006);
    w.timers.shift()!.fn();
    w.sockets[1]!.open();
    w.sockets[1]!.receive(joined(2, false, 'ep2'));
    w.sockets[1]!.receive(delta(3, 'new'));
    expect(w.frames.filter((f) => f.type === 'event')).toHaveLength(1);
  });

  it('does not retry a refused credential', () => {
    const w = world();
    w.link.start();
    w.sockets[0]!.open();
    w.sockets[0]!.close(4401, 'token expired');
    expect(w.statuses.at(-1)).toBe('failed');
    expect(w.rejected).toEqual(['The credential was refused: token expired']);
    expect(w.timers).toHaveLength(0);
  });

  it('backs off exponentially with jitter, capped at 10 s', () => {
    expect(backoffMs(0, () => 0)).toBe(250);
    expect(backoffMs(0, () => 1)).toBe(500);
    expect(backoffMs(3, () => 1)).toBe(4000);
    expect(backoffMs(20, () => 1)).toBe(10_000);
    expect(backoffMs(20, () => 0)).toBe(5_000);
  });
});
