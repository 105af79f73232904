import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redactedConfig } from '../../../src/config/load.js';
import { REDACTED, redactText } from '../../../src/log/redact.js';

const dirs: string[] = [];
function file(content: unknown): string {
  const d = mkdtempSync(path.join(tmpdir(), 'sb-cfg-'));
  dirs.push(d);
  const f = path.join(d, 'switchboard.config.json');
  writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content));
  return f;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const problemsOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
};

describe('configuration', () => {
  it('defaults: stdio, yolo, 60 s requests, discovery 2.5 s, codex harness without fallback, dataset storage', () => {
    const { config } = loadConfig({ env: {} });
    expect(config.appServer).toMatchObject({
      transport: 'stdio',
      mode: 'yolo',
      requestTimeoutMs: 60_000,
      discovery: { enabled: true, timeoutMs: 2_500 },
      minVersion: '0.118.0',
    });
    expect(config.agents.defaults.embeddedHarness).toEqual({ runtime: 'codex', fallback: 'none' });
    expect(config.storage.kind).toBe('dataset');
    expect(config.sessions.onMessageDuringTurn).toBe('steer');
  });

  it('precedence: file < env < flags', () => {
    const f = file({ appServer: { mode: 'yolo', sandbox: 'read-only', command: '/file/codex' } });
    const env = { SWITCHBOARD_MODE: 'guardian', SWITCHBOARD_SANDBOX: 'workspace-write', SWITCHBOARD_CODEX_ARGS: 'app-server --listen stdio://' };
    const { config, sources } = loadConfig({ file: f, env, flags: { appServer: { sandbox: 'danger-full-access' } } });
    expect(config.appServer.command).toBe('/file/codex');
    expect(config.appServer.mode).toBe('guardian');
    expect(config.appServer.sandbox).toBe('danger-full-access');
    expect(config.appServer.args).toEqual(['app-server', '--listen', 'stdio://']);
    expect(sources).toMatchObject({ 'appServer.command': 'file', 'appServer.mode': 'env', 'appServer.sandbox': 'flags' });
  });

  it('every env fallback maps to its field', () => {
    const { config } = loadConfig({
      env: {
        SWITCHBOARD_CODEX_BIN: '/opt/codex',
        SWITCHBOARD_CODEX_ARGS: '["app-server","--listen","stdio://"]',
        SWITCHBOARD_MODE: 'guardian',
        SWITCHBOARD_APPROVAL_POLICY: 'untrusted',
        SWITCHBOARD_SANDBOX: 'read-only',
        SWITCHBOARD_RUNTIME: 'auto',
        SWITCHBOARD_FALLBACK: 'pi',
      },
    });
    expect(config.appServer).toMatchObject({ command: '/opt/codex', mode: 'guardian', approvalPolicy: 'untrusted', sandbox: 'read-only' });
    expect(config.agents.defaults.embeddedHarness).toEqual({ runtime: 'auto', fallback: 'pi' });
  });

  it('reports each bad field with its source and what to write, never falling back to defaults', () => {
    const f = file({ appServer: { transport: 'tcp', requestTimeoutMs: -5, sandobx: 'x' }, storage: { kind: 'sqlite' } });
    const problems = problemsOf(() => loadConfig({ file: f, env: { SWITCHBOARD_MODE: 'reckless' } }));
    expect(problems).toEqual(
      expect.arrayContaining([
        `appServer.transport (file ${f}): write one of "stdio", "websocket"`,
        `appServer.requestTimeoutMs (file ${f}): write a number > 0`,
        `appServer (file ${f}): unknown field "sandobx": remove or correct the spelling`,
        'appServer.mode (env SWITCHBOARD_MODE): write one of "yolo", "guardian", "policy"',
        `storage.kind (file ${f}): write one of "dataset", "codex", "none", "postgres"`,
      ]),
    );
    expect(problems).toHaveLength(5);
  });

  it('a bad approval policy names the accepted forms', () => {
    const problems = problemsOf(() => loadConfig({ env: { SWITCHBOARD_APPROVAL_POLICY: 'sometimes' } }));
    expect(problems).toEqual(['appServer.approvalPolicy (env SWITCHBOARD_APPROVAL_POLICY): write "untrusted", "on-request", "never", or a { "granular": {...} } object']);
  });

  it('websocket transport needs a url; codex storage refuses a non-codex harness', () => {
    expect(problemsOf(() => loadConfig({ env: {}, flags: { appServer: { transport: 'websocket' } } }))).toEqual([
      'appServer.url (default): transport "websocket" needs a url, e.g. "ws://127.0.0.1:39175"',
    ]);
    const p = problemsOf(() => loadConfig({ env: { SWITCHBOARD_STORAGE: 'codex', SWITCHBOARD_RUNTIME: 'pi' } }));
    expect(p[0]).toMatch(/"codex" thread storage only supports the codex harness, but runtime "pi" is configured: use "dataset"/);
  });

  it('postgres storage needs a postgres:// url (config or SWITCHBOARD_STORAGE_URL); a url needs postgres storage', () => {
    const url = 'postgres://sb:hunter22@db.example.com:5432/switchboard';
    expect(loadConfig({ env: { SWITCHBOARD_STORAGE: 'postgres', SWITCHBOARD_STORAGE_URL: url } }).config.storage).toMatchObject({ kind: 'postgres', url });
    // Its password is a registered secret: any text quoting it is scrubbed.
    expect(redactText('connect failed: hunter22')).toBe(`connect failed: ${REDACTED}`);
    expect(problemsOf(() => loadConfig({ env: {}, flags: { storage: { kind: 'postgres' } } }))).toEqual([
      'storage.url (default): "postgres" storage needs storage.url (postgres:// then user:password@host:port/database), or SWITCHBOARD_STORAGE_URL',
    ]);
    expect(problemsOf(() => loadConfig({ env: {}, flags: { storage: { kind: 'postgres', url: 'mysql://x/y' } } }))[0]).toMatch(/storage\.url .*write a postgres:\/\/ URL: user:password@host:port\/database after the scheme/);
    expect(problemsOf(() => loadConfig({ env: { SWITCHBOARD_STORAGE_URL: url } }))[0]).toMatch(/storage.url is only read by "postgres" storage, but kind is "dataset"/);
  });

  it('cluster: a node id and lease TTL (default 10 s) with postgres storage; refused with any other storage or a bad node id', () => {
    const storage = { kind: 'postgres', url: 'postgres://sb:pw@db:5432/sb' };
    expect(loadConfig({ env: {}, flags: { storage, cluster: { node: 'node-a' } } }).config.cluster).toEqual({ node: 'node-a', leaseTtlMs: 10_000, maxSessions: 64, turnStartTimeoutMs: 60_000 });
    expect(problemsOf(() => loadConfig({ env: {}, flags: { cluster: { node: 'node-a' } } }))[0]).toMatch(/^cluster .*share one "postgres" database, but storage kind is "dataset"/);
    expect(problemsOf(() => loadConfig({ env: {}, flags: { storage, cluster: { node: 'a b' } } }))[0]).toMatch(/cluster\.node .*a node id is letters, digits/);
    expect(problemsOf(() => loadConfig({ env: {}, flags: { storage, cluster: { node: 'a', leaseTtlMs: 10 } } }))[0]).toMatch(/cluster\.leaseTtlMs/);
  });

  it('cluster.turnStartTimeoutMs: 60 s by default, 1 s .. 1 h accepted, anything else refused', () => {
    const storage = { kind: 'postgres', url: 'postgres://sb:pw@db:5432/sb' };
    const timeout = (ms?: unknown) => loadConfig({ env: {}, flags: { storage, cluster: { node: 'a', ...(ms === undefined ? {} : { turnStartTimeoutMs: ms }) } } }).config.cluster?.turnStartTimeoutMs;
    expect(timeout()).toBe(60_000);
    expect(timeout(5_000)).toBe(5_000);
    expect(timeout(3_600_000)).toBe(3_600_000);
    for (const bad of [999, 3_600_001, 1.5e4 + 0.5, '5000']) expect(problemsOf(() => timeout(bad))[0]).toMatch(/^cluster\.turnStartTimeoutMs/);
  });

  it('an invalid serviceTier is dropped with a warning', () => {
    const { config, warnings } = loadConfig({ env: {}, flags: { appServer: { serviceTier: 'turbo' } } });
    expect(config.appServer.serviceTier).toBeUndefined();
    expect(warnings).toEqual(['appServer.serviceTier (flag): "turbo" is not "fast", "flex" or null; ignored']);
    expect(loadConfig({ env: {}, flags: { appServer: { serviceTier: 'flex' } } }).config.appServer.serviceTier).toBe('flex');
  });

  it('unreadable JSON gets a message naming the file', () => {
    const f = file('{ "appServer": ');
    expect(problemsOf(() => loadConfig({ file: f, env: {} }))[0]).toMatch(/switchboard.config.json: not valid JSON/);
  });

  it('secrets are redacted when the config is shown', () => {
    const { config } = loadConfig({
      env: { SWITCHBOARD_APP_SERVER_TOKEN: 'tok-secret-999' },
      flags: { appServer: { transport: 'websocket', url: 'ws://127.0.0.1:1', headers: { 'X-Agent': 'main' } } },
    });
    expect(config.appServer.authToken).toBe('tok-secret-999');
    expect(JSON.stringify(redactedConfig(config))).not.toContain('tok-secret-999');
  });
});
