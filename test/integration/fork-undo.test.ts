// Issue 15 #7, #8 against the real app-server and the scripted model: `llm_input` carries the
// thread id, turn id and model (a turn's input and a steered one); `/fork` branches a
// conversation into a new room thread with the earlier context; `/undo` makes Codex forget
// the last turn.
import path from 'node:path';
import { firstValueFrom, filter } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createSupervisor, type Supervisor } from '../../src/supervisor/supervisor.js';
import type { RoomEvent } from '../../src/events/room-events.js';
import type { HookPayloads } from '../../src/hooks/hooks.js';
import { say, type Script } from '../support/mock-model.js';
import { makeSandbox, type Sandbox } from '../support/sandbox.js';
import { memoryLogger } from '../support/log.js';
import { stopAfterTest, stopSandboxSupervisors } from '../support/sandbox-supervisor.js';

afterEach(stopSandboxSupervisors);

async function world(script: Script, agentDefaults: Record<string, unknown> = {}) {
  const box = await makeSandbox(script);
  const { log } = memoryLogger('info');
  const config = {
    appServer: { env: box.env },
    agents: { defaults: { cwd: box.workspace, ...agentDefaults }, list: [] },
    sessions: { bindingsDir: path.join(box.root, 'bindings'), idleWatchdogSeconds: 60 },
    storage: { kind: 'dataset', path: path.join(box.root, 'threads.db') },
  };
  const sb = createSupervisor(config as never, { log, baseDir: box.root, stateDir: box.root });
  stopAfterTest(sb, box);
  const events: RoomEvent[] = [];
  sb.events$.subscribe((e) => events.push(e));
  await sb.start();
  return { sb, box, events };
}

type Ev<T extends RoomEvent['type']> = Extract<RoomEvent, { type: T }>;
const next = <T extends RoomEvent['type']>(sb: Supervisor, type: T, session?: string) =>
  firstValueFrom(sb.events$.pipe(filter((e): e is Ev<T> => e.type === type && (session === undefined || e.session === session))));
const turnEnd = (sb: Supervisor, session?: string) =>
  firstValueFrom(
    sb.events$.pipe(filter((e) => (e.type === 'turn.completed' || e.type === 'turn.failed' || e.type === 'turn.interrupted') && (session === undefined || e.session === session))),
  );
const notice = (sb: Supervisor, session: string, pattern: RegExp) =>
  firstValueFrom(sb.events$.pipe(filter((e): e is Ev<'notice'> => e.type === 'notice' && e.session === session && pattern.test(e.text))));
const textOf = (box: Sandbox, i: number) => JSON.stringify(box.model.requests[i]?.input ?? []);
const until = async (check: () => boolean, ms = 10_000) => {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
};

describe('llm_input carries the thread, the turn and the model', () => {
  it('for the first message of a conversation and for a message steered into its turn', async () => {
    const { sb, box } = await world([{ text: 'Working on it.', stallMs: 1_500 }, say('Also done.')], { model: 'gpt-5.5' });
    const inputs: Array<HookPayloads['llm_input']> = [];
    sb.hooks.on('llm_input', (p) => void inputs.push({ ...p }));
    const started = next(sb, 'turn.started');
    const done = turnEnd(sb);
    await sb.post({ room: 'lab', from: { id: 'ann' }, text: 'Start the job' });
    const turn = await started;
    expect(await until(() => box.model.requests.length === 1)).toBe(true);
    await sb.post({ room: 'lab', from: { id: 'ann' }, text: 'Also add tests' });
    expect((await done).type).toBe('turn.completed');
    expect(inputs).toHaveLength(2);
    expect(inputs[0]).toMatchObject({ session: 'lab/chat/main', threadId: turn.threadId, turnId: turn.turnId, model: 'gpt-5.5', steered: false });
    expect(JSON.stringify(inputs[0]!.input)).toContain('Start the job');
    expect(inputs[1]).toMatchObject({ session: 'lab/chat/main', threadId: turn.threadId, turnId: turn.turnId, model: 'gpt-5.5', steered: true });
    expect(JSON.stringify(inputs[1]!.input)).toContain('Also add tests');
    // The model the hook names is the one the model server was asked for.
    expect(box.model.requests[0]?.model).toBe('gpt-5.5');
  });

  it('without a configured model: the model Codex runs the thread on', async () => {
    const { sb, box } = await world([say('ok')]);
    const inputs: Array<HookPayloads['llm_input']> = [];
    sb.hooks.on('llm_input', (p) => void inputs.push({ ...p }));
    const done = turnEnd(sb);
    await sb.post({ room: 'lab', from: { id: 'ann' }, text: 'hi' });
    expect((await done).type).toBe('turn.completed');
    expect(inputs).toHaveLength(1);
    expect(inputs[0]!.model).toBeTruthy();
    expect(inputs[0]!.model).toBe(box.model.requests[0]?.model);
  });
});

