// The `llm` harness end to end: the supervisor runs turns against the scripted Responses-API
// model through the official `openai` client, with the room thread's stored history as input;
// `/model` moves a conversation between Codex (the real app-server) and the llm backend.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSupervisor, type Supervisor } from '../../src/supervisor/supervisor.js';
import type { RoomEvent } from '../../src/events/room-events.js';
import { processRegistry } from '../../src/process/registry.js';
import { DatasetStore } from '../../src/storage/dataset.js';
import { say, type ResponsesRequest, type Script, type Step } from '../support/mock-model.js';
import { makeSandbox, type Sandbox } from '../support/sandbox.js';
import { memoryLogger } from '../support/log.js';
import { noticeTexts, turnEnded, type Ev } from '../support/sandbox-supervisor.js';

const open: Array<{ sb: Supervisor; box: Sandbox | undefined }> = [];
afterEach(async () => {
  for (const { sb } of [...open].reverse()) await sb.stop();
  for (const { box } of open.splice(0)) {
    if (!box) continue; // a restarted host's world closes with its first host
    await box.assertNoProcesses();
    await box.close();
  }
  expect(processRegistry.list()).toEqual([]);
});

/** The llm backend sends plain-string contents; Codex sends content arrays. */
const fromLlm = (req: ResponsesRequest) => req.store === false && req.input.every((i) => typeof i.content === 'string');
const llmRequests = (box: Sandbox) => box.model.requests.filter(fromLlm);

/** A host in a new world, or (`again`) a restarted host in the same one (same state directory and storage). */
async function world(script: Script, config: Record<string, unknown> = {}, again?: Sandbox) {
  const box = again ?? (await makeSandbox(script));
  const { log, lines } = memoryLogger('info');
  const sb = createSupervisor(
    {
      appServer: { env: box.env, ...((config.appServer as object) ?? {}) },
      agents: { defaults: { cwd: box.workspace, ...((config.defaults as object) ?? {}) } },
      sessions: { bindingsDir: path.join(box.root, 'bindings'), idleWatchdogSeconds: 60, ...((config.sessions as object) ?? {}) },
      storage: { kind: 'dataset', path: path.join(box.root, 'threads.db') },
      llm: { baseUrl: `${box.model.url}/v1`, maxRetries: 0, ...((config.llm as object) ?? {}) },
    } as never,
    // No real key: a test must never reach a real endpoint (and the key must never be logged).
    { log, baseDir: box.root, stateDir: path.join(box.root, 'state'), env: { OPENAI_API_KEY: 'sk-test-secret-key' } },
  );
  open.push({ sb, box: again ? undefined : box });
  const events: RoomEvent[] = [];
  sb.events$.subscribe((e) => events.push(e));
  await sb.start();
  return { sb, box, events, lines };
}

const post = (sb: Supervisor, text: string) => sb.post({ room: 'lab', from: { id: 'ann', name: 'Ann' }, text });
const of = <T extends RoomEvent['type']>(events: RoomEvent[], type: T) => events.filter((e): e is Ev<T> => e.type === type);
const LLM = { defaults: { embeddedHarness: { runtime: 'llm', fallback: 'none' } } };

