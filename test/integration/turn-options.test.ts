// Issue 15 #10, #11 against the real app-server and the scripted model: `/effort` reaches the
// model as the turn's reasoning effort and outlives a restart; every `turn/start` and
// `turn/steer` carries the inbox id as `clientUserMessageId`; `/budget` refuses new turns once
// the conversation's tokens are spent, until its owner raises it.
import path from 'node:path';
import { firstValueFrom, filter } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createSupervisor, type Supervisor } from '../../src/supervisor/supervisor.js';
import type { RoomEvent } from '../../src/events/room-events.js';
import { processRegistry } from '../../src/process/registry.js';
import { say, type Script } from '../support/mock-model.js';
import { makeSandbox, type Sandbox } from '../support/sandbox.js';
import { memoryLogger } from '../support/log.js';
import { messagesCodexTook } from '../../src/supervisor/message-replay.js';

const boxes: Sandbox[] = [];
const running: Supervisor[] = [];
afterEach(async () => {
  for (const sb of running.splice(0)) await sb.stop();
  for (const box of boxes.splice(0)) {
    await box.assertNoProcesses();
    await box.close();
  }
  expect(processRegistry.list()).toEqual([]);
});

/** A supervisor on `box` (a second one on the same box is the same host after a restart). */
async function supervisorOn(box: Sandbox) {
  const { log } = memoryLogger('info');
  const sb = createSupervisor(
    {
      appServer: { env: box.env },
      agents: { defaults: { cwd: box.workspace } },
      sessions: { bindingsDir: path.join(box.root, 'bindings'), idleWatchdogSeconds: 60 },
      storage: { kind: 'dataset', path: path.join(box.root, 'threads.db') },
    } as never,
    { log, baseDir: box.root, stateDir: path.join(box.root, 'state') },
  );
  running.push(sb);
  const events: RoomEvent[] = [];
  sb.events$.subscribe((e) => events.push(e));
  await sb.start();
  return { sb, events };
}
async function world(script: Script) {
  const box = await makeSandbox(script);
  boxes.push(box);
  return { box, ...(await supervisorOn(box)) };
}

type Ev<T extends RoomEvent['type']> = Extract<RoomEvent, { type: T }>;
const turnEnd = (sb: Supervisor) =>
  firstValueFrom(sb.events$.pipe(filter((e) => e.type === 'turn.completed' || e.type === 'turn.failed' || e.type === 'turn.interrupted')));
const notice = (sb: Supervisor, pattern: RegExp) =>
  firstValueFrom(sb.events$.pipe(filter((e): e is Ev<'notice'> => e.type === 'notice' && pattern.test(e.text))));
const as = (id: string, role?: 'owner' | 'member') => ({ id, name: id, ...(role ? { role } : {}) });
/** Post and wait for the reply notice matching `pattern`. */
async function command(sb: Supervisor, text: string, pattern: RegExp, from = as('ann')) {
  const reply = notice(sb, pattern);
  await sb.post({ room: 'lab', from, text });
  return (await reply).text;
}
async function turn(sb: Supervisor, text: string, from = as('ann')) {
  const end = turnEnd(sb);
  await sb.post({ room: 'lab', from, text });
  return end;
}
const effortOf = (box: Sandbox, i: number) => (box.model.requests[i] as { reasoning?: { effort?: string } } | undefined)?.reasoning?.effort;

describe('/effort', () => {
  it('sends the chosen effort on turn/start, shows it in /status, refuses a bad value and outlives a restart', async () => {
    const { box, sb } = await world([say('one'), say('two'), say('three')]);
    expect((await turn(sb, 'hello')).type).toBe('turn.completed');
    expect(effortOf(box, 0)).not.toBe('high');
    expect(await command(sb, '/effort extreme', /reasoning effort/i)).toBe('Unknown reasoning effort "extreme": choose low, medium, high or default.');
    expect(await command(sb, '/effort high', /reasoning effort/i)).toBe('Reasoning effort set to high from the next turn.');
    expect(await command(sb, '/status', /^Harness/)).toMatch(/effort high/);
    expect((await turn(sb, 'think hard')).type).toBe('turn.completed');
    expect(effortOf(box, 1)).toBe('high');

    // A restart: the choice is read back from the state directory.
    await sb.stop();
    const again = await supervisorOn(box);
    expect(await command(again.sb, '/status', /^Harness/)).toMatch(/effort high/);
    expect((await turn(again.sb, 'still hard')).type).toBe('turn.completed');
    expect(effortOf(box, 2)).toBe('high');
  });
});

