// appServer.mode "guardian" = Codex's own reviewer subagent, against the REAL app-server with the
// scripted model (which also plays the reviewer: its requests are marked as the guardian's):
// the thread runs sandboxed with auto review, nobody in the room is asked, the review reaches
// the room, and an owner's override reaches the agent through thread/approveGuardianDeniedAction.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { firstValueFrom, filter } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createSupervisor, type Supervisor } from '../../src/supervisor/supervisor.js';
import type { RoomEvent } from '../../src/events/room-events.js';
import { assessmentEventOf } from '../../src/approvals/native-guardian.js';
import { functionCallOutputs, guardianVerdict, isGuardianReview, say, shell, type ResponsesRequest, type Step } from '../support/mock-model.js';
import { makeSandbox, type Sandbox } from '../support/sandbox.js';
import { memoryLogger } from '../support/log.js';
import { stopAfterTest, stopSandboxSupervisors } from '../support/sandbox-supervisor.js';

afterEach(stopSandboxSupervisors);

type Review = Extract<RoomEvent, { type: 'guardian.review' }>;
const ROOM = 'lab';
const ANN = { id: 'ann', name: 'Ann', role: 'member' as const };
const BOB = { id: 'bob', name: 'Bob', role: 'member' as const };

/** The agent asks to run `touch guarded.txt` outside the sandbox each time it is asked; the reviewer answers from `verdicts`. */
function script(verdicts: Array<'allow' | 'deny'>): (req: ResponsesRequest) => Step {
  let reviews = 0;
  return (req) => {
    if (isGuardianReview(req)) {
      const outcome = verdicts[reviews++] ?? 'deny';
      return guardianVerdict(
        outcome === 'deny'
          ? { outcome, riskLevel: 'high', userAuthorization: 'low', rationale: 'creates a file nobody asked for' }
          : { outcome, riskLevel: 'low', userAuthorization: 'high', rationale: 'the owner approved this exact command' },
      );
    }
    if (req.input.at(-1)?.type === 'function_call_output') return say('done');
    return shell('touch guarded.txt', { escalated: true, justification: 'the test wants the file' });
  };
}

async function world(verdicts: Array<'allow' | 'deny'>) {
  const box = await makeSandbox(script(verdicts));
  const { log } = memoryLogger('warn');
  const sb = createSupervisor(
    {
      appServer: { env: box.env, mode: 'guardian' },
      agents: { defaults: { cwd: box.workspace } },
      sessions: { bindingsDir: path.join(box.root, 'bindings'), idleWatchdogSeconds: 60 },
      storage: { kind: 'dataset', path: path.join(box.root, 'threads.db') },
    },
    { log, baseDir: box.root },
  );
  stopAfterTest(sb, box);
  const events: RoomEvent[] = [];
  sb.events$.subscribe((e) => events.push(e));
  await sb.start();
  return { sb, box, events };
}

const turnEnd = (sb: Supervisor) => firstValueFrom(sb.events$.pipe(filter((e) => e.type === 'turn.completed' || e.type === 'turn.failed' || e.type === 'turn.interrupted')));
const nextNotice = (sb: Supervisor, re: RegExp) => firstValueFrom(sb.events$.pipe(filter((e): e is Extract<RoomEvent, { type: 'notice' }> => e.type === 'notice' && re.test(e.text))));
/** The turn metadata Codex sends the model with every request (JSON in a header-like field). */
const turnMeta = (req: ResponsesRequest | undefined) => JSON.parse(String((req?.client_metadata as Record<string, unknown>)['x-codex-turn-metadata'])) as Record<string, unknown>;

