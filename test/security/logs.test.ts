// Security suite: secrets never reach a log line, an error or status(). The suite greps its
// own logs: every line this file (and each fault file) captured is searched for the exact
// secrets it planted and for any bearer token, Authorization header value or API key.
//
// Planted here: a configuration carrying a token (file + environment), a WebSocket
// connection to the REAL codex app-server with a bearer capability token and an extra
// secret header (a whole turn runs over it, logged at trace level), a wrong token (HTTP 401),
// an app-server whose environment holds an API key, and configuration errors around a token.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Connection } from '../../src/connection/connection.js';
import { ConfigError, loadConfig, redactedConfig } from '../../src/config/load.js';
import { processRegistry } from '../../src/process/registry.js';
import { SessionManager } from '../../src/session/manager.js';
import { say } from '../support/mock-model.js';
import { memoryLogger } from '../support/log.js';
import { leakedLines } from '../support/fault-report.js';
import { freePort } from '../support/ws-app-server.js';
import { codexBin } from '../support/codex-home.js';
import { captureLogger, cleanupAll, faultWorld, finishFaultFile, inject, makeRoom, onCleanup, ROOM, type World } from '../support/fault-harness.js';

const TOKEN = 'wscap-7d1e0f5a9b3c4d2e8f60a1b2';
const WRONG = 'wscap-wrong-00ff11ee22dd33cc';
const HEADER_SECRET = 'hdr-secret-4b5c6d7e8f9a0b1c';
const FILE_TOKEN = 'file-token-1122334455667788';
const API_KEY = 'sk-secsuite-aabbccddeeff0011';
const SECRETS = [TOKEN, WRONG, HEADER_SECRET, FILE_TOKEN, API_KEY];

afterEach(cleanupAll);
afterAll(() => finishFaultFile('security.logs', { secrets: SECRETS }), 30_000);

/** The real app-server on a loopback WebSocket with a capability token (HOME isolated too). */
async function wsAppServer(w: World, token: string): Promise<string> {
  const port = await freePort();
  const tokenFile = path.join(w.base, 'ws-token');
  writeFileSync(tokenFile, token, { mode: 0o600 });
  const url = `ws://127.0.0.1:${port}`;
  const child = spawn(codexBin(), ['app-server', '--listen', url, '--ws-auth', 'capability-token', '--ws-token-file', tokenFile], {
    env: w.env,
    stdio: ['ignore', 'ignore', 'ignore'],
    detached: true,
  });
  processRegistry.add(child.pid!, 'ws app-server (security test)');
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      processRegistry.signal(child.pid!, 'SIGKILL');
      await exited;
    }
    processRegistry.remove(child.pid!);
  });
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = new Socket();
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
      s.connect(port, '127.0.0.1');
    });
    if (ok) return url;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('ws app-server did not listen');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the grep itself', () => {
  it('finds planted secrets, bearer tokens, auth header values and API keys in unredacted lines', () => {
    // What a logger WITHOUT Switchboard's redaction would have written.
    const raw = [
      JSON.stringify({ msg: 'connecting', headers: { authorization: `Bearer ${TOKEN}` } }),
      `upgrade failed: Authorization: Bearer ${WRONG}`,
      JSON.stringify({ env: { OPENAI_API_KEY: API_KEY } }),
      JSON.stringify({ config: { appServer: { authToken: FILE_TOKEN } } }),
      JSON.stringify({ msg: 'fine', note: 'authorization was refused (HTTP 401)' }),
    ];
    expect(leakedLines(raw, SECRETS)).toEqual(raw.slice(0, 4));
    expect(leakedLines(['{"authorization":"x-not-a-planted-value"}', 'Bearer sometoken123'], [])).toHaveLength(2);
    // The same records through Switchboard's logger come out clean.
    const m = memoryLogger('trace');
    m.log.info({ headers: { authorization: `Bearer ${TOKEN}` } }, 'connecting');
    m.log.warn(`upgrade failed: Authorization: Bearer ${WRONG}`);
    m.log.info({ env: { OPENAI_API_KEY: API_KEY }, config: { appServer: { authToken: FILE_TOKEN } } }, 'config');
    expect(m.lines()).toHaveLength(3);
    expect(leakedLines(m.lines(), SECRETS)).toEqual([]);
  });
});

