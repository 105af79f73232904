// Issue 11 #8 (the `chat` half): `switchboard chat`, run as a child process with a credential
// file, survives a room server restart and a dropped network link: it shows it is offline,
// reconnects with backoff, resumes, and prints what it missed exactly once. It gives up after
// the configured time (exit 1) and never retries a refused credential (exit 3).
import { afterEach, describe, expect, it } from 'vitest';
import { createRoomAuth } from '../../src/auth/index.js';
import { chatRoom, count, flakyLink, spawnChat, tokenFile, type Cleanups } from './cli-support.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const lines = (out: string) => out.split('\n').filter((l) => l.trim() && !/offline|back online|reconnecting/.test(l));

describe('#8 chat reconnects and resumes', () => {
  it('survives a room server restart: offline, back online, the missed answer printed once, no duplicate lines', { timeout: 90_000 }, async () => {
    const room = await chatRoom(cleanups, {
      onPost: (p, r) => {
        if (p.text !== 'what is up?') return;
        r.record({ kind: 'message', role: 'user', author: { id: p.from.id, ...(p.from.name ? { name: p.from.name } : {}) }, text: p.text });
        r.emit({ type: 'turn.started', turnId: 't1', threadId: 'th', model: 'm' });
        r.emit({ type: 'message.delta', turnId: 't1', itemId: 'm1', delta: 'Thinking' });
      },
    });
    room.record({ kind: 'message', role: 'user', author: { id: 'bob', name: 'Bob' }, text: 'an earlier question' });
    const file = await tokenFile(cleanups, 'lab', 'alice', { name: 'Alice' });
    const chat = spawnChat(cleanups, ['--url', room.url, '--token-file', file]);
    await chat.until('joined lab as Alice (owner)');
    chat.type('what is up?');
    await chat.until('assistant: Thinking');

    // The server goes down mid-answer; the answer is written to the durable history meanwhile.
    await room.stop();
    await chat.until('· offline: the room server shut down');
    room.record({ kind: 'message', role: 'assistant', text: 'The missed answer.', turnId: 't1' });
    room.record({ kind: 'turn', turnId: 't1', status: 'completed' });
    await room.restart();

    await chat.until('back online; 1 missed record');
    await chat.until('assistant: The missed answer.');
    room.emit({ type: 'notice', level: 'info', text: 'live after the restart' });
    await chat.until('· live after the restart');
    chat.type('/quit');
    expect(await chat.exited).toBe(0);

    const out = chat.out;
    expect(count(out, 'The missed answer.')).toBe(1);
    expect(count(out, 'Alice: what is up?')).toBe(1); // typed once; not printed again from history
    expect(count(out, 'Bob: an earlier question')).toBe(1); // the first history page is not printed again
    expect(count(out, 'live after the restart')).toBe(1);
    const all = lines(out);
    expect(all.filter((l, i) => all.indexOf(l) !== i)).toEqual([]);
    expect(room.posts.map((p) => p.text)).toEqual(['what is up?']);
  });

  it('after a dropped link it resumes from the last event seen: events sent meanwhile arrive once, none twice', { timeout: 90_000 }, async () => {
    const room = await chatRoom(cleanups);
    const link = await flakyLink(cleanups, room.port);
    const file = await tokenFile(cleanups, 'lab', 'alice', { name: 'Alice' });
    const chat = spawnChat(cleanups, ['--url', link.url, '--token-file', file]);
    await chat.until('joined lab as Alice (owner)');
    room.emit({ type: 'notice', level: 'info', text: 'before the drop' });
    await chat.until('· before the drop');

    await link.drop();
    await chat.until(/offline: connection to the room server lost/);
    // Live events while the client is away: the server keeps them for a resume.
    room.emit({ type: 'message.completed', turnId: 't2', itemId: 'm2', text: 'sent while away' });
    room.emit({ type: 'notice', level: 'warning', text: 'also while away' });
    await link.restore();

    await chat.until('! also while away');
    room.emit({ type: 'notice', level: 'info', text: 'after the resume' });
    await chat.until('· after the resume');
    chat.type('/quit');
    expect(await chat.exited).toBe(0);

    const out = chat.out;
    expect(out).toMatch(/· back online\n/); // resumed: no history page was needed
    expect(out).not.toContain('missed record');
    for (const s of ['before the drop', 'sent while away', 'also while away', 'after the resume']) expect(count(out, s)).toBe(1);
    expect(out.indexOf('sent while away')).toBeLessThan(out.indexOf('also while away'));
  });

  it('gives up after --give-up-after with exit 1 and a message', { timeout: 60_000 }, async () => {
    const room = await chatRoom(cleanups);
    const file = await tokenFile(cleanups, 'lab', 'alice');
    const chat = spawnChat(cleanups, ['--url', room.url, '--token-file', file, '--give-up-after', '1s']);
    await chat.until('joined lab');
    await room.stop();
    expect(await chat.exited).toBe(1);
    expect(chat.out).toContain('· offline: the room server shut down');
    expect(chat.out).toContain('gave up reconnecting after 1s offline');
    expect(chat.err).not.toMatch(/\n\s+at /);
  });

  it('a credential refused on reconnect is not retried: exit 3 with the reason', { timeout: 60_000 }, async () => {
    const room = await chatRoom(cleanups);
    const file = await tokenFile(cleanups, 'lab', 'alice');
    const chat = spawnChat(cleanups, ['--url', room.url, '--token-file', file, '--give-up-after', '2m']);
    await chat.until('joined lab');
    // The server comes back with another secret: our credential no longer verifies.
    await room.stop();
    await room.restart(createRoomAuth({ secret: 'another-secret-for-the-restarted-room-000000' }));
    expect(await chat.exited).toBe(3);
    expect(chat.out).toContain('join refused');
    expect(count(chat.out, 'reconnecting in')).toBe(1);
  });

  it('a refused first join exits 3 without retrying; a token for another room is refused too', { timeout: 60_000 }, async () => {
    const room = await chatRoom(cleanups);
    const other = await tokenFile(cleanups, 'elsewhere', 'alice');
    const chat = spawnChat(cleanups, ['--url', room.url, '--token-file', other, '--room', 'lab']);
    expect(await chat.exited).toBe(3);
    expect(chat.err).toContain('join refused');
    expect(chat.out).not.toContain('reconnecting');
  });
});
