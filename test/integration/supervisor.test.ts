// The embedding API end to end: real codex app-server, scripted model.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { firstValueFrom, filter, take, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createSupervisor, type Supervisor } from '../../src/supervisor/supervisor.js';
import type { RoomEvent } from '../../src/events/room-events.js';
import type { Harness } from '../../src/supervisor/harness.js';
import { functionCallOutputs, say, shell } from '../support/mock-model.js';
import type { Script } from '../support/mock-model.js';
import { makeSandbox, type Sandbox } from '../support/sandbox.js';
import { memoryLogger } from '../support/log.js';
import { stopAfterTest, stopSandboxSupervisors } from '../support/sandbox-supervisor.js';

afterEach(stopSandboxSupervisors);

async function world(script: Script, config: Record<string, unknown> = {}, extra: { harnesses?: Harness[] } = {}) {
  const box = await makeSandbox(script);
  const { log, lines } = memoryLogger('info');
  const base = {
    appServer: { env: box.env, ...((config.appServer as object) ?? {}) },
    agents: { defaults: { cwd: box.workspace, ...((config.agents as { defaults?: object })?.defaults ?? {}) }, list: (config.agents as { list?: [] })?.list ?? [] },
    sessions: { bindingsDir: path.join(box.root, 'bindings'), idleWatchdogSeconds: 60 },
    storage: (config.storage as object) ?? { kind: 'dataset', path: path.join(box.root, 'threads.db') },
    approvals: config.approvals ?? {},
  };
  const sb = createSupervisor(base as never, { log, harnesses: extra.harnesses, baseDir: box.root, stateDir: box.root });
  stopAfterTest(sb, box);
  const events: RoomEvent[] = [];
  sb.events$.subscribe((e) => events.push(e));
  return { sb, box, events, lines };
}

const turnEnd = (sb: Supervisor) =>
  firstValueFrom(sb.events$.pipe(filter((e) => e.type === 'turn.completed' || e.type === 'turn.failed' || e.type === 'turn.interrupted')));

