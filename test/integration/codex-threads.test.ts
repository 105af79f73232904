// `/codex threads|resume|status|account|mcp|skills` against the real app-server: Codex's
// search and cursor paging limited to the room's own threads, a resume that checks the thread
// and keeps the conversation's model, and readable answers instead of raw JSON.
import { fileURLToPath } from 'node:url';
import { firstValueFrom, filter } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Supervisor } from '../../src/supervisor/supervisor.js';
import type { RoomEvent } from '../../src/events/room-events.js';
import type { InboundNotification } from '../../src/protocol/notifications.js';
import { lastUserText } from '../../src/scripted-model/try-it.js';
import { say, type Script } from '../support/mock-model.js';
import { postAsAnn, sandboxSupervisor, stopSandboxSupervisors, turnEnded } from '../support/sandbox-supervisor.js';

const MCP_SERVER = fileURLToPath(new URL('../support/mcp-server.mjs', import.meta.url));

afterEach(async () => {
  vi.restoreAllMocks();
  await stopSandboxSupervisors();
});

const world = (script: Script, opts: { models?: string[]; extraToml?: string } = {}) =>
  sandboxSupervisor(script, { extraToml: opts.extraToml, ...(opts.models ? { agentDefaults: { models: opts.models } } : {}) });

type Started = Extract<RoomEvent, { type: 'turn.started' }>;
const ended = turnEnded;
const post = postAsAnn;
const lastNotice = (events: RoomEvent[]) => (events.filter((e) => e.type === 'notice').at(-1) as { text: string } | undefined)?.text ?? '';
/** Runs one turn and returns its start. */
async function turn(sb: Supervisor, text: string): Promise<Started> {
  const started = firstValueFrom(sb.events$.pipe(filter((e): e is Started => e.type === 'turn.started')));
  const done = ended(sb);
  await post(sb, text);
  expect((await done).type).toBe('turn.completed');
  return started;
}

/** `n` Codex threads with one turn each (`topic-k`), started on the app-server directly. */
async function makeThreads(sb: Supervisor, cwd: string, n: number): Promise<string[]> {
  const conn = sb.codex.connection;
  return Promise.all(
    Array.from({ length: n }, async (_, k) => {
      const threadId = (await conn.request('thread/start', { cwd })).thread.id;
      const done = new Promise<void>((resolve) => {
        const off = conn.subscribe(threadId, (m: InboundNotification) => {
          if (m.method === 'turn/completed') {
            off();
            resolve();
          }
        });
      });
      await conn.request('turn/start', { threadId, input: [{ type: 'text', text: `topic-${k}`, text_elements: [] }] });
      await done;
      return threadId;
    }),
  );
}

describe('/codex threads', () => {
  it("lists this room's threads with Codex's searchTerm and cursor paging; other rooms' threads never show", async () => {
    const { sb, box, events } = await world((req) => say(`re: ${lastUserText(req)}`));
    const own = (await turn(sb, 'topic-main')).threadId;
    const extra = await makeThreads(sb, box.workspace, 30);
    const lab = [own, ...extra.slice(0, 27)];
    const foreign = extra.slice(27);
    for (const t of extra.slice(0, 27)) await sb.access.recordThread(t, 'lab/chat/other');
    for (const t of foreign) await sb.access.recordThread(t, 'elsewhere/chat/main');
    const listed = vi.spyOn(sb.codex.connection, 'request');

    const seen = new Set<string>();
    const idsIn = (text: string) => text.split('\n').slice(1).filter((l) => l.startsWith('  ')).map((l) => l.trim().split(/\s+/)[0]!);
    await post(sb, '/codex threads');
    let page = lastNotice(events);
    expect(page.split('\n')[0]).toBe('Codex threads:');
    expect(page.split('\n').at(-1)).toBe('More: /codex threads more');
    for (const id of idsIn(page)) seen.add(id);
    for (let i = 0; i < 5 && page.endsWith('More: /codex threads more'); i++) {
      await post(sb, '/codex threads more');
      page = lastNotice(events);
      const ids = idsIn(page);
      expect(ids.filter((id) => seen.has(id))).toEqual([]);
      for (const id of ids) seen.add(id);
    }
    expect([...seen].sort()).toEqual([...lab].sort());
    await post(sb, '/codex threads more');
    expect(lastNotice(events)).toBe('No more Codex threads: /codex threads [filter] lists them from the start.');

    const calls = listed.mock.calls.filter(([m]) => m === 'thread/list').map(([, p]) => p as Record<string, unknown>);
    expect(calls[0]).toMatchObject({ limit: 25, sortKey: 'updated_at' });
    expect(calls.slice(1).every((p) => typeof p.cursor === 'string')).toBe(true);

    // The filter is Codex's own title search; a foreign thread that matches stays hidden.
    await post(sb, '/codex threads topic-7');
    expect(listed.mock.calls.at(-1)).toEqual(['thread/list', expect.objectContaining({ searchTerm: 'topic-7' })]);
    page = lastNotice(events);
    expect(page.split('\n')[0]).toBe('Codex threads matching "topic-7":');
    expect(idsIn(page)).toEqual([extra[7]]);
    await post(sb, `/codex threads topic-${28}`);
    expect(lastNotice(events)).toBe('No Codex threads in this room matching "topic-28".');
  }, 180_000);
});

