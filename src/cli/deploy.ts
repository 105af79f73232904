// `switchboard deploy --systemd -- join …`: a systemd unit that runs the same `join` command
// line as a service. Credentials never go into the unit (it is world-readable on most
// systems): a token flag is refused, token files and an EnvironmentFile are the way.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Output } from './output.js';

export interface DeployOptions {
  systemd?: boolean;
  /** A user unit (~/.config/systemd/user) instead of a system unit (/etc/systemd/system). */
  user?: boolean;
  /** Where to write the unit; `-` prints it. Default: the user's or the system's unit directory. */
  output?: string;
  /** Unit name without `.service` (default: switchboard-<room>). */
  name?: string;
  /** Working directory of the service (default: the current directory). */
  workingDirectory?: string;
  /** Run as this user (system units only). */
  runAs?: string;
  env?: NodeJS.ProcessEnv;
}

/** Flags whose value is a secret: they would sit in a readable unit file and the process list. */
const SECRET_FLAGS = ['--token', '--shared-token'];
const UNIT_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9:_.@-]{0,200}$/;

/** One argument quoted for ExecStart (systemd.service "Command lines": quotes, `$` and `%` escaped). */
export function systemdQuote(arg: string): string {
  const escaped = arg.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$/g, '$$$$').replace(/%/g, '%%');
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? escaped : `"${escaped}"`;
}

function optionValue(args: string[], flag: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === flag) return args[i + 1];
    if (a.startsWith(`${flag}=`)) return a.slice(flag.length + 1);
  }
  return undefined;
}

export interface UnitInput {
  joinArgs: string[];
  node: string;
  bin: string;
  user: boolean;
  workingDirectory: string;
  runAs?: string | undefined;
  envFile: string;
}

/** The unit file's text. */
export function systemdUnit(u: UnitInput): string {
  const room = optionValue(u.joinArgs, '--room') ?? 'room';
  const exec = [u.node, u.bin, 'join', ...u.joinArgs].map(systemdQuote).join(' ');
  const lines = [
    '# Written by `switchboard deploy --systemd`. Secrets do not belong here: use token files',
    `# (--token-file) and ${u.envFile} (one KEY=VALUE per line, mode 0600).`,
    '[Unit]',
    `Description=Switchboard agent in room ${room}`,
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${exec}`,
    `WorkingDirectory=${systemdQuote(u.workingDirectory)}`,
    ...(u.runAs && !u.user ? [`User=${u.runAs}`] : []),
    `EnvironmentFile=-${u.envFile}`,
    // Machines read the logs: JSON lines into the journal, no colours.
    'Environment=SWITCHBOARD_LOG_FORMAT=json NO_COLOR=1',
    // SIGTERM is join's graceful stop (turns interrupted, approvals closed, app-server stopped).
    'KillSignal=SIGTERM',
    'TimeoutStopSec=30',
    'Restart=on-failure',
    'RestartSec=5',
    'NoNewPrivileges=true',
    'PrivateTmp=true',
    '',
    '[Install]',
    `WantedBy=${u.user ? 'default.target' : 'multi-user.target'}`,
    '',
  ];
  return lines.join('\n');
}

/** The switchboard launcher of this installation (bin/switchboard.js), absolute. */
export function launcherPath(): string {
  // src/cli/deploy.ts (tsx) or dist/src/cli/deploy.js (built): the launcher is at the package root.
  const candidates = ['../../bin/switchboard.js', '../../../bin/switchboard.js'].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  return candidates.find((f) => existsSync(f)) ?? candidates[0]!;
}

export function deploy(joinArgs: string[], o: DeployOptions, out: Output): number {
  if (!o.systemd) {
    out.error('say which service manager: --systemd (the only one supported)');
    return 2;
  }
  if (joinArgs[0] === 'join') joinArgs = joinArgs.slice(1);
  if (!optionValue(joinArgs, '--room') || !optionValue(joinArgs, '--agent-name')) {
    out.error('give the join command line after --, e.g. `switchboard deploy --systemd -- --room lab --agent-name bot --cwd /srv/work`');
    return 2;
  }
  const secret = joinArgs.find((a) => SECRET_FLAGS.some((f) => a === f || a.startsWith(`${f}=`)));
  if (secret) {
    out.error(`${secret.split('=')[0]} would write a credential into the unit file; use --token-file (or SWITCHBOARD_ROOM_TOKEN_FILE in the environment file)`);
    return 2;
  }
  const env = o.env ?? process.env;
  const user = o.user === true;
  const home = env.HOME || homedir();
  const room = optionValue(joinArgs, '--room')!;
  const name = o.name ?? `switchboard-${room}`;
  if (!UNIT_NAME_RE.test(name)) {
    out.error(`--name "${name.slice(0, 80)}": use letters, digits, ":", "_", ".", "@" or "-"`);
    return 2;
  }
  const configHome = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(home, '.config');
  const envFile = user ? path.join(configHome, 'switchboard', `${name}.env`) : path.join('/etc/switchboard', `${name}.env`);
  const bin = launcherPath();
  if (!existsSync(bin)) {
    out.error(`cannot find the switchboard launcher at ${bin}`);
    return 1;
  }
  const text = systemdUnit({ joinArgs, node: process.execPath, bin, user, workingDirectory: path.resolve(o.workingDirectory ?? process.cwd()), runAs: o.runAs, envFile });
  if (o.output === '-') {
    out.write(text);
    return 0;
  }
  const file = o.output ?? path.join(user ? path.join(configHome, 'systemd', 'user') : '/etc/systemd/system', `${name}.service`);
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text, { mode: 0o644 });
  } catch (err) {
    out.error(`cannot write ${file}: ${(err as Error).message}${user ? '' : ' (a system unit needs root; or use --user)'}`);
    return 1;
  }
  const ctl = user ? 'systemctl --user' : 'systemctl';
  out.line(`wrote ${file}`);
  out.line(`secrets (optional): ${envFile}, mode 0600`);
  out.line(`start it: ${ctl} daemon-reload && ${ctl} enable --now ${name}`);
  out.line(`logs: journalctl ${user ? '--user ' : ''}-u ${name} -f`);
  return 0;
}
