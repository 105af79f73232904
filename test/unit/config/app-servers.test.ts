// appServer.pool / appServer.servers / agents.list[].appServer: validation with readable
// errors, token files, and which agents share a process.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redactedConfig } from '../../../src/config/load.js';
import { planAppServers } from '../../../src/stack/app-servers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const load = (flags: Record<string, unknown>) => loadConfig({ env: {}, file: false, flags });
const problemsOf = (flags: Record<string, unknown>): string[] => {
  try {
    load(flags);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
};

describe('app-server configuration', () => {
  it('a pool: size defaults to 2; limits are optional; bad values name the field', () => {
    expect(load({ appServer: { pool: {} } }).config.appServer.pool).toEqual({ size: 2 });
    expect(load({ appServer: { pool: { size: 3, maxLoadedThreads: 200, maxRssMb: 512, recycleIdleAfterMs: 60_000 } } }).config.appServer.pool).toMatchObject({ size: 3 });
    const problems = problemsOf({ appServer: { pool: { size: 0, maxRssMb: 1, recycleIdleAfterMs: 2 ** 31, sise: 2 } } });
    expect(problems.join('\n')).toMatch(/appServer\.pool \(flag\): unknown field "sise"/);
    expect(problems.join('\n')).toMatch(/appServer\.pool\.size \(flag\): write a number >= 1/);
    expect(problems.join('\n')).toMatch(/appServer\.pool\.maxRssMb \(flag\): write a number >= 32/);
    expect(problems.join('\n')).toMatch(/appServer\.pool\.recycleIdleAfterMs \(flag\): write a number <= 2147483647 \(milliseconds/);
  });

  it('contradictions are refused with what to write instead', () => {
    expect(problemsOf({ appServer: { transport: 'websocket', url: 'ws://127.0.0.1:1', pool: { size: 2 } } })).toEqual([
      'appServer.transport (flag): a pool spawns its app-servers: list remote WebSocket app-servers in servers instead',
    ]);
    expect(problemsOf({ appServer: { servers: [{ url: 'ws://127.0.0.1:1' }], pool: {} } })).toEqual(['appServer.servers (flag): pool spawns app-servers and servers lists remote ones: keep one']);
    expect(problemsOf({ appServer: { servers: [{ url: 'http://x' }] } })[0]).toMatch(/appServer\.servers\.0\.url \(flag\): write a WebSocket URL/);
    expect(problemsOf({ appServer: { servers: [{ url: 'ws://a:1', authToken: 't', authTokenFile: '/f' }] } })).toEqual([
      'appServer.servers.0.authTokenFile (flag): authToken and authTokenFile are both set: keep one (prefer the file)',
    ]);
    expect(problemsOf({ agents: { list: [{ id: 'b', appServer: { codexHome: '/h', env: { CODEX_HOME: '/g' } } }] } })).toEqual([
      'agents.list.0.appServer.codexHome (flag): codexHome and env.CODEX_HOME are both set: keep one',
    ]);
    expect(problemsOf({ agents: { list: [{ id: 'b', appServer: { transport: 'websocket' } }] } })).toEqual([
      'agents.list.0.appServer.url (flag): transport "websocket" needs a url, e.g. "ws://127.0.0.1:39175"',
    ]);
    expect(problemsOf({ agents: { list: [{ id: 'b', appServer: { mode: 'yolo' } }] } })[0]).toMatch(/agents\.list\.0\.appServer \(flag\): unknown field "mode"/);
  });

  it('token files of remote servers are read at load, and the tokens are never shown', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-pool-cfg-'));
    dirs.push(dir);
    const f = path.join(dir, 'token');
    writeFileSync(f, 'sekrit-token-123\n');
    const { config } = load({ appServer: { servers: [{ url: 'ws://127.0.0.1:1', authTokenFile: f }, { url: 'ws://127.0.0.1:2', authToken: 'other-token-456' }] } });
    expect(config.appServer.servers![0]!.authToken).toBe('sekrit-token-123');
    const shown = JSON.stringify(redactedConfig(config));
    expect(shown).not.toContain('sekrit-token-123');
    expect(shown).not.toContain('other-token-456');
    expect(problemsOf({ appServer: { servers: [{ url: 'ws://127.0.0.1:1', authTokenFile: path.join(dir, 'missing') }] } })[0]).toMatch(
      /appServer\.servers\.0\.authTokenFile \(flag\): cannot read/,
    );
  });
});

describe('which processes serve which agents', () => {
  it('without a pool or overrides: one app-server, the historic connection id, no pool layer', () => {
    const plan = planAppServers(load({}).config);
    expect(plan.pooled).toBe(false);
    expect(plan.groups).toEqual([{ id: 'codex', memberIds: ['conn:codex'], pool: undefined, agents: [] }]);
    expect(plan.transportOf('conn:codex')).toMatchObject({ kind: 'stdio' });
  });

  it('a pool of spawned app-servers: one member each, with limits in bytes', () => {
    const plan = planAppServers(load({ appServer: { env: { CODEX_HOME: '/h' }, pool: { size: 3, maxLoadedThreads: 10, maxRssMb: 256 } } }).config);
    expect(plan.pooled).toBe(true);
    expect(plan.groups[0]).toMatchObject({ id: 'codex', memberIds: ['conn:codex:0', 'conn:codex:1', 'conn:codex:2'] });
    expect(plan.groups[0]!.pool).toMatchObject({ maxLoadedThreads: 10, maxRssBytes: 256 * 1024 * 1024, recyclable: true });
    expect(plan.transportOf('conn:codex:2')).toMatchObject({ kind: 'stdio', env: { CODEX_HOME: '/h' } });
  });

  it('remote servers: one member each, placement only (never recycled)', () => {
    const plan = planAppServers(load({ appServer: { servers: [{ url: 'ws://127.0.0.1:1', authToken: 'a' }, { url: 'ws://127.0.0.1:2' }] } }).config);
    expect(plan.groups[0]!.memberIds).toEqual(['conn:codex:0', 'conn:codex:1']);
    expect(plan.groups[0]!.pool).toMatchObject({ recyclable: false });
    expect(plan.transportOf('conn:codex:0')).toEqual({ kind: 'websocket', url: 'ws://127.0.0.1:1', authToken: 'a', headers: {} });
  });

  it('agents with their own CODEX_HOME get their own process; equal settings share one; others use appServer', () => {
    const plan = planAppServers(
      load({
        appServer: { env: { CODEX_HOME: '/shared' } },
        agents: {
          list: [
            { id: 'a' },
            { id: 'b', appServer: { codexHome: '/b-home' } },
            { id: 'c', appServer: { codexHome: '/b-home' } },
            { id: 'd', appServer: { env: { CODEX_HOME: '/shared' } } },
            { id: 'e', appServer: { command: '/opt/codex', pool: { size: 2 } } },
          ],
        },
      }).config,
    );
    expect(plan.groups.map((g) => [g.id, g.memberIds, g.agents])).toEqual([
      ['codex', ['conn:codex'], ['a', 'd']],
      ['codex@b', ['conn:codex@b'], ['b', 'c']],
      ['codex@e', ['conn:codex@e:0', 'conn:codex@e:1'], ['e']],
    ]);
    expect(plan.groupOf('c')).toBe('codex@b');
    expect(plan.groupOf('default')).toBe('codex');
    expect(plan.transportOf('conn:codex@b')).toMatchObject({ env: { CODEX_HOME: '/b-home' } });
    expect(plan.transportOf('conn:codex@e:1')).toMatchObject({ command: '/opt/codex', env: { CODEX_HOME: '/shared' } });
  });

  it('no unused process: when the default agent has a process of its own, the top-level one is not spawned', () => {
    const plan = planAppServers(load({ agents: { list: [{ id: 'b', default: true, appServer: { codexHome: '/b' } }] } }).config);
    expect(plan.groups.map((g) => g.id)).toEqual(['codex@b']);
    expect(plan.groupOf('default')).toBe('codex@b');
  });
});
