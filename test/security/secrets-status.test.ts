// Issue 11 #9: secrets never show in `switchboard status` (text and --json), in logs, in
// traces or in error messages: every appServer.env value (whatever its name), secrets inside
// appServer.args, URL userinfo, and whole Authorization values. Tokens can come from files.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { clearRegisteredSecrets, redactText } from '../../src/log/redact.js';
import { toSafeJson } from '../../src/trace/serialize.js';
import { redactValue } from '../../src/log/redact.js';
import { runCli } from '../support/cli-proc.js';
import { codexBin } from '../support/codex-home.js';
import { memoryLogger } from '../support/log.js';

const AWS = 'aws-secret-access-value-5c1e';
const PAT = 'ghp_0123456789abcdefABCDEF0123';
const PLAIN = 'plain-looking-value-77aa'; // a value whose name does not look secret at all
const ARG_TOKEN = 'arg-token-4f2b9d0c1e';
const USERINFO = 'hunter2-userinfo-pass';
const BASIC = 'dXNlcjpwYXNzd29yZA==';
const FILE_TOKEN = 'file-only-token-0a9b8c7d';
const SECRETS = [AWS, PAT, PLAIN, ARG_TOKEN, USERINFO, BASIC, FILE_TOKEN];

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  clearRegisteredSecrets();
});
function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'sb-secrets-'));
  dirs.push(d);
  return d;
}

const leaks = (text: string) => SECRETS.filter((s) => text.includes(s));

const stdioConfig = (dir: string) => ({
  appServer: {
    command: codexBin(),
    // `-c key=value` is a real codex option: the app-server starts with it.
    args: ['-c', `x_switchboard_test="${ARG_TOKEN}"`, 'app-server', '--listen', 'stdio://'],
    env: { AWS_SECRET_ACCESS_KEY: AWS, GITHUB_PAT: PAT, SOME_SETTING: PLAIN, CODEX_HOME: dir },
    headers: { Authorization: `Basic ${BASIC}` },
  },
  storage: { kind: 'none' },
});

describe('#9 secrets in status, logs, traces and errors', () => {
  it('status --json and status (text) show no env value, no secret argument, no Authorization value', { timeout: 90_000 }, async () => {
    const dir = tempDir();
    const file = path.join(dir, 'switchboard.config.json');
    writeFileSync(file, JSON.stringify(stdioConfig(dir)));
    const json = runCli(['status', '--config', file, '--state-dir', dir, '--json'], { cwd: dir });
    expect(await json.exited).toBe(0);
    const status = JSON.parse(json.stdout()) as { config: { appServer: { env: Record<string, string>; args: string[] } } };
    expect(leaks(json.stdout() + json.stderr())).toEqual([]);
    // The names stay (they help); every value is redacted; the safe default args stay readable.
    expect(status.config.appServer.env).toEqual({ AWS_SECRET_ACCESS_KEY: '[REDACTED]', GITHUB_PAT: '[REDACTED]', SOME_SETTING: '[REDACTED]', CODEX_HOME: '[REDACTED]' });
    expect(status.config.appServer.args).toEqual(['[REDACTED]', '[REDACTED]', 'app-server', '--listen', 'stdio://']);

    const text = runCli(['status', '--config', file, '--state-dir', dir], { cwd: dir });
    expect(await text.exited).toBe(0);
    expect(text.stdout()).toContain('codex app-server');
    expect(leaks(text.stdout() + text.stderr())).toEqual([]);
  });

  it('URL userinfo and a token file: the connection error and the logs name neither', { timeout: 60_000 }, async () => {
    const dir = tempDir();
    const tokenFile = path.join(dir, 'app-server.token');
    writeFileSync(tokenFile, `${FILE_TOKEN}\n`, { mode: 0o600 });
    const file = path.join(dir, 'switchboard.config.json');
    // Nothing listens on port 9: the connection fails and its error is printed.
    writeFileSync(file, JSON.stringify({ appServer: { transport: 'websocket', url: `ws://admin:${USERINFO}@127.0.0.1:9`, authTokenFile: tokenFile, discovery: { enabled: false } }, storage: { kind: 'none' } }));
    const cli = runCli(['status', '--config', file, '--state-dir', dir, '--json'], { cwd: dir, env: { SWITCHBOARD_LOG_LEVEL: 'trace' } });
    expect(await cli.exited).not.toBe(0);
    expect(cli.stderr().length).toBeGreaterThan(0);
    expect(leaks(cli.stdout() + cli.stderr())).toEqual([]);

    // The token really came from the file.
    const loaded = loadConfig({ file, env: {} });
    expect(loaded.config.appServer.authToken).toBe(FILE_TOKEN);
  });

  it('logs, traces and error texts: Authorization Basic values, userinfo, env values and args are scrubbed', () => {
    const dir = tempDir();
    const file = path.join(dir, 'switchboard.config.json');
    writeFileSync(file, JSON.stringify(stdioConfig(dir)));
    const { config } = loadConfig({ file, env: {} }); // registers the configured secrets
    const { log, lines } = memoryLogger();
    log.info({ appServer: config.appServer }, 'starting');
    log.warn({ spawn: `${codexBin()} -c x_switchboard_test="${ARG_TOKEN}" app-server` }, 'spawned');
    log.error(new Error(`handshake failed: Authorization: Basic ${BASIC} rejected by ws://admin:${USERINFO}@host`));
    log.info(`child env had SOME_SETTING=${PLAIN} and ${AWS}`);
    expect(leaks(lines().join('\n'))).toEqual([]);
    expect(lines().join('\n')).toContain('handshake failed');

    // Traces: serialized then redacted, as the tracer does.
    const trace = JSON.stringify(redactValue(toSafeJson({ event: { type: 'x', appServer: config.appServer, note: `token ${ARG_TOKEN} and ${PAT}` } })));
    expect(leaks(trace)).toEqual([]);

    // Error messages: the whole Authorization value goes, not only its first word.
    expect(redactText('Authorization: Basic xyz')).not.toContain('xyz');
    expect(redactText('{"authorization":"Digest abc123"}')).not.toContain('abc123');
    expect(redactText('wss://bob:pw-secret@example.com/x')).toBe('wss://[REDACTED]@example.com/x');
    expect(redactText('ws://tok-only-user@example.com')).not.toContain('tok-only-user');
  });

  it('a token from SWITCHBOARD_APP_SERVER_TOKEN_FILE is used and never logged', () => {
    const dir = tempDir();
    const tokenFile = path.join(dir, 'tok');
    writeFileSync(tokenFile, FILE_TOKEN);
    const { config } = loadConfig({ file: false, env: { SWITCHBOARD_APP_SERVER_TOKEN_FILE: tokenFile } });
    expect(config.appServer.authToken).toBe(FILE_TOKEN);
    const { log, lines } = memoryLogger();
    log.info(`connecting with ${FILE_TOKEN}`);
    expect(lines().join('\n')).not.toContain(FILE_TOKEN);
  });
});
