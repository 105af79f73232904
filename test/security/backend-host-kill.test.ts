// Issue 11 #11: kill -9 of a supervisor host while a turn runs. On restart the cut-off turn
// is recorded failed ("interrupted by a host restart": a `turn` record, a notice, a
// `turn.failed` event) and its message is reported when Codex had it (a turn id was
// recorded) or run again when Codex never took it.
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DatasetStore } from '../../src/storage/dataset.js';
import type { RoomEvent } from '../../src/events/room-events.js';
import { say } from '../support/mock-model.js';
import { makeSandbox, type Sandbox } from '../support/sandbox.js';
import { spawnHost } from '../support/host-process.js';
import { isAlive, processesWithEnv, waitFor } from '../support/procs.js';

let box: Sandbox | undefined;
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (box) for (const pid of processesWithEnv(`CODEX_HOME=${box.codexHome}`)) process.kill(pid, 'SIGKILL');
  await box?.assertNoProcesses();
  await box?.close();
  box = undefined;
});

interface Host {
  child: ChildProcess;
  events: RoomEvent[];
  until<T extends RoomEvent['type']>(type: T, pred?: (e: Extract<RoomEvent, { type: T }>) => boolean): Promise<Extract<RoomEvent, { type: T }>>;
  post(text: string): Promise<void>;
  kill(): Promise<void>;
  /** Graceful: stdin closes, the host stops its supervisor and exits. */
  stop(): Promise<void>;
}

async function host(b: Sandbox): Promise<Host> {
  const { child, lines } = spawnHost(b);
  children.push(child);
  const events = () => lines.flatMap((l) => (l.event ? [l.event as RoomEvent] : []));
  const wait = async <T>(find: () => T | undefined, what: string): Promise<T> => {
    if (!(await waitFor(() => find() !== undefined, 30_000, 25))) throw new Error(`host never showed ${what}; got ${JSON.stringify(lines).slice(0, 1500)}`);
    return find()!;
  };
  await wait(() => lines.find((l) => 'ready' in l), 'ready');
  return {
    child,
    get events() {
      return events();
    },
    until: (type, pred = () => true) => wait(() => events().find((e) => e.type === type && pred(e as never)) as never, type),
    async post(text) {
      const n = lines.filter((l) => 'posted' in l).length;
      child.stdin!.write(`post ${JSON.stringify({ room: 'lab', from: { id: 'ann', name: 'Ann' }, text })}\n`);
      await wait(() => (lines.filter((l) => 'posted' in l).length > n ? true : undefined), `posted "${text}"`);
    },
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.stdin!.end();
      await exited;
    },
    async kill() {
      child.kill('SIGKILL');
      if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
    },
  };
}

const userText = (req: { input: Array<Record<string, unknown>> }) => JSON.stringify(req.input.filter((i) => i.role === 'user').at(-1) ?? {});
const SESSION = 'lab/chat/main';

async function storeOf(b: Sandbox): Promise<DatasetStore> {
  return DatasetStore.open(path.join(b.root, 'threads.db'));
}

/** Polls the database (as the dead host will have left it) until an inbox entry carries `turnId`. */
async function takenBy(b: Sandbox, turnId: string): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    const s = await storeOf(b);
    const pending = await s.pending();
    await s.close();
    if (pending.some((e) => e.turnId === turnId)) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

describe('#11 kill -9 of the host mid-turn', () => {
  it('Codex had the message: the turn is recorded failed, reported, and not run again', async () => {
    box = await makeSandbox((req) => {
      const t = userText(req);
      if (t.includes('slow one')) return { ...say('never sent'), stallMs: 120_000 };
      if (t.includes('after')) return say('after answered');
      return say('first answered');
    });
    const b = box;
    const h1 = await host(b);
    await h1.post('first');
    await h1.until('turn.completed');
    await h1.post('the slow one');
    const started = await h1.until('turn.started', (e) => e.turnId !== h1.events.find((x) => x.type === 'turn.started')!.turnId);
    // The inbox entry carries the turn id before the kill (that is how the restart knows).
    expect(await takenBy(b, started.turnId)).toBe(true);
    await h1.kill();
    const seenBefore = b.model.requests.length;

    const h2 = await host(b);
    const failed = await h2.until('turn.failed');
    expect(failed).toMatchObject({ session: SESSION, turnId: started.turnId, threadId: started.threadId, error: expect.stringMatching(/^interrupted by a host restart/) });
    const notice = await h2.until('notice', (e) => e.text.includes('interrupted by a host restart'));
    expect(notice.text).toContain('Not run again: "the slow one"');
    // Nothing was run again: after the restart the model never gets "the slow one" as the new message.
    await h2.post('after');
    await h2.until('turn.completed');
    const afterRestart = b.model.requests.slice(seenBefore).map(userText);
    expect(afterRestart.some((t) => t.includes('"after"'))).toBe(true);
    expect(afterRestart.filter((t) => t.includes('slow one'))).toEqual([]);
    await h2.stop();

    const s = await storeOf(b);
    try {
      expect(await s.pending()).toEqual([]);
      const turns = (await s.history(SESSION)).filter((r) => r.kind === 'turn');
      expect(turns.map((r) => [r.kind === 'turn' && r.turnId, r.kind === 'turn' && r.status])).toEqual([
        [h1.events.find((e) => e.type === 'turn.completed')!.turnId, 'completed'],
        [started.turnId, 'failed'],
        [expect.any(String), 'completed'],
      ]);
    } finally {
      await s.close();
    }
  }, 120_000);

  it('Codex never took the message (no turn id recorded): the turn is recorded failed and the message runs again', async () => {
    box = await makeSandbox((req) => (userText(req).includes('again') ? say('again answered') : say('first answered')));
    const b = box;
    const h1 = await host(b);
    await h1.post('first');
    await h1.until('turn.completed');
    // Freeze the app-server: turn/start gets no answer, so no turn id exists when the host dies.
    // A listed helper may exit between the listing and the signal (ESRCH): signal the ones still there.
    const signal = (pids: number[], sig: NodeJS.Signals) => pids.filter((pid) => {
      try {
        process.kill(pid, sig);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
        return false;
      }
    });
    const codex = signal(processesWithEnv(`CODEX_HOME=${b.codexHome}`).filter((pid) => pid !== h1.child.pid), 'SIGSTOP');
    expect(codex.length).toBeGreaterThan(0);
    await h1.post('ask again');
    await h1.kill();
    signal(codex, 'SIGKILL');
    expect(await waitFor(() => codex.every((p) => !isAlive(p)), 10_000)).toBe(true);
    expect(h1.events.filter((e) => e.type === 'turn.started')).toHaveLength(1);

    const h2 = await host(b);
    const failed = await h2.until('turn.failed');
    expect(failed.turnId).toBeUndefined();
    expect(failed).toMatchObject({ session: SESSION, error: expect.stringMatching(/^interrupted by a host restart before Codex took the message; it runs again/) });
    expect((await h2.until('notice', (e) => e.text.startsWith('The host restarted'))).text).toBe('The host restarted before Codex took "ask again"; running it again.');
    expect((await h2.until('message.completed')).text).toBe('again answered');
    await h2.until('turn.completed');
    await h2.stop();

    const s = await storeOf(b);
    try {
      expect(await s.pending()).toEqual([]);
      const turns = (await s.history(SESSION)).filter((r) => r.kind === 'turn').map((r) => (r.kind === 'turn' ? r.status : ''));
      expect(turns).toEqual(['completed', 'failed', 'completed']);
    } finally {
      await s.close();
    }
  }, 120_000);
});