describe('/codex resume', () => {
  it('checks the thread exists and belongs to the room; the conversation keeps its /model choice', async () => {
    const { sb, box, events } = await world((req, i) => say(`answer ${i} to ${lastUserText(req)}`), { models: ['openai/gpt-a', 'openai/gpt-b'] });
    const first = (await turn(sb, 'first thread')).threadId;
    // The room's record of a thread is written with the conversation's binding, just after the turn.
    await expect.poll(() => sb.access.ownsThread('lab/chat/main', first)).toBe(true);
    await post(sb, '/new');
    const second = (await turn(sb, 'second thread')).threadId;
    expect(second).not.toBe(first);

    // Recorded for this room, but Codex does not have it.
    const ghost = '019e0000-0000-7000-8000-000000000000';
    await sb.access.recordThread(ghost, 'lab/chat/main');
    await post(sb, `/codex resume ${ghost}`);
    expect(lastNotice(events)).toMatch(new RegExp(`^/codex resume: Codex no longer has thread ${ghost} \\(.+\\); not resumed$`));
    // Codex has it, but another room made it.
    const [foreign] = await makeThreads(sb, box.workspace, 1);
    await sb.access.recordThread(foreign!, 'elsewhere/chat/main');
    await post(sb, `/codex resume ${foreign}`);
    expect(lastNotice(events)).toBe(`/codex resume: thread ${foreign} is not one of this room's Codex threads (see /codex threads); not resumed`);
    await post(sb, '/codex resume ../../etc');
    expect(lastNotice(events)).toMatch(/^\/codex resume: thread \.\.\/\.\.\/etc is not one of this room's Codex threads/);

    // A conversation that chose its model before it had any thread keeps that choice.
    const side = (text: string) => sb.post({ room: 'lab', thread: 'side', from: { id: 'ann', name: 'Ann' }, text });
    await side('/model gpt-b');
    expect(lastNotice(events)).toMatch(/^Model set to gpt-b/);
    await side(`/codex resume ${first}`);
    expect(lastNotice(events)).toBe(`This conversation now continues Codex thread ${first} from the next message.`);
    const started = firstValueFrom(sb.events$.pipe(filter((e): e is Started => e.type === 'turn.started')));
    const done = ended(sb);
    await side('back on the first');
    expect((await done).type).toBe('turn.completed');
    expect(await started).toMatchObject({ session: 'lab/chat/side', threadId: first, model: 'gpt-b' });
    expect(box.model.requests.at(-1)!.model).toBe('gpt-b');
    expect(JSON.stringify(box.model.requests.at(-1)!.input)).toContain('first thread');
  }, 180_000);
});

describe('/codex status|account|mcp|skills', () => {
  it('answer in readable, bounded lines without raw JSON', async () => {
    const { sb, events } = await world([say('ok')], {
      extraToml: ['[mcp_servers.test]', 'command = "node"', `args = [${JSON.stringify(MCP_SERVER)}]`].join('\n'),
    });
    await post(sb, '/codex status');
    const status = lastNotice(events).split('\n');
    expect(status[0]).toMatch(/^Codex app-server: running\.ready 0\.169\.0 · pid \d+ · restarts 0$/);
    expect(status[1]).toBe('Account: none needed by the configured model provider');
    expect(status[2]).toMatch(/^Rate limits: unavailable: .*authentication required/);
    expect(status[3]).toMatch(/^MCP servers: 1$/);
    expect(status[4]).toMatch(/^ {2}test \(.*\d+ tools?.*\)$/);
    expect(status[5]).toMatch(/^Skills: \d+ \(\d+ enabled\): \S/);
    await post(sb, '/codex account');
    expect(lastNotice(events)).toMatch(/^Account: none needed by the configured model provider\nRate limits: unavailable: /);
    await post(sb, '/codex mcp');
    expect(lastNotice(events)).toMatch(/^MCP servers: 1\n {2}test \(.*2 tools.*\)$/);
    await post(sb, '/codex skills');
    const skills = lastNotice(events).split('\n');
    expect(skills[0]).toMatch(/^Skills: \d+ \(\d+ enabled\)$/);
    expect(skills.slice(1).every((l) => /^ {2}\S+ \[(system|user|repo|admin)\]( \(disabled\))?( — .{1,101})?$/.test(l))).toBe(true);
    for (const e of events.filter((x) => x.type === 'notice')) {
      expect((e as { text: string }).text).not.toMatch(/[{}"]\w+":/);
      // eslint-disable-next-line no-control-regex
      expect((e as { text: string }).text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    }
  }, 120_000);
});
