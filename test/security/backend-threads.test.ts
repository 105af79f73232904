// Issue 11 #1 (backend half): `/codex threads` and `/codex resume` see only the threads this
// room created; commands that change a session are owner/approver-only by default.
import { afterEach, describe, expect, it } from 'vitest';
import { say } from '../support/mock-model.js';
import { next, notices, turnEnd, world, type World } from './backend-world.js';

let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

describe('#1 thread scoping and restricted commands', () => {
  it('room B cannot list or resume room A’s thread; room A can', async () => {
    w = await world([say('secret plans of A'), say('B here')]);
    const { sb, events } = await w.supervisor();
    const started = next(sb, 'turn.started', (e) => e.session === 'alpha/chat/main');
    let ended = turnEnd(sb);
    await sb.post({ room: 'alpha', from: { id: 'ann' }, text: 'plan' });
    const threadA = (await started).threadId;
    await ended;
    ended = turnEnd(sb);
    await sb.post({ room: 'beta', from: { id: 'mallory' }, text: 'hello' });
    await ended;

    await sb.post({ room: 'beta', from: { id: 'mallory' }, text: '/codex threads' });
    const listB = notices(events).filter((t) => t.startsWith('Codex threads:')).at(-1)!;
    expect(listB).not.toContain(threadA);
    expect(listB.split('\n')).toHaveLength(2); // beta's own thread only

    await sb.post({ room: 'beta', from: { id: 'mallory' }, text: `/codex resume ${threadA}` });
    expect(notices(events).at(-1)).toBe(`/codex resume: thread ${threadA} is not one of this room's Codex threads (see /codex threads); not resumed`);
    // An unknown id gets the same answer (nothing about other rooms is revealed).
    await sb.post({ room: 'beta', from: { id: 'mallory' }, text: '/codex resume 0198-nope' });
    expect(notices(events).at(-1)).toMatch(/thread 0198-nope is not one of this room's Codex threads/);

    await sb.post({ room: 'alpha', from: { id: 'ann' }, text: '/codex threads' });
    expect(notices(events).at(-1)).toContain(threadA);
    await sb.post({ room: 'alpha', from: { id: 'ann' }, text: `/codex resume ${threadA}` });
    expect(notices(events).at(-1)).toBe(`This conversation now continues Codex thread ${threadA} from the next message.`);
  }, 120_000);

  it('/model, /new, /reset and /codex resume are refused for a member who is not the owner, with who may; owner and approvers may', async () => {
    w = await world([say('ok')]);
    const { sb, events } = await w.supervisor({ agents: { defaults: { cwd: w.box.workspace, models: ['openai/gpt-a', 'openai/gpt-b'], approvers: ['cy'] } } });
    const ended = turnEnd(sb);
    await sb.post({ room: 'lab', from: { id: 'ann', role: 'member' }, text: 'hi' });
    await ended;
    for (const cmd of ['/model gpt-b', '/new', '/reset', '/codex resume x', '/codex compact', '/codex review']) {
      await sb.post({ room: 'lab', from: { id: 'mallory', role: 'member' }, text: cmd });
      const name = cmd.slice(1).split(' ').slice(0, cmd.startsWith('/codex') ? 2 : 1).join(' ');
      expect(notices(events).at(-1)).toBe(
        `/${name} was not run: only the session owner (ann), approvers (cy) and room owners/approvers may run it (mallory is neither the session owner nor an approver).`,
      );
    }
    // Unrestricted commands still work for anyone who may post.
    await sb.post({ room: 'lab', from: { id: 'mallory', role: 'member' }, text: '/help' });
    expect(notices(events).at(-1)).toMatch(/^Commands:/);
    const modelSet = () => notices(events).filter((t) => t.startsWith('Model set to gpt-b')).length;
    // The owner, a configured approver, a room approver.
    for (const from of [{ id: 'ann', role: 'member' as const }, { id: 'cy' }, { id: 'pat', role: 'approver' as const }]) {
      const before = modelSet();
      await sb.post({ room: 'lab', from, text: '/model gpt-b' });
      await expect.poll(modelSet, { timeout: 10_000 }).toBe(before + 1);
    }
  }, 120_000);

  it('the restricted list is configurable', async () => {
    w = await world([]);
    const { sb, events } = await w.supervisor({
      sessions: { bindingsDir: `${w.box.root}/bindings`, restrictedCommands: ['codex threads'] },
    });
    await sb.post({ room: 'lab', from: { id: 'ann' }, text: '/help' });
    await sb.post({ room: 'lab', from: { id: 'mallory' }, text: '/codex threads' });
    expect(notices(events).at(-1)).toMatch(/^\/codex threads was not run: only the session owner \(ann\)/);
    await sb.post({ room: 'lab', from: { id: 'mallory' }, text: '/models' });
    await expect.poll(() => notices(events).at(-1), { timeout: 10_000 }).toMatch(/gpt-a/);
  }, 60_000);
});