describe('supervisor (embedding API)', () => {
  it('a message becomes a Codex turn: streamed deltas, completed message, history, harness record', async () => {
    const { sb, events, lines } = await world([say('Hello from Codex', 4)]);
    await sb.start();
    const done = turnEnd(sb);
    const { session } = await sb.post({ room: 'lab', from: { id: 'ann', name: 'Ann' }, text: 'Say hello' });
    expect(session).toBe('lab/chat/main');
    expect((await done).type).toBe('turn.completed');
    const deltas = events.filter((e) => e.type === 'message.delta').map((e) => (e as { delta: string }).delta);
    expect(deltas.join('')).toBe('Hello from Codex');
    expect(events.find((e) => e.type === 'message.completed')).toMatchObject({ text: 'Hello from Codex' });
    // Codex's own warnings (the scripted model is not in its model metadata) may arrive as notices
    // at any point of the turn; they are checked for what they are, the rest for its order.
    const all = await sb.history('lab');
    const codexWarning = (h: (typeof all)[number]) => h.kind === 'notice' && /^Codex warning: /.test(String((h as { text?: unknown }).text));
    for (const w of all.filter(codexWarning)) expect(w).toMatchObject({ level: 'warning' });
    const history = all.filter((h) => !codexWarning(h));
    expect(history.map((h) => h.kind)).toEqual(['message', 'harness', 'notice', 'message', 'turn']);
    expect(history[2]).toMatchObject({ kind: 'notice', text: expect.stringMatching(/^Started a new Codex thread /) });
    expect(history[1]).toMatchObject({ kind: 'harness', harness: 'codex', reason: 'forced by config (runtime: codex)' });
    const selected = lines().map((l) => JSON.parse(l)).find((r) => r.msg === 'agent harness selected');
    expect(selected).toMatchObject({ harness: 'codex', reason: 'forced by config (runtime: codex)', runtime: 'codex', fallback: 'none' });
    expect(sb.status()).toMatchObject({ state: 'running', sessions: [{ session: 'lab/chat/main', harness: 'codex' }] });
  });

  it('approvals reach the room and are decided by the owner only; an accepted command runs', async () => {
    const { sb, box, events } = await world([shell('echo hi > out.txt', { escalated: true }), say('done')], {
      appServer: { approvalPolicy: 'untrusted', sandbox: 'workspace-write' },
      approvals: { reviewer: 'user' },
    });
    await sb.start();
    const asked = firstValueFrom(sb.events$.pipe(filter((e) => e.type === 'approval.requested')));
    const done = turnEnd(sb);
    await sb.post({ room: 'lab', from: { id: 'ann', name: 'Ann' }, text: 'write the file' });
    const req = (await asked) as Extract<RoomEvent, { type: 'approval.requested' }>;
    expect(req.kind).toBe('command');
    expect(req.choices).toContain('accept');
    expect(sb.decide({ approvalId: req.approvalId, by: 'mallory', decision: 'accept' })).toMatchObject({ ok: false });
    expect(sb.decide({ approvalId: req.approvalId, by: 'ann', decision: 'accept' })).toEqual({ ok: true });
    expect((await done).type).toBe('turn.completed');
    expect(existsSync(path.join(box.workspace, 'out.txt'))).toBe(true);
    expect(events.find((e) => e.type === 'approval.resolved')).toMatchObject({ outcome: 'approved', by: 'ann' });
    expect((await sb.history('lab')).some((h) => h.kind === 'approval' && h.by === 'ann')).toBe(true);
  });

  it('hooks rewrite the prompt, block a history write, and a throwing hook does not break the turn', async () => {
    const { sb, box } = await world([say('the secret answer')]);
    sb.hooks.on('before_prompt_build', ({ prompt }) => ({ prompt: `[house rules] ${prompt}` }));
    sb.hooks.on('before_message_write', ({ record }) => (record.kind === 'message' && record.text.includes('secret') ? { block: true } : undefined));
    sb.hooks.on('llm_output', () => {
      throw new Error('plugin bug');
    });
    const ends: string[] = [];
    sb.hooks.on('agent_end', ({ status }) => void ends.push(status));
    await sb.start();
    const done = turnEnd(sb);
    await sb.post({ room: 'lab', from: { id: 'ann' }, text: 'tell me' });
    expect((await done).type).toBe('turn.completed');
    expect(JSON.stringify(box.model.requests[0]?.input)).toContain('[house rules] tell me');
    const history = await sb.history('lab');
    expect(history.some((h) => h.kind === 'message' && h.role === 'assistant')).toBe(false);
    expect(history.some((h) => h.kind === 'message' && h.role === 'user')).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(sb.hooks.failures).toBe(1);
    expect(ends).toEqual(['completed']);
  });

  it('a dynamic tool registered by the host is called by the model through item/tool/call', async () => {
    const { sb, box } = await world([{ call: { name: 'lookup_weather', arguments: { city: 'Paris' } } }, say('It is sunny in Paris.')]);
    const calls: unknown[] = [];
    sb.registerTool({
      name: 'lookup_weather',
      description: 'Current weather for a city',
      inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      execute: (args) => {
        calls.push(args);
        return 'sunny, 21°C';
      },
    });
    sb.hooks.on('tool_result', ({ result }) => ({ result: { ...result, contentItems: [...result.contentItems, { type: 'inputText', text: '(via hook)' }] } }));
    await sb.start();
    const done = turnEnd(sb);
    await sb.post({ room: 'lab', from: { id: 'ann' }, text: 'weather?' });
    expect((await done).type).toBe('turn.completed');
    expect(calls).toEqual([{ city: 'Paris' }]);
    const out = JSON.stringify(functionCallOutputs(box.model.requests[1]));
    expect(out).toContain('sunny, 21°C');
    expect(out).toContain('(via hook)');
  });

  it('forced codex with fallback none fails early when the app-server cannot start', async () => {
    const { sb } = await world([], { appServer: { command: '/nonexistent/codex' } });
    await expect(sb.start()).rejects.toThrow(/harness "codex" is required \(runtime codex, fallback none\) but cannot start: Codex binary not found/);
  });

  it('auto runtime routes by model; sessions stay pinned to their first harness until /new', async () => {
    const echoed: string[] = [];
    const echo: Harness = {
      id: 'echo',
      available: () => ({ ok: true }),
      supports: (m) => ({ ok: !!m && m.startsWith('echo/'), reason: 'echo models' }),
      start: async () => {},
      stop: async () => {},
      post: (_agent, msg, sink) => {
        echoed.push(msg.text);
        const session = `${msg.room}/${msg.channel}/${msg.thread}`;
        sink({ type: 'message.completed', session, at: Date.now(), turnId: 't', itemId: 'i', text: `echo: ${msg.text}` });
      },
      status: () => ({}),
    };
    const { sb } = await world([say('from codex')], {
      agents: { defaults: { embeddedHarness: { runtime: 'auto', fallback: 'none' } }, list: [{ id: 'bot', default: true, model: 'echo/1' }] },
    }, { harnesses: [echo] });
    await sb.start();
    await sb.post({ room: 'lab', from: { id: 'ann' }, text: 'one' });
    await sb.post({ room: 'lab', from: { id: 'ann' }, text: 'two' });
    expect(echoed).toEqual(['one', 'two']);
    expect(sb.status()).toMatchObject({ sessions: [{ harness: 'echo', reason: expect.stringMatching(/^auto: "echo" supports model "echo\/1"/) }] });
  });

  it('bad posts and bad configs get readable errors', async () => {
    const { sb } = await world([]);
    await sb.start();
    await expect(sb.post({ room: 'a/b', from: { id: 'x' }, text: 'hi' })).rejects.toThrow(/invalid post: room: no slashes or spaces/);
    await expect(sb.post({ room: 'a', from: { id: 'x' }, text: '' })).rejects.toThrow(/text must not be empty/);
    expect(() => createSupervisor({ appServer: { transport: 'carrier-pigeon' } } as never)).toThrow(/appServer.transport \(flag\): write one of "stdio", "websocket"/);
  });

  it('/status shows the effective harness; /help lists commands', async () => {
    const { sb, events } = await world([say('ok')]);
    await sb.start();
    const done = turnEnd(sb);
    await sb.post({ room: 'lab', from: { id: 'ann' }, text: 'hi' });
    await done;
    await sb.post({ room: 'lab', from: { id: 'ann' }, text: '/status' });
    await sb.post({ room: 'lab', from: { id: 'ann' }, text: '/help' });
    const notices = events.filter((e) => e.type === 'notice').map((e) => (e as { text: string }).text);
    expect(notices.some((t) => t.startsWith('Harness: codex (forced by config (runtime: codex))'))).toBe(true);
    expect(notices.some((t) => t.includes('/codex status|models|threads'))).toBe(true);
  });

  it('codex storage: the Codex thread is named after the conversation, listed by /codex threads, archived by /reset', async () => {
    const { sb, events } = await world([say('stored by codex')], { storage: { kind: 'codex' } } as never);
    await sb.start();
    const done = turnEnd(sb);
    await sb.post({ room: 'lab', from: { id: 'ann' }, text: 'remember this' });
    await done;
    const threadId = (events.find((e) => e.type === 'turn.started') as { threadId: string }).threadId;
    const named = async () => ((await sb.codex.connection.request('thread/list', {})).data as Array<{ id: string; name?: string }>).find((t) => t.id === threadId);
    await expect.poll(async () => (await named())?.name, { timeout: 5000 }).toBe('lab/chat/main');
    await sb.post({ room: 'lab', from: { id: 'ann' }, text: '/codex threads' });
    expect(events.some((e) => e.type === 'notice' && e.text.includes(`${threadId}  lab/chat/main`))).toBe(true);
    await sb.post({ room: 'lab', from: { id: 'ann' }, text: '/reset' });
    await expect.poll(async () => (await named()) === undefined, { timeout: 5000 }).toBe(true);
  });

  it('graceful stop interrupts a running turn and leaves no process', async () => {
    const { sb, box } = await world([{ ...say('slow'), stallMs: 30_000 }]);
    await sb.start();
    const started = firstValueFrom(sb.events$.pipe(filter((e) => e.type === 'turn.started')));
    const ends = sb.events$.pipe(filter((e) => e.type.startsWith('turn.') && e.type !== 'turn.started'), take(1), toArray());
    const endP = firstValueFrom(ends);
    await sb.post({ room: 'lab', from: { id: 'ann' }, text: 'take your time' });
    await started;
    await sb.stop();
    expect((await endP)[0]?.type).toBe('turn.interrupted');
    await box.assertNoProcesses();
  });
});
