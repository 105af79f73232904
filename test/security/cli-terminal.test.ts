// Issue 11 #7: `switchboard chat` prints remote strings without their terminal controls.
// The room (signed mode, real WebSocket) carries hostile names, answers, tool titles, notices,
// approval details and turn errors; chat runs as a child process with a credential file. What
// it writes must hold none of the controls, byte for byte, and keep the visible text.
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { sanitize } from '../../src/cli/chat-sanitize.js';
import { ptyUnavailable, spawnOnPty } from '../support/pty-driver.js';
import { tsxLoader } from '../support/cli-proc.js';
import { chatRoom, spawnChat, tokenFile, type Cleanups } from './cli-support.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const OSC52 = '\x1b]52;c;cm0gLXJmIH4K\x07'; // writes the clipboard
const OSC0 = '\x1b]0;pwned title\x1b\\'; // sets the window title
const SGR8 = '\x1b[8m'; // hides what follows
const CLEAR = '\x1b[2J\x1b[H'; // clears the screen
const C1 = '\x9b31m\x9d0;c1 title\x9c\x85'; // 8-bit CSI and OSC, NEL
const BIDI = '\u202e\u2066'; // right-to-left override, isolate
const LONE = '\r\x07\x08'; // CR, BEL, BS
const ALL = [OSC52, OSC0, SGR8, CLEAR, C1, BIDI, LONE].join('');
const hostile = (visible: string) => `${ALL}${visible}${ALL}\x1b`; // ends with a bare ESC

/** Every control `chat` must never emit when it writes to a pipe (no colours there). */
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f\u202a-\u202e\u2066-\u2069]/u;

function hostileEvents(emit: (e: Record<string, unknown>) => void): void {
  const turnId = 't-evil';
  emit({ type: 'turn.started', turnId, threadId: 'th', model: hostile('model-x') });
  emit({ type: 'tool.started', turnId, toolId: 'c1', kind: 'command', title: hostile('tool title'), status: 'inProgress', data: { command: hostile('echo visible-command') } });
  emit({ type: 'tool.completed', turnId, toolId: 'c1', kind: 'command', title: hostile('tool title'), status: 'completed', data: { command: hostile('echo visible-command'), exitCode: 0 } });
  for (const delta of [hostile('Streamed '), hostile('answer text')]) emit({ type: 'message.delta', turnId, itemId: 'm1', delta });
  emit({ type: 'message.completed', turnId, itemId: 'm1', text: `${hostile('Streamed ')}${hostile('answer text')}` });
  emit({ type: 'notice', level: 'warning', text: hostile('notice text') });
  emit({
    type: 'approval.requested',
    approvalId: 'ap-evil',
    turnId,
    kind: 'command',
    title: hostile('approval title'),
    detail: { command: hostile('rm -rf visible'), cwd: hostile('/work/visible'), reason: hostile('approval reason') },
    choices: ['accept', 'decline'],
    reviewer: 'user',
  });
  emit({ type: 'approval.resolved', approvalId: 'ap-evil', outcome: 'denied', decision: 'decline', by: hostile('resolver-name'), reason: hostile('resolved reason') });
  emit({ type: 'turn.failed', turnId, threadId: 'th', error: hostile('turn error text') });
}