describe('llm harness', () => {
  it('streams a turn into the room and stores it; the next turn sends that history', async () => {
    const { sb, box, events, lines } = await world([say('Hello from the llm', 4), say('Second answer')], LLM);
    let done = turnEnded(sb);
    await post(sb, 'Say hello');
    const end = await done;
    expect(end).toMatchObject({ type: 'turn.completed', usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 } });
    expect(of(events, 'message.delta').map((e) => e.delta).join('')).toBe('Hello from the llm');
    expect(of(events, 'message.delta').length).toBe(4);
    expect(of(events, 'turn.started')[0]).toMatchObject({ model: 'gpt-5.5', threadId: 'llm:lab/chat/main' });
    expect(of(events, 'message.completed')[0]).toMatchObject({ text: 'Hello from the llm' });
    expect(box.model.requests[0]).toMatchObject({ model: 'gpt-5.5', stream: true, input: [{ role: 'user', content: 'Say hello' }] });
    expect(sb.status().sessions).toEqual([expect.objectContaining({ harness: 'llm', reason: 'forced by config (runtime: llm)' })]);
    await post(sb, '/status');
    expect(noticeTexts(events).find((t) => t.startsWith('Harness: llm'))).toMatch(/^Harness: llm \(forced by config \(runtime: llm\)\)\nAgent: default · model gpt-5\.5[ \n]/);

    done = turnEnded(sb);
    await post(sb, 'And again');
    expect((await done).type).toBe('turn.completed');
    expect(llmRequests(box)[1]!.input).toEqual([
      { role: 'user', content: 'Say hello' },
      { role: 'assistant', content: 'Hello from the llm' },
      { role: 'user', content: 'And again' },
    ]);
    await sb.flush();
    const texts = (await sb.history('lab')).filter((r) => r.kind === 'message').map((r) => [r.role, r.text]);
    expect(texts).toEqual([
      ['user', 'Say hello'],
      ['assistant', 'Hello from the llm'],
      ['user', 'And again'],
      ['assistant', 'Second answer'],
    ]);
    // The key is read from the environment and never logged.
    expect(lines().join('\n')).not.toContain('sk-test-secret-key');
    expect(JSON.stringify(sb.status())).not.toContain('sk-test-secret-key');
  });

  it.each([
    [500, /HTTP 500 \(server error\)/],
    [429, /HTTP 429 \(rate limit or quota exceeded\)/],
  ])('HTTP %i from the model fails the turn with a notice', async (status, why) => {
    const { sb, events } = await world([{ httpStatus: status }], LLM);
    const done = turnEnded(sb);
    await post(sb, 'hi');
    const end = await done;
    expect(end.type).toBe('turn.failed');
    expect((end as Ev<'turn.failed'>).error).toMatch(why);
    expect(noticeTexts(events).some((t) => t.startsWith('The llm backend could not answer: ') && why.test(t))).toBe(true);
    await sb.flush();
    expect((await sb.history('lab')).some((r) => r.kind === 'turn' && r.status === 'failed')).toBe(true);
  });

  it('a 429 is retried by the client when retries are allowed', async () => {
    const steps: Step[] = [{ httpStatus: 429, body: JSON.stringify({ error: { message: 'slow down' } }) }, say('after the retry')];
    const { sb, box } = await world(steps, { ...LLM, llm: { maxRetries: 1 } });
    const done = turnEnded(sb);
    await post(sb, 'hi');
    expect((await done).type).toBe('turn.completed');
    expect(box.model.requests).toHaveLength(2);
  });

  it('/stop aborts the stream; the partial answer is stored as partial', async () => {
    const { sb, box, events } = await world([{ text: 'one two three four five six seven eight', chunks: 8, everyMs: 150 }], LLM);
    const done = turnEnded(sb);
    await post(sb, 'count slowly');
    await expect.poll(() => box.model.deltasSent, { timeout: 5000 }).toBeGreaterThanOrEqual(2);
    await post(sb, '/stop');
    const end = await done;
    expect(end).toMatchObject({ type: 'turn.interrupted', reason: 'stopped' });
    const partial = of(events, 'message.completed')[0]!;
    expect(partial.partial).toBe(true);
    expect('one two three four five six seven eight'.startsWith(partial.text)).toBe(true);
    expect(partial.text.length).toBeLessThan('one two three four five six seven eight'.length);
    await sb.flush();
    expect((await sb.history('lab')).find((r) => r.kind === 'message' && r.role === 'assistant')).toMatchObject({ partial: true, text: partial.text });
  });

  it.each(['codex', 'auto'])('runtime %s with fallback llm: Codex cannot start, the llm backend answers and the selection says why', async (runtime) => {
    const { sb, box, lines } = await world([say('answered by llm')], {
      appServer: { command: '/nonexistent/codex' },
      defaults: { model: 'gpt-5.5', embeddedHarness: { runtime, fallback: 'llm' } },
    });
    const done = turnEnded(sb);
    await post(sb, 'anyone there?');
    expect((await done).type).toBe('turn.completed');
    expect(llmRequests(box)).toHaveLength(1);
    const [selected] = sb.status().sessions;
    expect(selected).toMatchObject({ harness: 'llm', reason: expect.stringMatching(/^fallback "llm": .*Codex binary not found/) });
    expect(lines().some((l) => l.includes('"msg":"agent harness selected"') && l.includes('"harness":"llm"'))).toBe(true);
  });

  it('an unknown fallback or runtime id is a clear error', () => {
    expect(() => createSupervisor({ agents: { defaults: { embeddedHarness: { runtime: 'codex', fallback: 'pi' } } } } as never)).toThrow(
      'agents.defaults.embeddedHarness.fallback "pi" is not a harness: write none, codex or llm (SWITCHBOARD_FALLBACK sets the default)',
    );
    expect(() => createSupervisor({ agents: { defaults: { embeddedHarness: { runtime: 'pi' } } } } as never)).toThrow(/runtime "pi" is not a harness: write auto, codex or llm/);
  });

  it('/model moves one conversation from Codex to the llm backend and back, on the same history', async () => {
    const script: Script = (req) => (fromLlm(req) ? say('from llm') : say('from codex'));
    const { sb, box, events } = await world(script, {
      llm: { enabled: true },
      defaults: { models: ['codex/gpt-5.5', 'gpt-5.5'], embeddedHarness: { runtime: 'auto', fallback: 'none' } },
    });
    let done = turnEnded(sb);
    await post(sb, 'first question');
    expect((await done).type).toBe('turn.completed');
    expect(sb.status().sessions[0]).toMatchObject({ harness: 'codex' });

    await post(sb, '/model gpt-5.5');
    expect(noticeTexts(events)).toEqual(expect.arrayContaining(['This conversation now runs on the llm backend, with this room thread\'s history.']));
    expect(noticeTexts(events).some((t) => t.startsWith('Model set to gpt-5.5 (llm backend)'))).toBe(true);
    done = turnEnded(sb);
    await post(sb, 'second question');
    expect((await done).type).toBe('turn.completed');
    expect(llmRequests(box)).toHaveLength(1);
    expect(llmRequests(box)[0]!.input).toEqual([
      { role: 'user', content: 'first question' },
      { role: 'assistant', content: 'from codex' },
      { role: 'user', content: 'second question' },
    ]);

    await post(sb, '/models');
    expect(noticeTexts(events).find((t) => t.startsWith('Models (this conversation runs on llm)'))).toMatch(/- gpt-5\.5 \(llm\) \[current\][\s\S]*- codex\/gpt-5\.5 \(codex\)/);
    // The room's picker (and `switchboard models`) list both, as `/model` takes them.
    expect((await sb.models()).models).toEqual([
      { model: 'gpt-5.5', isDefault: false },
      { model: 'codex/gpt-5.5', isDefault: true },
    ]);

    // Back to Codex: its thread is given what the llm backend answered meanwhile.
    await post(sb, '/model codex/gpt-5.5');
    done = turnEnded(sb);
    await post(sb, 'third question');
    expect((await done).type).toBe('turn.completed');
    const codexText = JSON.stringify(box.model.requests.filter((r) => !fromLlm(r)).at(-1)!.input);
    expect(codexText).toContain('second question');
    expect(codexText).toContain('from llm');
    expect(sb.status().sessions[0]).toMatchObject({ harness: 'codex', reason: '/model codex/gpt-5.5' });
  });

  it('a conversation begun on the llm backend moves to Codex with what was said (a thread is started for it)', async () => {
    const script: Script = (req) => (fromLlm(req) ? say('llm answer') : say('codex answer'));
    const { sb, box, events } = await world(script, {
      llm: { enabled: true },
      defaults: { models: ['gpt-5.5', 'codex/gpt-5.5'], embeddedHarness: { runtime: 'auto', fallback: 'none' } },
    });
    let done = turnEnded(sb);
    await post(sb, 'remember the word pelican');
    expect((await done).type).toBe('turn.completed');
    expect(sb.status().sessions[0]).toMatchObject({ harness: 'llm', reason: expect.stringMatching(/^auto: "llm" supports model "gpt-5.5"/) });
    await post(sb, '/model codex/gpt-5.5');
    expect(noticeTexts(events).some((t) => t.startsWith('Model set to gpt-5.5'))).toBe(true);
    done = turnEnded(sb);
    await post(sb, 'which word?');
    expect((await done).type).toBe('turn.completed');
    expect(of(events, 'message.completed').map((e) => e.text)).toEqual(['llm answer', 'codex answer']);
    // What Codex sends its model: the injected conversation, then the new message (no `/model` command).
    const said = box.model.requests.filter((r) => !fromLlm(r)).at(-1)!.input.flatMap((item) =>
      item.type === 'message' && (item.role === 'user' || item.role === 'assistant') ? (item.content as Array<{ text: string }>).map((c) => `${item.role as string}: ${c.text}`) : [],
    );
    expect(said.filter((t) => !t.startsWith('user: <'))).toEqual(['user: remember the word pelican', 'assistant: llm answer', 'user: which word?']);
  });

  it('/model to a model neither backend lists is refused; the conversation stays where it is', async () => {
    const { sb, events } = await world([say('ok')], {
      llm: { enabled: true },
      defaults: { models: ['gpt-5.5', 'codex/gpt-5.5'], embeddedHarness: { runtime: 'auto', fallback: 'none' } },
    });
    await post(sb, '/model codex/gpt-9');
    expect(noticeTexts(events)).toContain('Unknown model "codex/gpt-9". Available on Codex: codex/gpt-5.5.');
    await post(sb, '/model gpt-9');
    expect(noticeTexts(events)).toContain('Unknown model "gpt-9". Available on the llm backend: gpt-5.5.');
    expect(sb.status().sessions[0]).toMatchObject({ harness: 'llm' });
  });

  it('/new: the next llm turn starts without the earlier messages', async () => {
    const { sb, box, events } = await world([say('first'), say('fresh')], LLM);
    let done = turnEnded(sb);
    await post(sb, 'before');
    await done;
    await post(sb, '/new');
    expect(noticeTexts(events)).toContain('A fresh conversation starts with the next message: earlier messages are no longer sent to the model.');
    done = turnEnded(sb);
    await post(sb, 'after');
    expect((await done).type).toBe('turn.completed');
    expect(llmRequests(box)[1]!.input).toEqual([{ role: 'user', content: 'after' }]);
  });

  it('an endpoint that cannot be reached fails the turn, naming it', async () => {
    const { sb, events } = await world([], { ...LLM, llm: { baseUrl: 'http://127.0.0.1:9/v1' } });
    const done = turnEnded(sb);
    await post(sb, 'hello?');
    const end = await done;
    expect(end.type).toBe('turn.failed');
    expect(noticeTexts(events).find((t) => t.startsWith('The llm backend could not answer'))).toMatch(/cannot reach the model endpoint http:\/\/127\.0\.0\.1:9\/v1/);
  });

  it('a restart keeps the conversation on its backend with its /model choice', async () => {
    const config = { llm: { enabled: true }, defaults: { models: ['gpt-5.5', 'llm/gpt-5.4', 'codex/gpt-5.5'], embeddedHarness: { runtime: 'auto', fallback: 'none' } } };
    const first = await world([say('one'), say('two')], config);
    await post(first.sb, '/model gpt-5.4');
    expect(noticeTexts(first.events).some((t) => t.startsWith('Model set to llm/gpt-5.4 (llm backend)'))).toBe(true);
    await first.sb.stop();
    const again = await world([], config, first.box);
    const done = turnEnded(again.sb);
    await post(again.sb, 'still there?');
    expect((await done).type).toBe('turn.completed');
    expect(llmRequests(first.box).at(-1)).toMatchObject({ model: 'gpt-5.4' });
    expect(of(again.events, 'turn.started')[0]).toMatchObject({ model: 'llm/gpt-5.4' });
  });

  it('/model to the other backend waits for the running turn', async () => {
    const { sb, box, events } = await world([{ text: 'a slow answer in many parts', chunks: 6, everyMs: 200 }], {
      llm: { enabled: true },
      defaults: { models: ['gpt-5.5', 'codex/gpt-5.5'], embeddedHarness: { runtime: 'auto', fallback: 'none' } },
    });
    const done = turnEnded(sb);
    await post(sb, 'take your time');
    await expect.poll(() => box.model.deltasSent, { timeout: 5000 }).toBeGreaterThanOrEqual(1);
    await post(sb, '/model codex/gpt-5.5');
    expect(noticeTexts(events)).toContain('A turn is running or queued on the llm backend: wait for it to end (or /stop it), then switch.');
    expect((await done).type).toBe('turn.completed');
    expect(sb.status().sessions[0]).toMatchObject({ harness: 'llm' });
  });

  it('/budget caps llm turns too: their tokens count, and once spent the next message is refused without a model call', async () => {
    const { sb, box, events } = await world([say('One'), say('Two')], LLM);
    await post(sb, '/budget 20');
    expect(noticeTexts(events).at(-1)).toBe('Token budget set to 20 (0 spent so far).');
    let done = turnEnded(sb);
    await post(sb, 'first');
    expect((await done).type).toBe('turn.completed'); // 15 tokens: under the cap
    done = turnEnded(sb);
    await post(sb, 'second');
    expect((await done).type).toBe('turn.completed'); // 30 of 20: spent
    await expect.poll(() => noticeTexts(events).some((t) => /token budget is spent/.test(t))).toBe(true);
    const calls = llmRequests(box).length;
    await post(sb, 'third');
    await expect.poll(() => noticeTexts(events).at(-1)).toMatch(/^Not run: this conversation's token budget is spent \(30 of 20 tokens\)/);
    expect(llmRequests(box).length).toBe(calls);
  });

  it('steer mode: a message posted during an llm turn (which cannot steer) stays in the inbox until its own turn ran', async () => {
    const { sb, box } = await world([{ text: 'First answer', chunks: 2, stallMs: 1500 }, say('Second answer')], { ...LLM, sessions: { onMessageDuringTurn: 'steer' } });
    const first = turnEnded(sb);
    await post(sb, 'one');
    await expect.poll(() => llmRequests(box).length).toBe(1);
    await post(sb, 'two');
    expect((await first).type).toBe('turn.completed');
    // The first turn is over and did not take "two": it must still be durable (a crash now would otherwise lose it).
    const store = await DatasetStore.open(path.join(box.root, 'threads.db'));
    try {
      expect((await store.pending()).map((e) => e.message.text)).toContain('two');
    } finally {
      await store.close();
    }
    await expect.poll(() => llmRequests(box).length).toBe(2);
    await expect.poll(() => sb.service().inboxDepth()).toBe(0);
  });
});
