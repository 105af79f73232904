// Fault suite, part 3: kill -9 of the HOST mid-conversation. A child Node process
// (test/support/fault-host.ts: Connection + SessionManager + DatasetStore, real codex) is
// SIGKILLed while a turn runs and another message waits in its queue. A restarted host on
// the same binding directory and database has the binding and the history intact, delivers
// the message that was queued (never acked), and continues the same Codex thread.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FileBindingStore } from '../../src/session/bindings.js';
import { DatasetStore } from '../../src/storage/dataset.js';
import type { InboxMessage } from '../../src/storage/types.js';
import { say } from '../support/mock-model.js';
import { requestText } from '../support/fault-model.js';
import { codexBin } from '../support/codex-home.js';
import { isAlive, waitFor } from '../support/procs.js';
import { cleanupAll, faultWorld, finishFaultFile, inject, onCleanup, ROOM, SESSION, type World } from '../support/fault-harness.js';
import type { HostConfig, HostFact } from '../support/fault-host.js';

const HOST_SCRIPT = fileURLToPath(new URL('../support/fault-host.ts', import.meta.url));
const REPO = path.resolve(path.dirname(HOST_SCRIPT), '..', '..');
const hostLogLines: string[] = [];

afterEach(cleanupAll);
afterAll(() => finishFaultFile('fault.host-kill', { extraLogLines: hostLogLines }), 30_000);

interface Host {
  child: ChildProcess;
  facts: HostFact[];
  ready: Extract<HostFact, { t: 'ready' }>;
  post(text: string): void;
  /** The next fact of kind `t` matching `pred` after the previous `next` result of that kind. */
  next<T extends HostFact['t']>(t: T, pred?: (f: Extract<HostFact, { t: T }>) => boolean, ms?: number): Promise<Extract<HostFact, { t: T }>>;
  exited: Promise<void>;
  stop(): Promise<void>;
}

