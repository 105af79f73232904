// Usage and limits in the room, against the real app-server and the scripted model: the turn's
// token usage on its end and in `/usage`, a provider 429 said plainly, and the partial answer
// of an interrupted turn kept in the history.
import { firstValueFrom, filter } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { say, type Script } from '../support/mock-model.js';
import { noticeTexts, postAsAnn, sandboxSupervisor, stopSandboxSupervisors, turnEnded, type Ev } from '../support/sandbox-supervisor.js';

afterEach(stopSandboxSupervisors);

const world = (script: Script) => sandboxSupervisor(script);

const ended = turnEnded;
const post = postAsAnn;
const notices = noticeTexts;

describe('token usage', () => {
  it('each turn ends with its usage; /usage sums the conversation and shows the Codex thread total', async () => {
    const { sb, events } = await world([
      { ...say('first answer'), usage: { input: 100, output: 20 } },
      { ...say('second answer'), usage: { input: 300, output: 40 } },
    ]);
    let done = ended(sb);
    await post(sb, 'one');
    const first = await done;
    expect(first.type).toBe('turn.completed');
    expect(first.usage).toMatchObject({ inputTokens: 100, outputTokens: 20, totalTokens: 120 });
    done = ended(sb);
    await post(sb, 'two');
    const second = await done;
    expect(second.usage).toMatchObject({ inputTokens: 300, outputTokens: 40, totalTokens: 340 });

    await post(sb, '/usage');
    const text = notices(events).at(-1)!;
    expect(text).toContain('last turn: 340 tokens — 300 in, 40 out');
    expect(text).toContain('this conversation (2 turns): 460 tokens — 400 in, 60 out');
    expect(text).toContain('Codex thread total: 460 tokens');
  }, 120_000);
});

describe('limits', () => {
  it('a provider 429 fails the turn and says so in the room', async () => {
    const body = JSON.stringify({ error: { message: 'Rate limit reached for requests', type: 'rate_limit_exceeded', code: 'rate_limit_exceeded' } });
    const { sb, events } = await world([{ httpStatus: 429, body }, say('later')]);
    const done = ended(sb);
    await post(sb, 'hello');
    const end = await done;
    expect(end.type).toBe('turn.failed');
    expect(end).toMatchObject({ error: expect.stringMatching(/429/) });
    // Codex reports it as `responseTooManyFailedAttempts` with HTTP status 429: a rate limit, said once.
    expect(notices(events).filter((t) => t.startsWith('Codex rate limit exceeded'))).toHaveLength(1);
  }, 120_000);
});

describe('history completeness', () => {
  it('the partial answer of an interrupted turn is stored, marked partial', async () => {
    const { sb, events } = await world([{ text: 'alpha beta gamma delta epsilon zeta', chunks: 6, everyMs: 700 }, say('next')]);
    const firstDelta = firstValueFrom(sb.events$.pipe(filter((e) => e.type === 'message.delta')));
    const done = ended(sb);
    await post(sb, 'tell me slowly');
    await firstDelta;
    await post(sb, '/stop');
    const end = await done;
    expect(end.type).toBe('turn.interrupted');
    const partial = events.find((e): e is Ev<'message.completed'> => e.type === 'message.completed' && e.turnId === end.turnId);
    expect(partial?.partial).toBe(true);
    expect(partial?.text).toMatch(/^alpha/);
    expect(partial?.text.length).toBeLessThan('alpha beta gamma delta epsilon zeta'.length);
    await sb.flush();
    const history = await sb.history('lab');
    expect(history).toContainEqual(expect.objectContaining({ kind: 'message', role: 'assistant', turnId: end.turnId, partial: true, text: partial!.text }));
  }, 120_000);
});