describe('clientUserMessageId', () => {
  it('is the posted message id, on turn/start and on turn/steer', async () => {
    const { sb, events, box } = await world([{ text: 'Working on it.', stallMs: 1_500 }, say('Both done.')]);
    const end = turnEnd(sb);
    await sb.post({ room: 'lab', from: as('ann'), text: 'Start the job' });
    for (const stop = Date.now() + 10_000; box.model.requests.length === 0 && Date.now() < stop; ) await new Promise((r) => setTimeout(r, 20));
    await sb.post({ room: 'lab', from: as('ann'), text: 'Also add tests' });
    expect((await end).type).toBe('turn.completed');
    const posted = events.filter((e): e is Ev<'message.posted'> => e.type === 'message.posted').map((e) => e.messageId);
    expect(posted).toHaveLength(2);
    const threadId = sb.codex.threadOfSession('lab/chat/main')!;
    // What the replay check after a crash reads: both ids, on the turn that took them.
    const took = await messagesCodexTook(sb.codex.clientFor('default'), threadId);
    expect([...took.keys()]).toEqual(posted);
    expect(new Set(took.values()).size).toBe(1);
  });
});

describe('/budget', () => {
  it('refuses new turns once the tokens are spent, until the owner raises it; persisted, shown in /status and /usage', async () => {
    const step = (text: string) => ({ ...say(text), usage: { input: 100, output: 50 } });
    const { box, sb } = await world([step('one'), step('two'), step('three')]);
    // Ann's first message makes her the conversation's owner.
    expect((await turn(sb, 'hello')).type).toBe('turn.completed');
    expect(await command(sb, '/budget 1m', /budget/i, as('bob', 'member'))).toMatch(/only the conversation's owner \(ann\) or a room owner/);
    expect(await command(sb, '/budget lots', /token amount/)).toMatch(/"lots" is not a token amount/);
    expect(await command(sb, '/budget 0.2k', /Token budget set/)).toBe('Token budget set to 200 (0 spent so far).');
    expect((await turn(sb, 'second')).type).toBe('turn.completed');
    const spent = notice(sb, /token budget is spent/);
    expect((await turn(sb, 'third')).type).toBe('turn.completed');
    expect((await spent).text).toMatch(/300 of 200 tokens/);
    expect(await command(sb, '/usage', /^Token usage/)).toMatch(/Token budget: 300 of 200 used · spent/);

    const requests = box.model.requests.length;
    expect(await command(sb, 'one more?', /^Not run: this conversation's token budget is spent/)).toMatch(/\/budget 500k/);
    expect(box.model.requests.length).toBe(requests);
    // A fork goes on under the same (spent) budget: no way around the cap.
    const fork = /Forked into chat\/(fork-\w+)/.exec(await command(sb, '/fork', /^Forked into/))![1]!;
    const refused = notice(sb, /^Not run: this conversation's token budget is spent/);
    await sb.post({ room: 'lab', thread: fork, from: as('ann'), text: 'in the fork then?' });
    expect((await refused).session).toBe(`lab/chat/${fork}`);
    expect(box.model.requests.length).toBe(requests);

    // Persisted: a restarted host still refuses; the owner raises the budget and turns run again.
    await sb.stop();
    const again = await supervisorOn(box);
    expect(await command(again.sb, '/status', /^Harness/)).toMatch(/Token budget: 300 of 200 used/);
    await command(again.sb, 'still?', /^Not run/);
    expect(await command(again.sb, '/budget 1k', /Token budget set/)).toBe('Token budget set to 1k (300 spent so far).');
    expect((await turn(again.sb, 'go on')).type).toBe('turn.completed');
    expect(box.model.requests.length).toBe(requests + 1);
    expect(await command(again.sb, '/budget off', /budget/i)).toBe('Token budget removed: turns run without a cap.');
    expect(await command(again.sb, '/budget', /budget/i)).toMatch(/^No token budget/);
  });
});
