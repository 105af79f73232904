// `/codex review` and `/codex compact` against the real app-server and the scripted model:
// both run as turns of the conversation, their results reach the room as events, and the
// compaction hooks fire around Codex's actual compaction (automatic compaction included).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { firstValueFrom, filter } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { RoomEvent } from '../../src/events/room-events.js';
import { isCompactionRequest, isReviewRequest, reviewAnswer, say, type Script } from '../support/mock-model.js';
import { noticeTexts, postAsAnn, sandboxSupervisor, stopSandboxSupervisors, turnEnded, type Ev } from '../support/sandbox-supervisor.js';

afterEach(stopSandboxSupervisors);

const world = (script: Script, rootToml?: string) => sandboxSupervisor(script, { rootToml });

const ended = turnEnded;
const post = postAsAnn;
const notices = noticeTexts;
const of = <T extends RoomEvent['type']>(events: RoomEvent[], type: T) => events.filter((e): e is Ev<T> => e.type === type);
const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd, stdio: 'ignore' });

describe('/codex review', () => {
  it('reviews a base branch as a turn: a review card with the result, the review as the agent message, in history', async () => {
    const finding = { title: 'Off by one in count', body: 'The loop stops one short.', file: '/w/count.ts', lines: { start: 3, end: 4 } };
    const { sb, box, events } = await world((req) => (isReviewRequest(req) ? reviewAnswer('One bug found.', [finding]) : say('hello')));
    git(box.workspace, 'init', '-q', '-b', 'main');
    writeFileSync(path.join(box.workspace, 'count.ts'), 'export const n = 1;\n');
    git(box.workspace, 'add', '.');
    git(box.workspace, 'commit', '-qm', 'init');
    git(box.workspace, 'checkout', '-qb', 'feature');
    writeFileSync(path.join(box.workspace, 'count.ts'), 'export const n = 2;\n');
    git(box.workspace, 'commit', '-qam', 'change');

    let done = ended(sb);
    await post(sb, 'hi');
    expect((await done).type).toBe('turn.completed');
    done = ended(sb);
    await post(sb, '/codex review --base main');
    const end = await done;
    expect(end.type).toBe('turn.completed');
    expect(notices(events)).toContain('Codex review of the changes against main requested: it runs as the next turn of this conversation.');
    expect(of(events, 'turn.started').find((e) => e.turnId === end.turnId)).toMatchObject({ action: 'review' });
    expect(end).toMatchObject({ action: 'review' });

    const review = of(events, 'tool.completed').find((e) => e.kind === 'review')!;
    expect(review).toMatchObject({ toolId: `review:${end.turnId}`, turnId: end.turnId, status: 'completed', title: "Review: changes against 'main'" });
    expect(review.data.review).toMatch(/One bug found\.[\s\S]*Off by one in count — \/w\/count\.ts:3-4/);
    expect(of(events, 'tool.started').some((e) => e.kind === 'review' && e.toolId === review.toolId)).toBe(true);
    // The review's own agent message carries the same text; the raw JSON answer never reaches the room.
    const message = of(events, 'message.completed').find((e) => e.turnId === end.turnId)!;
    expect(message.text).toBe(review.data.review);
    expect(of(events, 'message.delta').filter((e) => e.turnId === end.turnId)).toEqual([]);
    // Codex was asked to review against the base branch.
    const asked = box.model.requests.find(isReviewRequest)!;
    expect(JSON.stringify(asked.input)).toContain('main');
    await sb.flush();
    const history = await sb.history('lab');
    expect(history.some((h) => h.kind === 'tool' && h.toolKind === 'review' && String(h.data.review).includes('Off by one'))).toBe(true);
  }, 120_000);

  it('custom instructions and a commit are sent as their targets; a review posted during a turn waits for it; bad targets are refused', async () => {
    const { sb, box, events } = await world((req) => (isReviewRequest(req) ? reviewAnswer('Looks fine.') : { ...say('slow answer'), stallMs: 1_500 }));
    git(box.workspace, 'init', '-q', '-b', 'main');
    writeFileSync(path.join(box.workspace, 'a.txt'), 'a\n');
    git(box.workspace, 'add', '.');
    git(box.workspace, 'commit', '-qm', 'first');
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: box.workspace, encoding: 'utf8' }).trim();

    const started = firstValueFrom(sb.events$.pipe(filter((e) => e.type === 'turn.started')));
    const first = ended(sb);
    await post(sb, 'take your time');
    await started;
    await post(sb, '/codex review focus on the error handling');
    expect(notices(events)).toContain('A turn is running; your message is queued (1 waiting).');
    expect((await first).type).toBe('turn.completed');
    await expect.poll(() => of(events, 'turn.completed').length, { timeout: 60_000 }).toBe(2);
    expect(JSON.stringify(box.model.requests.find(isReviewRequest)!.input)).toContain('focus on the error handling');

    const commitEnd = ended(sb);
    await post(sb, `/codex review --commit ${sha} First commit`);
    expect((await commitEnd).type).toBe('turn.completed');
    const cards = of(events, 'tool.completed').filter((e) => e.kind === 'review');
    expect(cards).toHaveLength(2);
    expect(cards[1]!.data.target).toMatch(new RegExp(`${sha.slice(0, 7)}|First commit`));
    expect(JSON.stringify(box.model.requests.filter(isReviewRequest)[1]!.input)).toContain(sha.slice(0, 7));

    await post(sb, '/codex review --base');
    expect(notices(events).at(-1)).toMatch(/^\/codex review: --base takes one branch name\. usage: \/codex review/);
    await post(sb, '/codex review --commit not-a-sha');
    expect(notices(events).at(-1)).toMatch(/--commit takes a commit SHA/);
    expect(box.model.requests.filter(isReviewRequest)).toHaveLength(2);
  }, 120_000);
});

