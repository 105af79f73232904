// Issue 11 #13: every usage or configuration error exits 2 with a message that names the flag,
// variable or field and the fix — never a stack trace. The CLI runs as a child process.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-proc.js';

const dir = mkdtempSync(path.join(tmpdir(), 'sb-cli-errors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const aFile = path.join(dir, 'a-file');
writeFileSync(aFile, 'x');
const config = (name: string, body: unknown) => {
  const f = path.join(dir, name);
  writeFileSync(f, JSON.stringify(body));
  return f;
};

const BIG = 2 ** 31; // one above what a Node.js timer honours

const cases: Array<{ what: string; args: string[]; env?: Record<string, string>; names: RegExp }> = [
  { what: '--port abc', args: ['room', 'serve', '--port', 'abc'], names: /--port.*abc.*1 to 65535/ },
  { what: '--port 99999', args: ['room', 'serve', '--port', '99999'], names: /--port.*99999.*1 to 65535/ },
  { what: 'join --port -1', args: ['join', '--room', 'lab', '--agent-name', 'a', '--port', '-1'], names: /--port/ },
  { what: 'SWITCHBOARD_LOG_LEVEL=verbose', args: ['room', 'serve'], env: { SWITCHBOARD_LOG_LEVEL: 'verbose' }, names: /SWITCHBOARD_LOG_LEVEL=verbose: write one of fatal, error, warn, info/ },
  { what: 'an address this machine does not have (EADDRNOTAVAIL)', args: ['room', 'serve', '--host', '192.0.2.123'], names: /--host 192\.0\.2\.123: this machine has no such address/ },
  { what: 'a host name that does not resolve', args: ['room', 'serve', '--host', 'no-such-host.invalid'], names: /--host no-such-host\.invalid/ },
  { what: 'join --room a/b', args: ['join', '--room', 'a/b', '--agent-name', 'x'], names: /--room.*no slashes/ },
  { what: 'chat --room a/b', args: ['chat', '--room', 'a/b', '--url', 'ws://127.0.0.1:9'], names: /--room.*no slashes/ },
  { what: 'join --cwd /nonexistent', args: ['join', '--room', 'lab', '--agent-name', 'x', '--cwd', '/nonexistent/sb-none'], names: /--cwd.*does not exist.*existing directory/ },
  { what: 'join --cwd <a file>', args: ['join', '--room', 'lab', '--agent-name', 'x', '--cwd', aFile], names: /--cwd.*is not a directory/ },
  // The refused value may hold a password: it is not echoed.
  { what: 'join --storage mysql://…', args: ['join', '--room', 'lab', '--agent-name', 'x', '--storage', 'mysql://u:hunter2@db/x'], names: /^(?![^]*hunter2)[^]*--storage: write dataset, none, codex or a postgres:\/\/ URL \(user:password@host:port\/database after the scheme/ },
  { what: 'chat --give-up-after forever', args: ['chat', '--url', 'ws://127.0.0.1:9', '--give-up-after', 'forever'], names: /--give-up-after.*not a duration/ },
  { what: 'demo --timeout above 2^31-1 ms', args: ['demo', '--timeout', String(BIG)], names: /--timeout.*at most 2147483647/ },
  { what: 'chat --token and --token-file together', args: ['chat', '--url', 'ws://127.0.0.1:9', '--token', 't', '--token-file', aFile], names: /--token and --token-file: give one/ },
  { what: 'chat --token-file missing', args: ['chat', '--url', 'ws://127.0.0.1:9', '--token-file', '/nonexistent/tok'], names: /--token-file: cannot read "\/nonexistent\/tok" \(no such file\)/ },
  {
    what: 'appServer.requestTimeoutMs above 2^31-1',
    args: ['status', '--config', config('timeout.json', { appServer: { requestTimeoutMs: BIG } })],
    names: /appServer\.requestTimeoutMs \(file .*timeout\.json\): write a number <= 2147483647/,
  },
  {
    what: 'approvals.timeouts.command above 2^31-1',
    args: ['status', '--config', config('approvals.json', { approvals: { timeouts: { command: BIG } } })],
    names: /approvals\.timeouts\.command.*<= 2147483647/,
  },
  {
    what: 'sessions.idleWatchdogSeconds whose ms overflow a timer',
    args: ['status', '--config', config('watchdog.json', { sessions: { idleWatchdogSeconds: 3_000_000 } })],
    names: /sessions\.idleWatchdogSeconds.*<= 2147483/,
  },
  { what: 'log.level in the config file', args: ['status', '--config', config('log.json', { log: { level: 'verbose' } })], env: { SWITCHBOARD_LOG_LEVEL: '' }, names: /log\.level \(file .*log\.json\): write one of/ },
];

describe('#13 usage and configuration errors', () => {
  for (const c of cases) {
    it(`${c.what} → exit 2, names it, no stack trace`, { timeout: 60_000 }, async () => {
      const cli = runCli(c.args, { cwd: dir, env: { SWITCHBOARD_ROOM_TOKEN: '', SWITCHBOARD_ROOM_TOKEN_FILE: '', ...c.env } });
      const code = await cli.exited;
      const all = cli.stdout() + cli.stderr();
      expect({ code, all }).toMatchObject({ code: 2 });
      expect(all).toMatch(c.names);
      expect(all).not.toMatch(/\n\s+at [\w.<>]+ \(|node:internal|\.ts:\d+:\d+/);
    });
  }
});