describe('no token or auth header in any log line', () => {
  it('a configuration with tokens: loaded, logged, shown in status; and broken around a token', () => {
    const log = captureLogger('trace');
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-sec-cfg-'));
    try {
      const file = path.join(dir, 'switchboard.config.json');
      writeFileSync(
        file,
        JSON.stringify({
          appServer: {
            transport: 'websocket',
            url: 'ws://127.0.0.1:1',
            authToken: FILE_TOKEN,
            headers: { 'X-Header-Secret': HEADER_SECRET },
            env: { OPENAI_API_KEY: API_KEY },
          },
        }),
      );
      const loaded = loadConfig({ file, env: { SWITCHBOARD_APP_SERVER_TOKEN: TOKEN } });
      expect(loaded.config.appServer.authToken).toBe(TOKEN); // env wins over the file
      // What a host would log at start-up and show in a status page.
      log.info({ config: loaded.config, sources: loaded.sources }, 'configuration loaded');
      log.debug(`config: ${JSON.stringify(redactedConfig(loaded.config))}`);
      expect(JSON.stringify(redactedConfig(loaded.config))).not.toMatch(new RegExp(SECRETS.join('|')));

      // Invalid configurations that carry secrets: the errors must not echo them.
      const broken = [
        { appServer: { transport: 'websokket', authToken: FILE_TOKEN } },
        { appServer: { authToken: FILE_TOKEN, headers: { Authorization: `Bearer ${HEADER_SECRET}` }, requestTimeoutMs: -1 } },
      ];
      for (const flags of broken) {
        const err = (() => {
          try {
            loadConfig({ file: false, env: {}, flags });
          } catch (e) {
            return e;
          }
          throw new Error('expected a ConfigError');
        })();
        expect(err).toBeInstanceOf(ConfigError);
        log.error({ err }, 'configuration rejected');
      }
      const envErr = (() => {
        try {
          loadConfig({ file: false, env: { SWITCHBOARD_CODEX_ARGS: `["--api-key=${API_KEY}", "--token=${TOKEN}"` } });
        } catch (e) {
          return e as Error;
        }
        throw new Error('expected a ConfigError');
      })();
      log.error({ err: envErr }, 'configuration rejected');
      log.error(envErr.message);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a WebSocket app-server with a bearer capability token: a whole turn at trace level, then a wrong token', async () => {
    const survived = inject('security: wrong bearer token refused, nothing logged');
    const w = await faultWorld([say('Hello over WebSocket.')]);
    const url = await wsAppServer(w, TOKEN);
    const log = captureLogger('trace');
    const conn = new Connection({
      transport: { kind: 'websocket', url, authToken: TOKEN, headers: { 'X-Header-Secret': HEADER_SECRET } },
      log,
    });
    onCleanup(() => conn.stop());
    await conn.start();
    log.info({ status: conn.status() }, 'status');
    expect(JSON.stringify(conn.status())).not.toMatch(new RegExp(SECRETS.join('|')));

    const room = makeRoom();
    const mgr = new SessionManager({
      connection: conn,
      sink: room.sink,
      bindingDir: w.bindingDir,
      settings: { cwd: w.cwd, approvalPolicy: 'never', sandbox: 'workspace-write' },
      log,
    });
    onCleanup(() => mgr.stop({ interrupt: false }));
    mgr.post({ ...ROOM, from: { id: 'u1', name: 'Ann' }, text: 'Say hello' });
    const end = await room.end(30_000);
    expect(end.type).toBe('turn.completed');
    expect(room.all('message.completed').at(-1)?.text).toBe('Hello over WebSocket.');

    const wrongLog = captureLogger('trace');
    const wrong = new Connection({ transport: { kind: 'websocket', url, authToken: WRONG }, log: wrongLog });
    onCleanup(() => wrong.stop());
    const err = (await wrong.start().then(() => new Error('expected a failure'), (e: unknown) => e)) as Error;
    expect(err.message).toMatch(/refused authentication \(HTTP 401\)/);
    expect(err.message).not.toContain(WRONG);
    wrongLog.error({ err, status: wrong.status() }, 'could not connect');
    survived();
  });

  it('an app-server that cannot start, with an API key in its environment', async () => {
    const log = captureLogger('trace');
    const conn = new Connection({
      transport: { kind: 'stdio', command: '/nonexistent/codex', env: { PATH: process.env.PATH, OPENAI_API_KEY: API_KEY, AUTH_TOKEN: TOKEN } },
      log,
    });
    onCleanup(() => conn.stop());
    const err = (await conn.start().then(() => new Error('expected a failure'), (e: unknown) => e)) as Error;
    expect(err.message).toMatch(/Codex binary not found/);
    log.error({ err, status: conn.status() }, 'could not start');
    expect(JSON.stringify(conn.status())).not.toMatch(new RegExp(SECRETS.join('|')));
  });
});