describe('appServer.mode "guardian" (real codex): Codex\'s reviewer subagent decides', () => {
  it('runs the thread sandboxed with auto review; the denial reaches the room, nobody is asked, nothing runs', async () => {
    const { sb, box, events } = await world(['deny']);
    const done = turnEnd(sb);
    await sb.post({ room: ROOM, from: ANN, text: 'make the file' });
    expect((await done).type).toBe('turn.completed');

    // The thread/start parameters as Codex applied them, seen in what it sends the model.
    const main = box.model.requests.filter((r) => !isGuardianReview(r));
    expect(turnMeta(main[0])).toMatchObject({ sandbox_mode: 'workspace-write', auto_review_enabled: true });
    // approvalsReviewer guardian_subagent (Codex's current name: auto_review); on-request lets the agent ask to escalate.
    expect(JSON.stringify(main[0]?.input)).toContain('`approvals_reviewer` is `auto_review`');
    expect(JSON.stringify(main[0]?.input)).toContain('## How to request escalation');
    // The reviewer's own work: a request of the guardian subagent, asked for a verdict in its schema.
    const reviewer = box.model.requests.filter(isGuardianReview);
    expect(reviewer).toHaveLength(1);
    expect((reviewer[0]?.text as { format?: { schema?: { required?: string[] } } }).format?.schema?.required).toEqual(['outcome']);
    expect(JSON.stringify(reviewer[0]?.input)).toContain('touch guarded.txt');

    expect(events.filter((e) => e.type === 'approval.requested')).toEqual([]);
    const reviews = events.filter((e): e is Review => e.type === 'guardian.review');
    expect(reviews.map((r) => r.status)).toEqual(['inProgress', 'denied']);
    expect(reviews[1]).toMatchObject({
      session: 'lab/chat/main',
      title: "Run: /bin/bash -lc 'touch guarded.txt'",
      riskLevel: 'high',
      userAuthorization: 'low',
      rationale: 'creates a file nobody asked for',
      action: { type: 'command', source: 'unifiedExec' },
    });
    const notices = events.filter((e) => e.type === 'notice').map((e) => (e as { text: string }).text);
    expect(notices).toContain('Codex guardian: Automatic approval review denied (risk: high, authorization: low): creates a file nobody asked for');
    expect(notices).toContain(
      `Codex's guardian denied "Run: /bin/bash -lc 'touch guarded.txt'". An owner can approve it anyway: /guardian approve ${reviews[1]!.reviewId} (the agent is told; it may then retry).`,
    );
    expect(existsSync(path.join(box.workspace, 'guarded.txt'))).toBe(false);
    expect(JSON.stringify(functionCallOutputs(main.at(-1)))).toMatch(/rejected/);

    // Every kind of reviewed action, as the app-server reports it, converts to what Codex's core accepts back.
    const ws = box.workspace;
    const actions: Array<Record<string, unknown> & { type: string }> = [
      { type: 'command', source: 'shell', command: 'ls', cwd: ws },
      { type: 'execve', source: 'unifiedExec', program: '/bin/ls', argv: ['ls', '-l'], cwd: ws },
      { type: 'writeStdin', approvalId: 'a1', processId: '7', stdin: 'y', cwd: ws },
      { type: 'applyPatch', cwd: ws, files: [path.join(ws, 'a.txt')] },
      { type: 'networkAccess', target: 'example.com:1080', host: 'example.com', protocol: 'socks5Tcp', port: 1080 },
      { type: 'mcpToolCall', server: 'docs', toolName: 'search', connectorId: null, connectorName: null, toolTitle: 'Search' },
      {
        type: 'requestPermissions',
        reason: 'needs the network',
        permissions: { network: { enabled: true }, fileSystem: { entries: [{ access: 'write', path: { type: 'path', path: ws } }], globScanMaxDepth: 2 } },
      },
    ];
    const client = sb.codex.clientFor('default');
    for (const action of actions) {
      const event = assessmentEventOf({ ...reviews[1]!, action });
      await expect(client.requestRaw('thread/approveGuardianDeniedAction', { threadId: reviews[1]!.threadId, event }), action.type).resolves.toEqual({});
    }
  });

  it('an owner overrides the denial: Codex tells the agent, whose retry the reviewer then allows; a member may not', async () => {
    const { sb, box, events } = await world(['deny', 'allow']);
    let done = turnEnd(sb);
    await sb.post({ room: ROOM, from: ANN, text: 'make the file' });
    await done;
    const denied = events.find((e): e is Review => e.type === 'guardian.review' && e.status === 'denied')!;

    const listed = nextNotice(sb, /^Denied by Codex's guardian/);
    await sb.post({ room: ROOM, from: BOB, text: '/guardian' });
    expect((await listed).text).toContain(`${denied.reviewId}  Run: /bin/bash -lc 'touch guarded.txt' (risk high): creates a file nobody asked for`);

    const refused = nextNotice(sb, /guardian approve/);
    await sb.post({ room: ROOM, from: BOB, text: `/guardian approve ${denied.reviewId}` });
    expect((await refused).level).toBe('warning');

    const approved = nextNotice(sb, /^Ann approved/);
    await sb.post({ room: ROOM, from: ANN, text: `/guardian approve ${denied.reviewId.slice(0, 8)}` });
    expect((await approved).text).toContain('the action is not re-run by itself');
    const twice = nextNotice(sb, /^\/guardian approve:/);
    await sb.post({ room: ROOM, from: ANN, text: `/guardian approve ${denied.reviewId}` });
    expect((await twice).text).toMatch(/no denial .* is open in this conversation/);

    done = turnEnd(sb);
    await sb.post({ room: ROOM, from: ANN, text: 'try again' });
    expect((await done).type).toBe('turn.completed');
    // Codex put the owner's approval of that exact action into the thread, once.
    const retry = box.model.requests.filter((r) => !isGuardianReview(r)).find((r) => JSON.stringify(r.input).includes('try again'))!;
    const approvals = retry.input.filter((i) => i.role === 'developer' && JSON.stringify(i.content).includes('manually approved a specific action'));
    expect(approvals).toHaveLength(1);
    expect(JSON.stringify(approvals[0]!.content)).toContain("touch guarded.txt");
    expect(events.filter((e): e is Review => e.type === 'guardian.review').map((r) => r.status)).toEqual(['inProgress', 'denied', 'inProgress', 'approved']);
    expect(existsSync(path.join(box.workspace, 'guarded.txt'))).toBe(true);
  });
});
