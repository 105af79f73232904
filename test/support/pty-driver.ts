// Run a command on a real pseudo-terminal, with nothing to install: Python's standard `pty`
// module (python3 is everywhere the tests run; `pty` is in its standard library on Linux and
// macOS). The relay forks the command on a fresh pty (120x40), copies our stdin to the pty and
// the pty's output to our stdout, and exits with the command's exit code. Keystrokes are sent
// as raw bytes (Enter is "\r"), exactly as a terminal sends them.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

const RELAY = String.raw`
import os, sys, pty, select, struct, fcntl, termios
argv = sys.argv[1:]
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', 40, 120, 0, 0))
    os.execvp(argv[0], argv)
sys.stderr.write('pid %d\n' % pid)
sys.stderr.flush()
stdin, stdout = sys.stdin.fileno(), sys.stdout.fileno()
watch = [fd, stdin]
while True:
    try:
        ready, _, _ = select.select(watch, [], [])
    except InterruptedError:
        continue
    if fd in ready:
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b''
        if not data:
            break
        os.write(stdout, data)
    if stdin in ready:
        data = os.read(stdin, 65536)
        if data:
            os.write(fd, data)
        else:
            watch.remove(stdin)
_, status = os.waitpid(pid, 0)
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
`;

/** Why a pty cannot be driven here, or undefined when it can. */
export function ptyUnavailable(): string | undefined {
  if (process.platform === 'win32') return 'no POSIX pseudo-terminals on Windows';
  const r = spawnSync('python3', ['-c', 'import pty, termios, fcntl'], { encoding: 'utf8' });
  if (r.error) return `python3 is not available (${r.error.message})`;
  if (r.status !== 0) return `python3 has no pty module: ${r.stderr.trim()}`;
  return undefined;
}

export interface PtyProcess {
  proc: ChildProcess;
  /** Everything the command wrote to the terminal, raw (escape sequences included). */
  readonly raw: string;
  /** The same without escape sequences. */
  readonly text: string;
  /** Bytes as typed on the terminal's keyboard. */
  type(keys: string): void;
  /** The command's exit code once it exits. */
  exited: Promise<number | null>;
  /** Kill the command and the relay (idempotent). */
  kill(): void;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]/g;

export function spawnOnPty(command: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): PtyProcess {
  const proc = spawn('python3', ['-c', RELAY, command, ...args], { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let raw = '';
  let childPid: number | undefined;
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (d: string) => (raw += d));
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (d: string) => {
    const m = /pid (\d+)/.exec(d);
    if (m && childPid === undefined) childPid = Number(m[1]);
    else raw += d;
  });
  proc.stdin!.on('error', () => {}); // the relay may be gone already when we type
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    proc,
    get raw() {
      return raw;
    },
    get text() {
      return raw.replace(ANSI, '').replace(/\r/g, '');
    },
    type: (keys) => void proc.stdin!.write(keys),
    exited,
    kill() {
      if (childPid !== undefined) {
        try {
          process.kill(childPid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
}
