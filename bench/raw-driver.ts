// A minimal raw JSON-RPC driver for the real app-server: the baseline Switchboard is
// measured against (no validation, no actors, no restarts).
import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';

export class RawDriver {
  private nextId = 1;
  private readonly pending = new Map<number, (msg: Record<string, unknown>) => void>();
  private readonly listeners = new Set<(msg: Record<string, unknown>) => void>();
  readonly child: ChildProcess;

  constructor(command: string, env: NodeJS.ProcessEnv, args = ['app-server', '--listen', 'stdio://']) {
    this.child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'ignore'], detached: true });
    const rl = readline.createInterface({ input: this.child.stdout! });
    rl.on('line', (line) => {
      const msg = JSON.parse(line) as Record<string, unknown>;
      if (msg.id !== undefined && msg.method === undefined) {
        const r = this.pending.get(msg.id as number);
        this.pending.delete(msg.id as number);
        r?.(msg);
      } else for (const l of this.listeners) l(msg);
    });
  }

  request(method: string, params: unknown): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.child.stdin!.write(`${JSON.stringify({ id, method, params })}\n`);
    });
  }

  notify(method: string, params?: unknown): void {
    this.child.stdin!.write(`${JSON.stringify(params === undefined ? { method } : { method, params })}\n`);
  }

  respond(id: unknown, result: unknown): void {
    this.child.stdin!.write(`${JSON.stringify({ id, result })}\n`);
  }

  on(listener: (msg: Record<string, unknown>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async handshake(): Promise<void> {
    await this.request('initialize', { clientInfo: { name: 'raw', title: null, version: '0' }, capabilities: null });
    this.notify('initialized');
  }

  async close(): Promise<void> {
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    try {
      process.kill(-this.child.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
    await exited;
  }
}