describe('#7 terminal safety of switchboard chat', () => {
  it('sanitize removes OSC 52/0, SGR 8, CSI clears, C1, bidi and lone controls and keeps the text', () => {
    expect(sanitize(hostile('héllo 世界 🙂'))).toBe('héllo 世界 🙂');
    expect(sanitize(`a\tb\nc${OSC52}`, { multiline: true })).toBe('a\tb\nc');
    expect(sanitize('a\nb\tc')).toBe('a b c');
    // An unterminated OSC loses its introducer: the payload is shown as inert text.
    expect(sanitize('\x1b]52;c;abc')).toBe('52;c;abc');
    expect(sanitize('x\u2028y', { multiline: true })).toBe('x\ny');
  });

  it('prints hostile history, names, answers, tools, notices, approvals and errors without a single control byte', { timeout: 90_000 }, async () => {
    const room = await chatRoom(cleanups, {
      onPost: (p, r) => {
        if (p.text === 'go') hostileEvents(r.emit);
      },
    });
    room.record({ kind: 'message', role: 'user', author: { id: 'mallory', name: hostile('Mallory') }, text: hostile('history question') });
    room.record({ kind: 'message', role: 'assistant', text: hostile('history answer'), turnId: 't0' });
    room.record({ kind: 'notice', level: 'info', text: hostile('history notice') });
    room.record({ kind: 'tool', toolId: 'h1', toolKind: 'command', title: hostile('history tool'), status: 'completed', data: { command: hostile('ls visible-dir'), exitCode: 0 } });
    const file = await tokenFile(cleanups, 'lab', 'alice', { name: 'Alice' });
    const chat = spawnChat(cleanups, ['--url', room.url, '--token-file', file]);
    await chat.until('joined lab as Alice (owner)');
    chat.type('go');
    await chat.until('turn error text');
    chat.type('/quit');
    expect(await chat.exited).toBe(0);

    const out = chat.out;
    // Byte level: not one ESC, CSI, OSC, BEL, CR, C1 or bidi control in what reached the terminal.
    const bad = FORBIDDEN.exec(out);
    expect(bad ? `U+${bad[0].codePointAt(0)!.toString(16).padStart(4, '0')} at ${bad.index}: ${JSON.stringify(out.slice(Math.max(0, bad.index - 40), bad.index + 40))}` : 'none').toBe('none');
    expect(chat.bytes.includes(0x1b)).toBe(false);
    expect(chat.bytes.includes(0x07)).toBe(false);
    // The payloads of the stripped sequences do not leak as text either.
    expect(out).not.toContain('cm0gLXJmIH4K');
    expect(out).not.toContain('pwned title');
    // Every visible text survives.
    for (const visible of [
      'Mallory: history question',
      'assistant: history answer',
      'history notice',
      'ls visible-dir',
      'Streamed answer text',
      'echo visible-command',
      'notice text',
      'approval title',
      'rm -rf visible',
      '/work/visible',
      'approval reason',
      'resolver-name',
      'resolved reason',
      'turn error text',
    ]) {
      expect(out).toContain(visible);
    }
  });

  const noPty = ptyUnavailable();
  it.skipIf(noPty !== undefined)('on a real terminal with colours, the only escape sequences written are chat’s own', { timeout: 90_000 }, async () => {
    const room = await chatRoom(cleanups, {
      onPost: (p, r) => {
        if (p.text === 'go') hostileEvents(r.emit);
      },
    });
    room.record({ kind: 'message', role: 'user', author: { id: 'mallory', name: hostile('Mallory') }, text: hostile('history question') });
    const file = await tokenFile(cleanups, 'lab', 'alice', { name: 'Alice' });
    const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
    const env = { ...process.env, NO_COLOR: '', TERM: 'xterm-256color', SWITCHBOARD_LOG_LEVEL: 'warn', SWITCHBOARD_ROOM_TOKEN: '', SWITCHBOARD_ROOM_TOKEN_FILE: file };
    const pty = spawnOnPty(process.execPath, ['--import', tsxLoader, main, 'chat', '--url', room.url], { env });
    cleanups.push(() => pty.kill());
    const until = async (s: string) => {
      const end = Date.now() + 20_000;
      while (!pty.text.includes(s)) {
        if (Date.now() > end) throw new Error(`no ${s} on the terminal:\n${pty.text}`);
        await new Promise((r) => setTimeout(r, 30));
      }
    };
    await until('joined lab as Alice');
    pty.type('go\r');
    await until('turn error text');
    await until('choose a/d');
    pty.type('\x04'); // Ctrl-D: leave
    await pty.exited;

    // Chat's own output: SGR colours (1, 2, 22, 31-36, 39), cursor up, erase line/below, CR.
    const ours = /\x1b\[(?:(?:1|2|22|3[1-6]|39)m|1A|2K|J)/g;
    const rest = pty.raw.replace(ours, '');
    const bad = /[\x1b\x07\u0080-\u009f\u202a-\u202e\u2066-\u2069]/u.exec(rest);
    expect(bad ? JSON.stringify(rest.slice(Math.max(0, bad.index - 40), bad.index + 40)) : 'none').toBe('none');
    expect(pty.raw).not.toContain('\x1b]');
    expect(pty.raw).not.toContain('\x1b[8m');
    expect(pty.raw).not.toContain('\x1b[2J');
    expect(pty.text).toContain('Mallory: history question');
    expect(pty.text).toContain('Streamed answer text');
  });
});
