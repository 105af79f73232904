// stdio transport: spawns `codex app-server --listen stdio://` in its own process group.
import { randomUUID } from 'node:crypto';
import { execa } from 'execa';
import type { Logger } from 'pino';
import { MAX_FRAME_BYTES } from '../protocol/wire.js';
import { OWNER_PID_VAR, PROCESS_TAG_VAR, processRegistry } from '../process/registry.js';
import { redactText } from '../log/redact.js';
import { LineSplitter } from './lines.js';
import { appServerReason, isFatalStartupReason } from './stderr-reason.js';
import { TransportError, type Transport, type TransportExit, type TransportFactory, type TransportHandlers } from './types.js';

export interface StdioOptions {
  command: string;
  args: string[];
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** After stdin is closed, how long the server gets to exit on its own. */
  closeGraceMs?: number;
  /** After SIGTERM, how long before SIGKILL. */
  killGraceMs?: number;
  stderrTailBytes?: number;
  log?: Logger;
  onOversizeLine?: (bytes: number) => void;
}

class StderrTail {
  private buf = '';
  constructor(private readonly max: number) {}
  push(s: string): void {
    this.buf += s;
    if (this.buf.length > this.max * 2) this.buf = this.buf.slice(-this.max);
  }
  text(): string {
    return redactText(this.buf.slice(-this.max).trim());
  }
}

export function stdioTransport(opts: StdioOptions): TransportFactory {
  return (handlers) => openStdio(opts, handlers);
}

function openStdio(opts: StdioOptions, handlers: TransportHandlers): Promise<Transport> {
  const closeGraceMs = opts.closeGraceMs ?? 1000;
  const killGraceMs = opts.killGraceMs ?? 2000;
  const tail = new StderrTail(opts.stderrTailBytes ?? 8192);
  const description = `${opts.command} ${opts.args.join(' ')}`;
  const tag = randomUUID();

  let child: ReturnType<typeof execa>;
  try {
    child = execa(opts.command, opts.args, {
      detached: true, // own process group: we signal the whole group, children included
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      reject: false,
      cleanup: true,
      env: { ...(opts.env ?? process.env), [PROCESS_TAG_VAR]: tag, [OWNER_PID_VAR]: String(process.pid) },
      extendEnv: false,
      cwd: opts.cwd,
      encoding: 'utf8',
    });
  } catch (err) {
    return Promise.reject(new TransportError(spawnFailure(opts.command, err)));
  }

  return new Promise<Transport>((resolve, reject) => {
    let opened = false;
    let closing = false;
    let finished = false;
    let pid: number | undefined;
    let exited: Promise<void> | undefined;

    const stdin = child.stdin!;
    const stdout = child.stdout!;
    const stderr = child.stderr!;
    // A dying child closes its pipes under us: EPIPE must never reach the host.
    stdin.on('error', (err) => opts.log?.debug({ err: String(err) }, 'app-server stdin error'));
    stdout.on('error', () => {});
    stderr.on('error', () => {});
    stderr.setEncoding('utf8');
    stderr.on('data', (s: string) => tail.push(s));

    const splitter = new LineSplitter(
      (line) => {
        if (!finished) handlers.onLine(line);
      },
      (bytes) => opts.onOversizeLine?.(bytes),
      MAX_FRAME_BYTES,
    );
    stdout.setEncoding('utf8');
    stdout.on('data', (s: string) => splitter.push(s));

    // Backpressure: when the pipe is full, hold frames here until 'drain'.
    const queue: string[] = [];
    let blocked = false;
    const write = (text: string): void => {
      if (!stdin.write(text)) blocked = true;
    };
    stdin.on('drain', () => {
      blocked = false;
      while (queue.length > 0 && !blocked) write(queue.shift()!);
    });

    const transport: Transport = {
      get pid() {
        return pid;
      },
      description,
      send(text: string) {
        if (finished || closing || stdin.destroyed) return;
        const frame = `${text}\n`;
        if (blocked) queue.push(frame);
        else write(frame);
      },
      close(closeOpts) {
        if (finished) return Promise.resolve();
        if (closeOpts?.force) {
          closing = true;
          stdin.destroy();
          if (pid !== undefined) processRegistry.signal(pid, 'SIGKILL');
        } else if (!closing) {
          closing = true;
          gracefulStop();
        }
        return exited ?? Promise.resolve();
      },
    };

    const gracefulStop = (): void => {
      stdin.end();
      const term = setTimeout(() => {
        const group = pid;
        if (group === undefined || finished) return;
        opts.log?.warn({ pid: group }, 'app-server still running after stdin closed: SIGTERM');
        processRegistry.signal(group, 'SIGTERM');
        const kill = setTimeout(() => {
          if (finished) return;
          opts.log?.warn({ pid: group }, 'app-server ignored SIGTERM: SIGKILL');
          processRegistry.signal(group, 'SIGKILL');
        }, killGraceMs);
        kill.unref();
      }, closeGraceMs);
      term.unref();
    };

    child.once('spawn', () => {
      pid = child.pid;
      if (pid !== undefined) processRegistry.add(pid, description, tag);
      opened = true;
      resolve(transport);
    });

    exited = child.then((result) => {
      splitter.end();
      if (pid !== undefined) {
        // The group may still hold grandchildren (MCP servers, sandboxed commands).
        processRegistry.signal(pid, 'SIGKILL');
        const reaped = processRegistry.reap(tag);
        if (reaped > 0) opts.log?.info({ pid, reaped }, 'killed app-server descendants outside its process group');
        processRegistry.remove(pid);
      }
      finished = true;
      const r = result as { exitCode?: number; signal?: string; code?: string; originalMessage?: string };
      if (!opened) {
        reject(new TransportError(spawnFailure(opts.command, r)));
        return;
      }
      const stderrTail = tail.text();
      // Its own words say why (e.g. a missing CODEX_HOME); some of them no restart can fix.
      const own = closing ? undefined : appServerReason(stderrTail);
      const exit: TransportExit = {
        kind: 'exit',
        code: r.exitCode ?? null,
        signal: r.signal ?? null,
        stderrTail,
        ...(own ? { appServerReason: own } : {}),
        retryable: !closing && !(own && isFatalStartupReason(own)),
        intentional: closing,
        reason: closing
          ? 'closed by Switchboard'
          : `codex app-server exited ${r.signal ? `on ${r.signal}` : `with code ${r.exitCode ?? 'unknown'}`}${own ? `: ${own}` : ''}`,
      };
      handlers.onClose(exit);
    });
  });
}

function spawnFailure(command: string, err: unknown): TransportExit {
  const e = err as { code?: string; originalMessage?: string; message?: string };
  const notFound = e.code === 'ENOENT' || /ENOENT/.test(String(e.originalMessage ?? e.message ?? ''));
  return {
    kind: 'spawn-error',
    retryable: !notFound && e.code !== 'EACCES',
    reason: notFound
      ? `Codex binary not found: "${command}". Install @openai/codex or set the app-server command.`
      : `could not start "${command}": ${redactText(String(e.originalMessage ?? e.message ?? err))}`,
  };
}