async function startHost(w: World, name: string): Promise<Host> {
  const logFile = path.join(w.base, `host-${name}.log`);
  const cfg: HostConfig = {
    codexCommand: codexBin(),
    codexEnv: w.env,
    cwd: w.cwd,
    bindingDir: w.bindingDir,
    dbFile: path.join(w.base, 'threads.db'),
    logFile,
  };
  // The host carries the world's HOME too: the leak check finds it and its app-server.
  const child = spawn(process.execPath, ['--import', 'tsx', HOST_SCRIPT], {
    cwd: REPO,
    env: { ...w.env, FAULT_HOST_CONFIG: JSON.stringify(cfg) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const facts: HostFact[] = [];
  const wakers = new Set<() => void>();
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    facts.push(JSON.parse(line) as HostFact);
    if (process.env.FAULT_DEBUG) console.log(`host ${name}: ${line.slice(0, 300)}`);
    for (const wake of [...wakers]) wake();
  });
  const cursors = new Map<string, number>(); // one cursor per kind of fact
  const next = <T extends HostFact['t']>(t: T, pred: (f: Extract<HostFact, { t: T }>) => boolean = () => true, ms = 30_000) =>
    new Promise<Extract<HostFact, { t: T }>>((resolve, reject) => {
      const check = () => {
        for (let i = cursors.get(t) ?? 0; i < facts.length; i++) {
          const f = facts[i]!;
          if (f.t === t && pred(f as Extract<HostFact, { t: T }>)) {
            cursors.set(t, i + 1);
            wakers.delete(check);
            clearTimeout(timer);
            resolve(f as Extract<HostFact, { t: T }>);
            return;
          }
        }
      };
      const timer = setTimeout(() => {
        wakers.delete(check);
        reject(new Error(`host ${name}: no ${t} within ${ms} ms; facts: ${facts.map((f) => (f.t === 'event' ? f.event.type : f.t)).join(', ')}; stderr: ${stderr.slice(-2000)}`));
      }, ms);
      wakers.add(check);
      check();
    });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  onCleanup(async () => {
    kill();
    await exited;
    // Its log is grepped with the others at the end of the file (the world dir goes next).
    if (existsSync(logFile)) hostLogLines.push(...readFileSync(logFile, 'utf8').split('\n').filter(Boolean));
  });
  const ready = await next('ready');
  return {
    child,
    facts,
    ready,
    next,
    exited,
    post: (text) => {
      const message: InboxMessage = { ...ROOM, from: { id: 'u1', name: 'Ann' }, text };
      child.stdin!.write(`${JSON.stringify({ cmd: 'post', message })}\n`);
    },
    stop: async () => {
      child.stdin!.write(`${JSON.stringify({ cmd: 'stop' })}\n`);
      await next('stopped');
      await exited;
    },
  };
}

const isEnd = (f: HostFact) => f.t === 'event' && ['turn.completed', 'turn.failed', 'turn.interrupted'].includes(f.event.type);
type EventFact = Extract<HostFact, { t: 'event' }>;

describe('kill -9 of the host mid-conversation', () => {
  it('restart on the same bindings and database: binding and history intact, the queued message delivered, same thread', async () => {
    const survived = inject('host killed -9 mid-turn');
    const w = await faultWorld([say('Noted: KIWI.'), { text: 'never sent', stallMs: 60_000 }, say('The word was KIWI.'), say('Still KIWI.')]);

    const a = await startHost(w, 'a');
    a.post('Remember the word KIWI');
    const first = (await a.next('event', (f) => isEnd(f))) as EventFact;
    expect(first.event.type).toBe('turn.completed');
    const threadId = (first.event as { threadId: string }).threadId;

    a.post('Think for a long time');
    await a.next('event', (f) => f.event.type === 'turn.started' && (f.event as { turnId: string }).turnId !== (first.event as { turnId: string }).turnId);
    await a.next('acked'); // m1
    await a.next('acked'); // m2: its turn started, it is Codex's now
    expect(await waitFor(() => w.model.requests.length === 2, 10_000)).toBe(true);
    a.post('What was the word?'); // queued behind the running turn (busyMode: queue)
    const queued = await a.next('enqueued', (f) => f.text === 'What was the word?');
    expect(a.facts.some((f) => f.t === 'acked' && f.id === queued.id)).toBe(false);

    const codexA = a.ready.codexPid!;
    expect(isAlive(codexA)).toBe(true);
    a.child.kill('SIGKILL');
    await a.exited;
    // Nothing is left of host A: its app-server goes with it (stdin EOF), it is not orphaned.
    expect(await waitFor(() => !isAlive(codexA), 10_000)).toBe(true);

    const b = await startHost(w, 'b');
    expect(b.ready.redelivered).toEqual(['What was the word?']);
    const resumed = (await b.next('event', (f) => isEnd(f))) as EventFact;
    expect(resumed.event).toMatchObject({ type: 'turn.completed', threadId });
    await b.next('acked', (f) => f.id === queued.id);
    // Same Codex thread: the model's request carries the conversation from before the kill.
    const text = requestText(w.model.requests[2]);
    for (const t of ['Remember the word KIWI', 'Noted: KIWI.', 'What was the word?']) expect(text).toContain(t);

    b.post('Are you sure?');
    const again = (await b.next('event', (f) => isEnd(f))) as EventFact;
    expect(again.event).toMatchObject({ type: 'turn.completed', threadId });
    await b.stop();

    // Binding and history, read back from disk.
    const binding = await new FileBindingStore(w.bindingDir).load(SESSION);
    expect(binding).toMatchObject({ key: SESSION, threadId });
    const store = await DatasetStore.open(path.join(w.base, 'threads.db'));
    try {
      expect(await store.pending()).toEqual([]);
      const history = (await store.history(SESSION)).map((r) =>
        r.kind === 'message' ? `${r.role}: ${r.text}` : r.kind === 'turn' ? `turn ${r.status}` : r.kind,
      );
      expect(history).toEqual([
        'user: Remember the word KIWI',
        'assistant: Noted: KIWI.',
        'turn completed',
        'user: Think for a long time',
        'user: What was the word?',
        // (host A died here, mid-turn: no end record for "Think for a long time")
        'assistant: The word was KIWI.',
        'turn completed',
        'user: Are you sure?',
        'assistant: Still KIWI.',
        'turn completed',
      ]);
    } finally {
      await store.close();
    }
    survived();
  });
});
