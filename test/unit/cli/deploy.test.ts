// `switchboard deploy --systemd`: a unit for the same join command line, no secrets in it,
// and one systemd itself accepts (systemd-analyze verify, where it exists).
import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deploy, launcherPath, systemdQuote } from '../../../src/cli/deploy.js';
import type { Output } from '../../../src/cli/output.js';

function capture(): Output & { out: string; err: string } {
  const o = { out: '', err: '' } as Output & { out: string; err: string };
  o.line = (t) => void (o.out += `${t}\n`);
  o.write = (t) => void (o.out += t);
  o.error = (t) => void (o.err += `${t}\n`);
  o.bold = (t) => t;
  o.progress = () => ({ done() {} });
  return o;
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function systemdAnalyze(): string | undefined {
  for (const p of ['/usr/bin/systemd-analyze', '/bin/systemd-analyze']) if (existsSync(p)) return p;
  return undefined;
}

describe('deploy --systemd', () => {
  it('writes a user unit that runs the same join command line, with the next steps', () => {
    const home = mkdtempSync(path.join(tmpdir(), 'sb-deploy-'));
    dirs.push(home);
    const o = capture();
    const args = ['join', '--room', 'lab', '--agent-name', 'bot', '--cwd', '/srv/my work', '--model', 'gpt-5.5'];
    expect(deploy(args, { systemd: true, user: true, env: { HOME: home }, workingDirectory: home }, o)).toBe(0);
    const file = path.join(home, '.config', 'systemd', 'user', 'switchboard-lab.service');
    expect(o.out).toContain(`wrote ${file}`);
    expect(o.out).toContain('systemctl --user daemon-reload && systemctl --user enable --now switchboard-lab');
    const unit = readFileSync(file, 'utf8');
    const exec = unit.split('\n').find((l) => l.startsWith('ExecStart='))!;
    expect(exec).toBe(`ExecStart=${process.execPath} ${launcherPath()} join --room lab --agent-name bot --cwd "/srv/my work" --model gpt-5.5`);
    expect(unit).toContain('WantedBy=default.target');
    expect(unit).toContain(`EnvironmentFile=-${path.join(home, '.config', 'switchboard', 'switchboard-lab.env')}`);
    expect(unit).toContain('KillSignal=SIGTERM');
    const verify = systemdAnalyze();
    if (verify) {
      // systemd's own parser: an error in the unit fails this (warnings about the sandbox are printed, not fatal).
      execFileSync(verify, ['verify', '--man=no', file], { stdio: 'pipe', env: { ...process.env, SYSTEMD_LOG_LEVEL: 'err' } });
    }
  });

  it('refuses a credential on the command line and a missing join line', () => {
    const o = capture();
    expect(deploy(['--room', 'lab', '--agent-name', 'bot', '--url', 'ws://h:1', '--token', 'eyJ.secret'], { systemd: true, output: '-' }, o)).toBe(2);
    expect(o.err).toMatch(/--token would write a credential into the unit file; use --token-file/);
    expect(o.out).toBe('');
    expect(deploy(['--room', 'lab'], { systemd: true, output: '-' }, o)).toBe(2);
    expect(o.err).toMatch(/give the join command line after --/);
    expect(deploy(['--room', 'lab', '--agent-name', 'bot'], { output: '-' }, o)).toBe(2);
    expect(o.err).toMatch(/--systemd/);
  });

  it('quotes arguments the way systemd reads them', () => {
    expect(systemdQuote('plain-arg_1.2/x')).toBe('plain-arg_1.2/x');
    expect(systemdQuote('two words')).toBe('"two words"');
    expect(systemdQuote('cost $5 and 100%')).toBe('"cost $$5 and 100%%"');
    expect(systemdQuote('say "hi"\\')).toBe('"say \\"hi\\"\\\\"');
  });
});