describe('/codex compact and the compaction hooks', () => {
  it('runs as a turn, reports the contextCompaction item, and the hooks fire around the compaction itself', async () => {
    const { sb, box, events } = await world((req, i) => (isCompactionRequest(req) ? { ...say('SUMMARY-OF-CHAT'), stallMs: 600 } : say(`answer ${i}`)));
    const hooks: Array<{ name: string; at: number; requests: number; payload: Record<string, unknown> }> = [];
    sb.hooks.on('before_compaction', (p) => void hooks.push({ name: 'before', at: Date.now(), requests: box.model.requests.length, payload: { ...p } }));
    sb.hooks.on('after_compaction', (p) => void hooks.push({ name: 'after', at: Date.now(), requests: box.model.requests.length, payload: { ...p } }));

    let done = ended(sb);
    await post(sb, 'remember PELICAN');
    const first = await done;
    done = ended(sb);
    await post(sb, '/codex compact');
    expect(notices(events)).toContain(`Compaction of thread ${(first as Ev<'turn.completed'>).threadId} requested: it runs as the next turn of this conversation.`);
    const end = await done;
    expect(end.type).toBe('turn.completed');
    expect(end).toMatchObject({ action: 'compact' });
    const card = of(events, 'tool.completed').find((e) => e.kind === 'compaction')!;
    expect(card).toMatchObject({ turnId: end.turnId, status: 'completed', title: 'Context compaction' });
    expect(box.model.requests.filter(isCompactionRequest)).toHaveLength(1);

    expect(hooks.map((h) => h.name)).toEqual(['before', 'after']);
    const threadId = (first as Ev<'turn.completed'>).threadId;
    expect(hooks[0]!.payload).toEqual({ session: 'lab/chat/main', threadId, turnId: end.turnId });
    expect(hooks[1]!.payload).toEqual({ session: 'lab/chat/main', threadId, turnId: end.turnId, status: 'completed' });
    // Around the compaction, not around the request: the model's (slow) summary lies between them.
    expect(hooks[1]!.at - hooks[0]!.at).toBeGreaterThanOrEqual(500);
    expect(hooks[1]!.requests).toBeGreaterThan(1);

    // The conversation goes on from the summary.
    done = ended(sb);
    await post(sb, 'what did I ask you to remember?');
    expect((await done).type).toBe('turn.completed');
    expect(JSON.stringify(box.model.requests.at(-1)!.input)).toContain('SUMMARY-OF-CHAT');
  }, 120_000);

  it('Codex compacting by itself inside a turn fires the same hooks with that turn', async () => {
    const big = { input: 50_000, output: 100 };
    const { sb, box, events } = await world(
      (req, i) => (isCompactionRequest(req) ? { ...say('AUTO-SUMMARY'), usage: { input: 100, output: 10 } } : { ...say(`answer ${i}`), usage: big }),
      'model_auto_compact_token_limit = 1000',
    );
    const fired: Array<[string, Record<string, unknown>]> = [];
    sb.hooks.on('before_compaction', (p) => void fired.push(['before', { ...p }]));
    sb.hooks.on('after_compaction', (p) => void fired.push(['after', { ...p }]));
    let done = ended(sb);
    await post(sb, 'one');
    expect((await done).type).toBe('turn.completed');
    expect(fired).toEqual([]);
    done = ended(sb);
    await post(sb, 'two');
    const second = await done;
    expect(second.type).toBe('turn.completed');
    expect(second).not.toHaveProperty('action');
    expect(box.model.requests.filter(isCompactionRequest)).toHaveLength(1);
    expect(fired.map(([n]) => n)).toEqual(['before', 'after']);
    expect(fired[0]![1]).toMatchObject({ session: 'lab/chat/main', turnId: second.turnId });
    expect(of(events, 'tool.completed').filter((e) => e.kind === 'compaction').map((e) => e.turnId)).toEqual([second.turnId]);
  }, 120_000);

  it('without a thread there is nothing to compact', async () => {
    const { sb, events } = await world([]);
    await post(sb, '/codex compact');
    expect(notices(events).at(-1)).toBe('/codex compact: no Codex thread is bound to this conversation yet');
  }, 60_000);
});
