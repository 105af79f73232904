// kill -9 of the host mid-conversation: after a restart, bindings and history are intact,
// the queued message is delivered, and the same Codex thread continues.
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DatasetStore } from '../../src/storage/dataset.js';
import { say } from '../support/mock-model.js';
import { makeSandbox, type Sandbox } from '../support/sandbox.js';
import { spawnHost } from '../support/host-process.js';

let box: Sandbox | undefined;
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await box?.assertNoProcesses();
  await box?.close();
});

interface Host {
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  until(pred: (l: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
  post(text: string): void;
}

function host(b: Sandbox): Host {
  const { child, lines } = spawnHost(b);
  children.push(child);
  return {
    child,
    lines,
    async until(pred, ms = 30_000) {
      const end = Date.now() + ms;
      for (;;) {
        const l = lines.find(pred);
        if (l) return l;
        if (Date.now() > end) throw new Error(`host output never matched; got ${JSON.stringify(lines).slice(0, 1500)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    post(text) {
      child.stdin!.write(`post ${JSON.stringify({ room: 'lab', from: { id: 'ann', name: 'Ann' }, text })}\n`);
    },
  };
}
function lastUserText(input: Array<Record<string, unknown>>): string {
  const users = input.filter((i) => i.role === 'user');
  return JSON.stringify(users[users.length - 1] ?? {});
}
const ev = (type: string) => (l: Record<string, unknown>) => (l.event as { type?: string } | undefined)?.type === type;

describe('host crash (kill -9) mid-conversation', () => {
  it('restarts with bindings and history intact and delivers the queued message on the same thread', async () => {
    // Answer by the latest user message, not by request index: robust to extra model calls.
    box = await makeSandbox((req) => {
      const text = lastUserText(req.input);
      if (text.includes('third')) return say('third answered');
      if (text.includes('second')) return { ...say('never sent'), stallMs: 120_000 };
      return say('first answer');
    });
    const h1 = host(box);
    await h1.until((l) => 'ready' in l);
    h1.post('first');
    const t1 = (await h1.until(ev('turn.started'))).event as { threadId: string };
    await h1.until(ev('turn.completed'));
    h1.post('second (the model stalls on it)');
    await h1.until((l) => ev('turn.started')(l) && (l.event as { turnId: string }).turnId !== (h1.lines.find(ev('turn.started'))!.event as { turnId: string }).turnId);
    h1.post('third (queued behind the running turn)');
    await h1.until((l) => l.posted !== undefined && h1.lines.filter((x) => x.posted !== undefined).length === 3);
    h1.child.kill('SIGKILL');
    await new Promise((r) => h1.child.once('exit', r));

    // The restarted host kills what the dead one left behind, resumes, and delivers "third".
    const h2 = host(box);
    await h2.until((l) => 'ready' in l);
    const started = (await h2.until(ev('turn.started'))).event as { threadId: string };
    expect(started.threadId).toBe(t1.threadId);
    const done = (await h2.until(ev('message.completed'))).event as { text: string };
    expect(done.text).toBe('third answered');
    await h2.until(ev('turn.completed'));
    // The model saw the whole conversation of the thread, including the pre-crash turn.
    const lastInput = JSON.stringify(box.model.requests.at(-1)?.input);
    expect(lastInput).toContain('first answer');
    expect(lastInput).toContain('third (queued behind the running turn)');
    h2.child.stdin!.end();
    expect(await new Promise((r) => h2.child.once('exit', (code) => r(code)))).toBe(0);

    const store = await DatasetStore.open(path.join(box.root, 'threads.db'));
    const history = await store.history('lab/chat/main');
    const texts = history.filter((r) => r.kind === 'message').map((r) => (r as { text: string }).text);
    expect(texts).toEqual(['first', 'first answer', 'second (the model stalls on it)', 'third (queued behind the running turn)', 'third answered']);
    expect(await store.pending()).toEqual([]);
    await store.close();
  }, 120_000);
});
