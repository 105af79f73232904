// Runs the switchboard CLI as a child process and reads its output.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
// By path: the child may run in a directory outside the repo, where `tsx` does not resolve.
export const tsxLoader = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;

export interface CliProc {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

export function runCli(args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): CliProc {
  const child = spawn(process.execPath, ['--import', tsxLoader, main, ...args], {
    env: { ...process.env, NO_COLOR: '1', SWITCHBOARD_LOG_LEVEL: 'warn', ...opts.env },
    cwd: opts.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (err += String(d)));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async waitFor(re, ms = 30_000) {
      const end = Date.now() + ms;
      for (;;) {
        const m = out.match(re);
        if (m) return m;
        if (Date.now() > end || child.exitCode !== null) throw new Error(`no ${re} in output; stdout: ${out}\nstderr: ${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}
