// `switchboard chat` without a terminal: lines piped in, plain text out, against a real
// RoomServer with a scripted backend.
import { createServer } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { chatCommand, type ChatOptions } from '../../src/cli/chat.js';
import type { StoredRecord } from '../../src/storage/types.js';
import { scriptedRoom, waitFor, type ScriptedRoom } from '../support/pty-room.js';

const stops: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

async function room(opts: Parameters<typeof scriptedRoom>[0] = {}): Promise<ScriptedRoom> {
  const r = await scriptedRoom(opts);
  stops.push(() => r.stop());
  return r;
}

/** Run chat on in-memory streams; `type` writes lines, `out` is everything printed. */
function chat(opts: ChatOptions) {
  const input = new PassThrough();
  const output = new PassThrough();
  let out = '';
  output.setEncoding('utf8');
  output.on('data', (d: string) => (out += d));
  const exit = chatCommand(opts, { input, output });
  stops.push(() => void input.end());
  const self = {
    exit,
    get out() {
      return out;
    },
    type: (line: string) => void input.write(`${line}\n`),
    end: () => void input.end(),
    until: (what: string | RegExp, ms?: number) =>
      waitFor(() => (typeof what === 'string' ? out.includes(what) : what.test(out)), JSON.stringify(String(what)), () => out, ms),
  };
  return self;
}

const at = 1_700_000_000_000;
const history: StoredRecord[] = [
  { kind: 'message', role: 'user', author: { id: 'ann', name: 'Ann' }, text: 'earlier question', seq: 1, session: 'lab/chat/main', at },
  {
    kind: 'tool',
    toolId: 't0',
    toolKind: 'command',
    title: 'ls',
    status: 'completed',
    data: { command: "/bin/bash -lc 'ls'", exitCode: 0 },
    seq: 2,
    session: 'lab/chat/main',
    at,
  },
  { kind: 'message', role: 'assistant', text: 'earlier answer', seq: 3, session: 'lab/chat/main', at },
  { kind: 'notice', level: 'info', text: 'model set to gpt-test', seq: 4, session: 'lab/chat/main', at },
  { kind: 'message', role: 'user', text: 'elsewhere', seq: 5, session: 'other/chat/main', at },
];

const DIFF = 'diff --git a/out.txt b/out.txt\nnew file mode 100644\n--- /dev/null\n+++ b/out.txt\n@@ -0,0 +1 @@\n+hi\n';

