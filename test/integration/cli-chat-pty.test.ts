// `switchboard chat` on a real pseudo-terminal: raw mode, a typed message, an approval prompt
// answered with a single key (no Enter). The pty comes from Python's standard `pty` module
// (see test/support/pty-driver.ts), so nothing needs installing.
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ptyUnavailable, spawnOnPty, type PtyProcess } from '../support/pty-driver.js';
import { scriptedRoom, waitFor, type ScriptedRoom } from '../support/pty-room.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const unavailable = ptyUnavailable();

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('switchboard chat on a pseudo-terminal', () => {
  it.skipIf(unavailable !== undefined)(
    `answers an approval prompt with one key${unavailable ? ` (skipped: ${unavailable})` : ''}`,
    async () => {
      const room: ScriptedRoom = await scriptedRoom({
        onPost: (p, r) => {
          if (p.text !== 'please clean up') return;
          r.emit({ type: 'turn.started', turnId: 't1', threadId: 'th', model: 'gpt-test' });
          for (const delta of ['Cleaning ', 'the build.']) r.emit({ type: 'message.delta', turnId: 't1', itemId: 'm1', delta });
          r.emit({ type: 'message.completed', turnId: 't1', itemId: 'm1', text: 'Cleaning the build.' });
          r.emit({
            type: 'approval.requested',
            approvalId: 'ap-pty',
            turnId: 't1',
            kind: 'command',
            title: 'Run: rm -rf build',
            detail: { command: 'rm -rf build', cwd: '/work/demo', reason: 'clean the build' },
            choices: ['accept', 'acceptForSession', 'decline', 'cancel'],
            reviewer: 'user',
            expiresAt: undefined,
          });
        },
        onDecide: (d, r) => {
          r.emit({ type: 'approval.resolved', approvalId: d.approvalId, outcome: 'approved', decision: d.decision, by: d.by, reason: 'by the user' });
          r.emit({ type: 'turn.completed', turnId: 't1', threadId: 'th' });
          return { ok: true };
        },
      });
      cleanups.push(() => room.stop());

      const opts = { room: 'lab', url: room.url, id: 'pat', name: 'Pat' };
      const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color' };
      delete env.NO_COLOR; // colors on: the TTY path
      const pty: PtyProcess = spawnOnPty(process.execPath, ['--import', 'tsx', 'test/support/pty-chat.ts', JSON.stringify(opts)], { cwd: root, env });
      cleanups.push(() => pty.kill());
      const until = (what: string, ms = 15_000) => waitFor(() => pty.text.includes(what), JSON.stringify(what), () => pty.text, ms);

      // Raw mode is on before this line is printed.
      await until('joined lab as Pat (owner)', 30_000);
      pty.type('please clean up\r');
      await waitFor(() => room.posts.length === 1, 'the post', () => pty.text);
      expect(room.posts[0]).toMatchObject({ from: { id: 'pat', name: 'Pat' }, text: 'please clean up' });

      await until('[a] accept  [s] accept for session  [d] decline  [c] cancel');
      await until('choose a/s/d/c:');
      expect(pty.text).toContain('assistant: Cleaning the build.');
      expect(pty.text).toContain('command: rm -rf build');
      pty.type('a'); // one key, no Enter
      await waitFor(() => room.decisions.length === 1, 'the decision', () => pty.text);
      expect(room.decisions[0]).toMatchObject({ approvalId: 'ap-pty', by: 'pat', decision: 'accept' });
      await until('decision "accept" for ap-pty accepted');
      await until('turn completed');
      // On a terminal there are colors (NO_COLOR unset).
      expect(pty.raw).toContain('\x1b[');

      pty.type('/quit\r');
      const code = await Promise.race([pty.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 15_000))]);
      expect(code, pty.text).toBe(0);
    },
    60_000,
  );
});
