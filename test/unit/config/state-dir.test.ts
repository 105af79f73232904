// The state directory: where Switchboard keeps conversation state (the dataset, the thread
// bindings), never the agent's cwd. Resolved through the real Supervisor and config loader.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { legacyStateNotice, prepareStateDir, resolveStatePaths, StateDirError } from '../../../src/config/state-paths.js';
import { createSupervisor, type Supervisor } from '../../../src/supervisor/supervisor.js';
import { memoryLogger } from '../../support/log.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  vi.unstubAllEnvs();
});
function tmp(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'sb-state-'));
  cleanup.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}
function supervisor(config: Record<string, unknown>, options: { stateDir?: string; baseDir?: string } = {}): Supervisor {
  const sb = createSupervisor(config, { log: memoryLogger('silent').log, ...options });
  cleanup.push(() => sb.stop());
  return sb;
}

describe('the state directory', () => {
  it('defaults to $XDG_STATE_HOME/switchboard, else ~/.local/state/switchboard; the stateDir option wins', () => {
    const xdg = tmp();
    vi.stubEnv('XDG_STATE_HOME', xdg);
    expect(supervisor({}).statePaths.stateDir).toBe(path.join(xdg, 'switchboard'));
    // The XDG spec: a relative XDG_STATE_HOME is ignored.
    const home = tmp();
    vi.stubEnv('HOME', home);
    vi.stubEnv('XDG_STATE_HOME', 'relative/state');
    expect(supervisor({}).statePaths.stateDir).toBe(path.join(home, '.local', 'state', 'switchboard'));
    vi.stubEnv('XDG_STATE_HOME', '');
    expect(supervisor({}).statePaths.stateDir).toBe(path.join(home, '.local', 'state', 'switchboard'));
    const flag = tmp();
    expect(supervisor({}, { stateDir: flag }).statePaths.stateDir).toBe(flag);
  });

  it('the default dataset and bindings live in it, never under the agent cwd (baseDir)', () => {
    const state = tmp();
    const sb = supervisor({}, { stateDir: state, baseDir: tmp() });
    expect(sb.config.storage).toEqual({ kind: 'dataset', path: 'threads.db' });
    expect(sb.config.sessions.bindingsDir).toBe('bindings');
    expect(sb.statePaths).toEqual({ stateDir: state, bindingsDir: path.join(state, 'bindings'), storageFile: path.join(state, 'threads.db') });
  });

  it('relative storage.path and sessions.bindingsDir resolve against the state directory; absolute ones are used as given', () => {
    const state = tmp();
    const relative = supervisor({ storage: { kind: 'dataset', path: 'db/history.db' }, sessions: { bindingsDir: 'b/../threads' } }, { stateDir: state });
    expect(relative.statePaths.storageFile).toBe(path.join(state, 'db', 'history.db'));
    expect(relative.statePaths.bindingsDir).toBe(path.join(state, 'threads'));
    const elsewhere = tmp();
    const absolute = supervisor({ storage: { kind: 'dataset', path: path.join(elsewhere, 'x.db') }, sessions: { bindingsDir: path.join(elsewhere, 'b') } }, { stateDir: state });
    expect(absolute.statePaths).toEqual({ stateDir: state, bindingsDir: path.join(elsewhere, 'b'), storageFile: path.join(elsewhere, 'x.db') });
    // codex/none storage: owners and thread rooms beside the bindings.
    const none = supervisor({ storage: { kind: 'none' } }, { stateDir: state });
    expect(none.statePaths.storageFile).toBe(path.join(state, 'bindings', 'sessions.json'));
  });

  it('a config file and the CLI resolve the same way: one function for every consumer', () => {
    const dir = tmp();
    const file = path.join(dir, 'switchboard.config.json');
    writeFileSync(file, JSON.stringify({ storage: { path: 'threads/main.db' } }));
    const { config } = loadConfig({ file, env: {} });
    expect(resolveStatePaths(config, '/srv/sb')).toEqual({ stateDir: '/srv/sb', bindingsDir: '/srv/sb/bindings', storageFile: '/srv/sb/threads/main.db' });
  });

  it('is created with mode 0700 when missing; state kept elsewhere entirely leaves it alone', () => {
    const root = tmp();
    const state = path.join(root, 'deep', 'switchboard');
    prepareStateDir(resolveStatePaths(loadConfig({ env: {} }).config, state));
    expect(statSync(state).isDirectory()).toBe(true);
    expect(statSync(state).mode & 0o777).toBe(0o700);
    const unused = path.join(root, 'unused');
    const elsewhere = loadConfig({ env: {}, flags: { storage: { path: path.join(root, 'x.db') }, sessions: { bindingsDir: path.join(root, 'b') } } }).config;
    prepareStateDir(resolveStatePaths(elsewhere, unused));
    expect(existsSync(unused)).toBe(false);
  });

  it('one that cannot be created or is not a directory: an error naming the path and --state-dir', () => {
    const root = tmp();
    const aFile = path.join(root, 'file');
    writeFileSync(aFile, 'x');
    const config = loadConfig({ env: {} }).config;
    const under = path.join(aFile, 'state');
    expect(() => prepareStateDir(resolveStatePaths(config, under))).toThrow(StateDirError);
    expect(() => prepareStateDir(resolveStatePaths(config, under))).toThrow(new RegExp(`cannot create the state directory ${under} \\(ENOTDIR\\).*--state-dir`));
    expect(() => prepareStateDir(resolveStatePaths(config, aFile))).toThrow(/state directory .*file.*--state-dir/);
  });

  it('a supervisor whose state directory cannot be created fails to start with that error, and writes nothing', async () => {
    const root = tmp();
    const aFile = path.join(root, 'file');
    writeFileSync(aFile, 'x');
    const cwd = tmp();
    const sb = supervisor({ agents: { defaults: { cwd } } }, { stateDir: path.join(aFile, 'state'), baseDir: cwd });
    await expect(sb.start()).rejects.toThrow(/cannot create the state directory .*file\/state \(ENOTDIR\).*--state-dir/);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('state an earlier version left in the cwd (.switchboard/) is named at start with how to move it, until the state directory has its own', async () => {
    const cwd = tmp();
    const stateDir = path.join(tmp(), 'state');
    mkdirSync(path.join(cwd, '.switchboard', 'bindings'), { recursive: true });
    writeFileSync(path.join(cwd, '.switchboard', 'threads.db'), '');
    const { log, records } = memoryLogger('info');
    const sb = createSupervisor({ agents: { defaults: { cwd } } }, { log, stateDir, baseDir: cwd });
    cleanup.push(() => sb.stop());
    await sb.start();
    const warned = records().find((r) => String(r.msg).includes('earlier version'));
    expect(warned?.msg).toBe(
      `found conversation state from an earlier version in ${cwd}/.switchboard (threads.db, bindings); it is no longer read. To keep it: mv ${cwd}/.switchboard/threads.db ${cwd}/.switchboard/bindings ${stateDir}/`,
    );
    // Once the state directory has its own dataset, nothing more is said.
    expect(legacyStateNotice(sb.statePaths, cwd)).toBeUndefined();
  });
});

