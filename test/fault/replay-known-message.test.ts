// kill -9 of the host right after Codex took a message, before the host recorded that it did
// (the inbox entry is still unmarked): after the restart, Codex's thread is asked for the
// message's `clientUserMessageId` and the message is not sent again — the scripted model sees
// it exactly once.
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createClient } from '@libsql/client';
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

type Line = Record<string, unknown>;
function host(b: Sandbox) {
  const { child, lines } = spawnHost(b);
  children.push(child);
  const until = async (pred: (l: Line) => boolean, ms = 60_000): Promise<Line> => {
    for (const end = Date.now() + ms; ; ) {
      const l = lines.find(pred);
      if (l) return l;
      if (Date.now() > end) throw new Error(`host output never matched; got ${JSON.stringify(lines).slice(0, 1500)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const post = (text: string) => child.stdin!.write(`post ${JSON.stringify({ room: 'lab', from: { id: 'ann', name: 'Ann' }, text })}\n`);
  return { child, lines, until, post };
}
const ev = (type: string, pred: (e: Record<string, unknown>) => boolean = () => true) => (l: Line) =>
  (l.event as { type?: string } | undefined)?.type === type && pred(l.event as Record<string, unknown>);
const lastUserText = (input: Array<Record<string, unknown>>): string => JSON.stringify(input.filter((i) => i.role === 'user').at(-1) ?? {});

describe('a message Codex took just before the host died', () => {
  it('is recognised by its clientUserMessageId after the restart and not sent to the model again', async () => {
    box = await makeSandbox((req) => {
      const text = lastUserText(req.input);
      if (text.includes('first')) return { ...say('never finished'), stallMs: 120_000 };
      return say('second answered');
    });
    const sent = (word: string) => box!.model.requests.filter((r) => lastUserText(r.input).includes(word)).length;
    const h1 = host(box);
    await h1.until((l) => 'ready' in l);
    h1.post('first (the model stalls on it)');
    const started = (await h1.until(ev('turn.started'))).event as { turnId: string; threadId: string };
    for (const end = Date.now() + 60_000; sent('first') === 0 && Date.now() < end; ) await new Promise((r) => setTimeout(r, 25));
    expect(sent('first')).toBe(1);
    h1.child.kill('SIGKILL');
    await new Promise((r) => h1.child.once('exit', r));

    // The crash window: Codex had the message, the host had not yet marked its inbox entry taken.
    const db = createClient({ url: `file:${path.join(box.root, 'threads.db')}` });
    await db.execute('UPDATE inbox SET turn_id = NULL, thread_id = NULL');
    const pending = await db.execute('SELECT id FROM inbox');
    db.close();
    expect(pending.rows).toHaveLength(1);

    const h2 = host(box);
    await h2.until((l) => 'ready' in l);
    const failed = (await h2.until(ev('turn.failed'))).event as { turnId?: string; threadId?: string; error: string };
    expect(failed).toMatchObject({ turnId: started.turnId, threadId: started.threadId });
    expect(failed.error).toMatch(/Codex had taken the message/);
    await h2.until(ev('notice', (e) => /Not run again: "first/.test(String(e.text))));
    // The conversation goes on; the cut-off message was never sent a second time.
    h2.post('second');
    await h2.until(ev('message.completed', (e) => e.text === 'second answered'));
    expect(sent('first')).toBe(1);
    expect(sent('second')).toBe(1);
    h2.child.stdin!.end();
    expect(await new Promise((r) => h2.child.once('exit', (code) => r(code)))).toBe(0);
    const store = await DatasetStore.open(path.join(box.root, 'threads.db'));
    expect(await store.pending()).toEqual([]);
    await store.close();
  }, 240_000);
});