describe('/fork and /undo', () => {
  it('/fork: a new room thread whose next model request carries the earlier context; the source goes on unchanged', async () => {
    const { sb, box } = await world([say('Noted: PELICAN.'), say('It was PELICAN.'), say('Back in main.')]);
    let done = turnEnd(sb);
    await sb.post({ room: 'lab', from: { id: 'ann' }, text: 'Remember the word PELICAN' });
    expect((await done).type).toBe('turn.completed');
    const told = notice(sb, 'lab/chat/main', /^Forked into chat\/fork-/);
    await sb.post({ room: 'lab', from: { id: 'ann' }, text: '/fork' });
    const { text } = await told;
    const thread = /chat\/(fork-[0-9A-Za-z]+)/.exec(text)![1]!;
    const fork = `lab/chat/${thread}`;
    const forkHistory = await sb.history('lab');
    expect(forkHistory.some((r) => r.session === fork && r.kind === 'notice' && /^Forked from chat\/main/.test((r as { text: string }).text))).toBe(true);
    // Only the owner may fork.
    const refused = notice(sb, 'lab/chat/main', /^\/fork was not run/);
    await sb.post({ room: 'lab', from: { id: 'bob' }, text: '/fork' });
    await refused;

    done = turnEnd(sb, fork);
    const started = next(sb, 'turn.started', fork);
    await sb.post({ room: 'lab', thread, from: { id: 'ann' }, text: 'What was the word?' });
    const forkTurn = await started;
    expect((await done).type).toBe('turn.completed');
    expect(textOf(box, 1)).toContain('Remember the word PELICAN');
    expect(textOf(box, 1)).toContain('Noted: PELICAN.');
    expect(textOf(box, 1)).toContain('What was the word?');
    const mainThread = sb.codex.threadOfSession('lab/chat/main');
    expect(forkTurn.threadId).not.toBe(mainThread);

    // The source conversation does not see what happened in the fork.
    done = turnEnd(sb, 'lab/chat/main');
    await sb.post({ room: 'lab', from: { id: 'ann' }, text: 'Still here?' });
    expect((await done).type).toBe('turn.completed');
    expect(textOf(box, 2)).toContain('Noted: PELICAN.');
    expect(textOf(box, 2)).not.toContain('What was the word?');
  });

  it('/undo: the next model request lacks the undone turn, and the notice says files are not reverted', async () => {
    const { sb, box } = await world([say('Noted: PELICAN.'), say('Noted: FALCON.'), say('PELICAN only.')]);
    for (const text of ['Remember the word PELICAN', 'Remember the word FALCON']) {
      const done = turnEnd(sb);
      await sb.post({ room: 'lab', from: { id: 'ann' }, text });
      expect((await done).type).toBe('turn.completed');
    }
    const told = notice(sb, 'lab/chat/main', /^(Undid|\/undo)/);
    await sb.post({ room: 'lab', from: { id: 'ann' }, text: '/undo' });
    const n = await told;
    expect(n.text).toMatch(/^Undid the last turn \(.+\) of Codex thread .+: the next message continues without it\. Files it changed are NOT reverted/);
    const done = turnEnd(sb);
    await sb.post({ room: 'lab', from: { id: 'ann' }, text: 'Which words?' });
    expect((await done).type).toBe('turn.completed');
    expect(textOf(box, 2)).toContain('Remember the word PELICAN');
    expect(textOf(box, 2)).toContain('Noted: PELICAN.');
    expect(textOf(box, 2)).not.toContain('FALCON');
    expect(textOf(box, 2)).toContain('Which words?');
  });

  it('/undo and /fork are refused while a turn runs', async () => {
    const { sb, box } = await world([{ text: 'Slow.', stallMs: 1_500 }]);
    const done = turnEnd(sb);
    await sb.post({ room: 'lab', from: { id: 'ann' }, text: 'Take your time' });
    expect(await until(() => box.model.requests.length === 1)).toBe(true);
    const undo = notice(sb, 'lab/chat/main', /^\/undo:/);
    await sb.post({ room: 'lab', from: { id: 'ann' }, text: '/undo' });
    expect((await undo).text).toMatch(/a turn is running/);
    const fork = notice(sb, 'lab/chat/main', /^\/fork:/);
    await sb.post({ room: 'lab', from: { id: 'ann' }, text: '/fork' });
    expect((await fork).text).toMatch(/a turn is running/);
    expect((await done).type).toBe('turn.completed');
  });
});