describe('switchboard chat (non-TTY)', () => {
  it('prints history, posts lines, streams the answer, one line per tool event, answers an approval with a line', async () => {
    const r = await room({
      history,
      onPost: (p, room) => {
        if (p.text !== 'hello there') return;
        const turnId = 't1';
        room.emit({ type: 'turn.started', turnId, threadId: 'th', model: 'gpt-test' });
        room.emit({ type: 'tool.started', turnId, toolId: 'c1', kind: 'command', title: 'echo hi > out.txt', status: 'inProgress', data: { command: "/bin/bash -lc 'echo hi > out.txt'" } });
        room.emit({ type: 'tool.updated', turnId, toolId: 'c1', kind: 'command', title: 'echo hi > out.txt', status: 'inProgress', data: { outputDelta: 'x' } });
        room.emit({ type: 'tool.completed', turnId, toolId: 'c1', kind: 'command', title: 'echo hi > out.txt', status: 'completed', data: { command: "/bin/bash -lc 'echo hi > out.txt'", exitCode: 0 } });
        for (const delta of ['Hel', 'lo, ', 'wor', 'ld']) room.emit({ type: 'message.delta', turnId, itemId: 'm1', delta });
        room.emit({ type: 'message.completed', turnId, itemId: 'm1', text: 'Hello, world' });
        room.emit({
          type: 'approval.requested',
          approvalId: 'ap-1',
          turnId,
          kind: 'command',
          title: 'Run: rm -rf build',
          detail: { command: 'rm -rf build', cwd: '/work/demo', reason: 'clean the build' },
          choices: ['accept', 'acceptForSession', 'decline', 'cancel'],
          reviewer: 'user',
          expiresAt: undefined,
        });
      },
      onDecide: (d, room) => {
        room.emit({ type: 'approval.resolved', approvalId: d.approvalId, outcome: 'approved', decision: d.decision, by: d.by, reason: 'accept by the reviewer' });
        room.emit({ type: 'tool.started', turnId: 't1', toolId: 'diff:t1', kind: 'diff', title: 'Changes', status: 'inProgress', data: { diff: DIFF } });
        room.emit({ type: 'tool.completed', turnId: 't1', toolId: 'diff:t1', kind: 'diff', title: 'Changes', status: 'completed', data: { diff: DIFF } });
        room.emit({ type: 'turn.completed', turnId: 't1', threadId: 'th' });
        return { ok: true };
      },
    });
    const c = chat({ room: 'lab', url: r.url, id: 'alice', name: 'Alice' });
    await c.until('joined lab as Alice (owner)');
    // History: compact, this room only.
    expect(c.out).toContain('Ann: earlier question\n⚙ command: ls … done (exit 0)\nassistant: earlier answer\n· model set to gpt-test\n');
    expect(c.out).not.toContain('elsewhere');

    c.type('hello there');
    await waitFor(() => r.posts.length === 1, 'the post', () => c.out);
    expect(r.posts[0]).toMatchObject({ room: 'lab', channel: 'chat', thread: 'main', from: { id: 'alice', name: 'Alice' }, text: 'hello there' });

    await c.until('[a] accept  [s] accept for session  [d] decline  [c] cancel');
    expect(c.out).toContain('? approval needed (command): Run: rm -rf build\n  command: rm -rf build\n  cwd: /work/demo\n  why: clean the build\n');
    c.type('a');
    await waitFor(() => r.decisions.length === 1, 'the decision', () => c.out);
    expect(r.decisions[0]).toMatchObject({ approvalId: 'ap-1', by: 'alice', decision: 'accept' });
    await c.until('✓ turn completed');
    await c.until('→ decision "accept" for ap-1 accepted');
    c.end();
    expect(await c.exit).toBe(0);

    const out = c.out;
    expect(out).toContain('Alice: hello there\n');
    // Streamed deltas joined on one line, not repeated at completion.
    expect(out).toContain('assistant: Hello, world\n');
    expect(out.match(/Hello, world/g)).toHaveLength(1);
    // One line per tool event (start and completion); updates print nothing.
    const toolLines = out.split('\n').filter((l) => l.includes('echo hi > out.txt'));
    expect(toolLines).toEqual(['⚙ command: echo hi > out.txt …', '⚙ command: echo hi > out.txt … done (exit 0)']);
    expect(out).toContain('± diff: 1 file changed: out.txt (+1 -0)\n');
    expect(out).toContain('✓ approval ap-1 approved (accept) by alice — accept by the reviewer\n');
    // Not a terminal: no escape sequences at all.
    expect(out).not.toContain('\x1b');
  });

  it('drops a prompt resolved elsewhere; the next line is a message again', async () => {
    const r = await room({
      onPost: (p, room) => {
        if (p.text !== 'go') return;
        room.emit({
          type: 'approval.requested',
          approvalId: 'ap-2',
          turnId: 't2',
          kind: 'fileChange',
          title: 'Change out.txt',
          detail: { reason: null, grantRoot: null, changes: [{ path: 'out.txt', kind: 'add', diff: '+hi\n' }] },
          choices: ['accept', 'decline', 'cancel'],
          reviewer: 'user',
          expiresAt: undefined,
        });
      },
    });
    const c = chat({ room: 'lab', url: r.url, id: 'bob' });
    await c.until('joined lab');
    c.type('go');
    await c.until('[a] accept  [d] decline  [c] cancel');
    expect(c.out).toContain('  add out.txt\n    +hi\n');
    r.emit({ type: 'approval.resolved', approvalId: 'ap-2', outcome: 'withdrawn', decision: undefined, by: 'system', reason: 'turn interrupted' });
    await c.until('(prompt dropped)');
    c.type('next');
    await waitFor(() => r.posts.length === 2, 'the second post', () => c.out);
    expect(r.posts[1]!.text).toBe('next');
    expect(r.decisions).toEqual([]);
    c.type('/quit');
    expect(await c.exit).toBe(0);
  });

  it('answers questions and forms field by field, sending content', async () => {
    const r = await room({
      onPost: (p, room) => {
        room.emit({ type: 'turn.started', turnId: 't3', threadId: 'th', model: undefined });
        if (p.text === 'ask') {
          room.emit({
            type: 'approval.requested',
            approvalId: 'q-1',
            turnId: 't3',
            kind: 'userInput',
            title: 'Color: which one?',
            detail: {
              questions: [
                { id: 'color', header: 'Color', question: 'which one?', options: [{ label: 'red' }, { label: 'blue' }], isOther: false, isSecret: false },
                { id: 'why', question: 'why?', options: null, isOther: false, isSecret: false },
              ],
            },
            choices: ['answer'],
            reviewer: 'user',
            expiresAt: undefined,
          });
        }
        if (p.text === 'form') {
          room.emit({
            type: 'approval.requested',
            approvalId: 'f-1',
            turnId: 't3',
            kind: 'mcpForm',
            title: 'docs asks for information',
            detail: {
              server: 'docs',
              message: 'docs asks for information',
              fields: [
                { name: 'name', title: 'Name', type: 'string', required: true, multiple: false },
                { name: 'count', title: 'Count', type: 'integer', required: false, multiple: false, default: 3 },
                { name: 'ok', title: 'OK?', type: 'boolean', required: true, multiple: false },
              ],
            },
            choices: ['accept', 'decline', 'cancel'],
            reviewer: 'user',
            expiresAt: undefined,
          });
        }
      },
      onDecide: (_d, room) => {
        room.emit({ type: 'turn.completed', turnId: 't3', threadId: 'th' });
        return { ok: true };
      },
    });
    const c = chat({ room: 'lab', url: r.url, id: 'carol' });
    await c.until('joined lab');
    c.type('ask');
    await c.until('color:');
    expect(c.out).toContain('  Color: which one?\n    1) red\n    2) blue\n');
    c.type('7'); // not an option: asked again
    await c.until('choose 1-2');
    c.type('2');
    await c.until('why:');
    c.type('it is calm');
    await waitFor(() => r.decisions.length === 1, 'the answer', () => c.out);
    expect(r.decisions[0]).toMatchObject({ approvalId: 'q-1', by: 'carol', decision: 'answer', content: { color: 'blue', why: 'it is calm' } });

    // Lines typed in one go still go to the form, not to the room.
    c.type('form');
    await c.until('[a] accept  [d] decline  [c] cancel');
    for (const l of ['a', 'Dana', '', 'y']) c.type(l);
    await waitFor(() => r.decisions.length === 2, 'the form', () => c.out);
    expect(r.decisions[1]).toMatchObject({ approvalId: 'f-1', by: 'carol', decision: 'accept', content: { name: 'Dana', count: 3, ok: true } });
    expect(r.posts.map((p) => p.text)).toEqual(['ask', 'form']);
    c.end();
    expect(await c.exit).toBe(0);
  });

  it('piped input that ends mid-turn waits for the answer, then exits 0', async () => {
    const r = await room({
      onPost: (_p, room) => {
        setTimeout(() => {
          room.emit({ type: 'turn.started', turnId: 't4', threadId: 'th', model: undefined });
          room.emit({ type: 'message.delta', turnId: 't4', itemId: 'm4', delta: 'pong' });
          room.emit({ type: 'message.completed', turnId: 't4', itemId: 'm4', text: 'pong' });
          room.emit({ type: 'turn.completed', turnId: 't4', threadId: 'th' });
        }, 20);
      },
    });
    const c = chat({ room: 'lab', url: r.url, id: 'dave' });
    await c.until('joined lab');
    c.type('ping');
    c.end();
    expect(await c.exit).toBe(0);
    expect(c.out).toContain('assistant: pong\n✓ turn completed\n');
  });

  it('prints error frames and notices; the session goes on', async () => {
    const r = await room({
      onPost: (p, room) => {
        if (p.text === 'boom') throw new Error('backend exploded');
        room.emit({ type: 'notice', level: 'warning', text: 'slow down' });
      },
    });
    const c = chat({ room: 'lab', url: r.url, id: 'erin' });
    await c.until('joined lab');
    c.type('boom');
    await c.until('✗ error: internal error'); // the server no longer echoes the backend's exception text
    c.type('/status');
    await c.until('! slow down');
    expect(r.posts.map((p) => p.text)).toEqual(['boom', '/status']);
    c.end();
    expect(await c.exit).toBe(0);
  });

  it('a refused join (wrong token) exits 3 with the close reason', async () => {
    const r = await room({ tokens: { lab: 's3cret' } });
    const c = chat({ room: 'lab', url: r.url, id: 'mallory', token: 'wrong' });
    expect(await c.exit).toBe(3);
    expect(c.out).toContain('join refused: room "lab" requires a valid token');
    const ok = chat({ room: 'lab', url: r.url, id: 'alice', token: 's3cret' });
    await ok.until('joined lab');
    ok.end();
    expect(await ok.exit).toBe(0);
  });

  it('cannot connect or a bad URL exits 2 with a clear message', async () => {
    // A port nobody listens on: bind one, then close it.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const refused = chat({ room: 'lab', url: `ws://127.0.0.1:${port}` });
    expect(await refused.exit).toBe(2);
    expect(refused.out).toContain(`cannot connect to ws://127.0.0.1:${port}: connection refused`);

    const bad = chat({ room: 'lab', url: 'not a url' });
    expect(await bad.exit).toBe(2);
    expect(bad.out).toContain('--url must be a ws:// or wss:// URL');

    const saved = process.env.SWITCHBOARD_ROOM_URL;
    delete process.env.SWITCHBOARD_ROOM_URL;
    try {
      const noUrl = chat({ room: 'lab' });
      expect(await noUrl.exit).toBe(2);
      expect(noUrl.out).toContain('no room server URL: pass --url');
    } finally {
      if (saved !== undefined) process.env.SWITCHBOARD_ROOM_URL = saved;
    }

    const badRoom = chat({ room: 'lab/x', url: `ws://127.0.0.1:${port}` });
    expect(await badRoom.exit).toBe(2);
    expect(badRoom.out).toContain('invalid chat options: --room: use letters');
  });

  it('the room server going away for good ends the session with exit 1 after the give-up time', async () => {
    const r = await room();
    const c = chat({ room: 'lab', url: r.url, id: 'frank', giveUpAfterMs: 600, backoff: { baseMs: 50, capMs: 200 } });
    await c.until('joined lab');
    await r.stop();
    expect(await c.exit).toBe(1);
    expect(c.out).toContain('the room server shut down: room server shutting down');
    expect(c.out).toContain('gave up reconnecting after 600ms offline');
  });
});
