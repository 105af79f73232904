// Rendering helpers of `switchboard chat`: keys for choices, tool lines, diffs, prompts.
import { describe, expect, it } from 'vitest';
import { changeCounts, colorWanted, diffStat, guardianLine, historyLines, makeStyle, stripAnsi, toolLine, turnEndLine } from '../../../src/cli/chat-render.js';
import { approvalLines, choiceKeys, choiceMenu, formFieldValue, matchChoice, questionAnswer } from '../../../src/cli/chat-prompts.js';

describe('chat rendering', () => {
  it('derives one key per offered choice, in offer order', () => {
    const keys = choiceKeys(['accept', 'acceptForSession', 'decline', 'cancel']);
    expect(choiceMenu(keys)).toBe('[a] accept  [s] accept for session  [d] decline  [c] cancel');
    const odd = choiceKeys(['decline', 'applyNetworkPolicyAmendment:allow:example.com', 'acceptWithExecpolicyAmendment', 'accept'], {
      execpolicyAmendment: ['git', 'status'],
    });
    expect(odd.map((k) => k.key)).toEqual(['d', 'l', 'e', 'a']);
    expect(odd[1]!.label).toBe('allow network access to example.com');
    expect(odd[2]!.label).toBe('accept and allow "git status" from now on');
    expect(new Set(choiceKeys(['x1', 'x2', 'x3', 'x4']).map((k) => k.key)).size).toBe(4);
    expect(matchChoice(keys, 's')?.choice).toBe('acceptForSession');
    expect(matchChoice(keys, 'decline')?.choice).toBe('decline');
    expect(matchChoice(keys, 'z')).toBeUndefined();
  });

  it('one line per tool event, with exit codes and diff stats', () => {
    const cmd = { kind: 'command', title: 'echo hi > out.txt', data: { command: "/bin/bash -lc 'echo hi > out.txt'" } };
    expect(toolLine({ ...cmd, status: 'inProgress' }, 'started')).toBe('⚙ command: echo hi > out.txt …');
    expect(toolLine({ ...cmd, status: 'completed', data: { ...cmd.data, exitCode: 0 } }, 'completed')).toBe('⚙ command: echo hi > out.txt … done (exit 0)');
    expect(toolLine({ ...cmd, status: 'failed', data: { ...cmd.data, exitCode: 2 } }, 'completed')).toBe('⚙ command: echo hi > out.txt … failed (exit 2)');
    expect(toolLine({ ...cmd, status: 'declined', data: cmd.data }, 'completed')).toBe('⚙ command: echo hi > out.txt … declined');
    const review = { kind: 'review', title: "Review: changes against 'main'", data: { target: "changes against 'main'" } };
    expect(toolLine({ ...review, status: 'inProgress' }, 'started')).toBe("✔ review: changes against 'main' …");
    expect(toolLine({ ...review, status: 'completed', data: { ...review.data, review: 'One bug found.\n\n- Off by one' } }, 'completed')).toBe(
      "✔ review: changes against 'main' … done: One bug found. ⏎ - Off by one",
    );
    expect(toolLine({ kind: 'compaction', title: 'Context compaction', status: 'completed', data: {} }, 'completed')).toBe('⇣ compaction: conversation context … done');
    const diff = 'diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n-old\n+new\n+more\ndiff --git a/b.txt b/b.txt\n--- a/b.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-gone\n';
    expect(toolLine({ kind: 'diff', title: 'Changes', status: 'inProgress', data: { diff } }, 'started')).toBeUndefined();
    expect(toolLine({ kind: 'diff', title: 'Changes', status: 'completed', data: { diff } }, 'completed')).toBe(
      '± diff: 2 files changed: a.txt (+2 -1), b.txt (+0 -1)',
    );
    expect(diffStat(diff).added).toBe(2);
    const edit = { kind: 'fileChange', title: 'Edit new.txt', status: 'completed', data: { changes: [{ path: 'new.txt', kind: { type: 'add' }, diff: 'a\nb\n' }] } };
    expect(toolLine(edit, 'completed')).toBe('✎ edit: new.txt … done (+2 -0)');
    expect(changeCounts('@@ -1 +1 @@\n-a\n+b\n', 'update')).toEqual({ added: 1, removed: 1 });
    expect(toolLine({ kind: 'mcpToolCall', title: 'docs.search', status: 'failed', data: { server: 'docs', tool: 'search', error: { message: 'nope' } } }, 'completed')).toBe(
      '⚙ mcp: docs.search … failed: nope',
    );
  });

  it('an approval prompt shows what and why, and the diff of a file change', () => {
    const lines = approvalLines(
      {
        kind: 'fileChange',
        title: 'Change a.txt',
        detail: { reason: 'fix the typo', changes: [{ path: 'a.txt', kind: 'update', diff: '@@ -1 +1 @@\n-teh\n+the\n' }] },
        expiresAt: 61_000,
      },
      1_000,
    );
    expect(lines).toEqual([
      '? approval needed (fileChange): Change a.txt  [expires in 60s]',
      '  update a.txt',
      '    @@ -1 +1 @@',
      '    -teh',
      '    +the',
      '  why: fix the typo',
    ]);
  });

  it('history records render compactly', () => {
    expect(historyLines({ kind: 'message', role: 'user', author: { id: 'u1', name: 'Ann' }, text: 'hi' })).toEqual([{ text: 'Ann: hi', tone: 'plain' }]);
    expect(historyLines({ kind: 'turn', turnId: 't', status: 'completed' })).toEqual([]);
    expect(historyLines({ kind: 'turn', turnId: 't', status: 'failed', error: 'boom' })[0]!.text).toBe('✗ turn failed: boom');
    expect(historyLines({ kind: 'approval', approvalId: 'a1', outcome: 'denied', decision: 'decline', by: 'bob', reason: 'no' })[0]!.text).toBe(
      '✗ approval a1 denied (decline) by bob — no',
    );
    expect(historyLines({ kind: 'mystery' })).toEqual([]);
  });

  it('form fields and questions take typed answers', () => {
    const color = { name: 'color', title: 'Color', type: 'string', required: true, multiple: false, options: [{ value: 'r', label: 'Red' }, { value: 'b', label: 'Blue' }] };
    expect(formFieldValue(color, '2')).toEqual({ value: 'b' });
    expect(formFieldValue(color, 'Red')).toEqual({ value: 'r' });
    expect(formFieldValue(color, '')).toEqual({ problem: 'Color is required' });
    expect(formFieldValue({ ...color, required: false }, '')).toEqual({});
    expect(formFieldValue({ ...color, multiple: true }, '1, 2')).toEqual({ value: ['r', 'b'] });
    expect(formFieldValue({ name: 'ok', title: 'OK', type: 'boolean', required: true, multiple: false }, 'maybe')).toEqual({ problem: 'answer y or n' });
    const q = { id: 'q', question: 'which?', options: [{ label: 'one' }, { label: 'two' }], isOther: true, isSecret: false };
    expect(questionAnswer(q, '2')).toEqual({ value: 'two' });
    expect(questionAnswer(q, 'three')).toEqual({ value: 'three' });
    expect(questionAnswer({ ...q, isOther: false }, 'three')).toEqual({ problem: 'choose 1-2' });
  });

  it('colors only on a TTY and never with NO_COLOR', () => {
    const tty = { isTTY: true } as unknown as NodeJS.WritableStream;
    const pipe = {} as NodeJS.WritableStream;
    expect(colorWanted(tty, {})).toBe(true);
    expect(colorWanted(tty, { NO_COLOR: '1' })).toBe(false);
    expect(colorWanted(pipe, {})).toBe(false);
    expect(makeStyle(false).red('x')).toBe('x');
    expect(stripAnsi(makeStyle(true).red('x'))).toBe('x');
  });
});

describe('turn ends and Codex guardian reviews', () => {
  it("a turn's end says what it used, when Codex reported it; bad counts are not shown as numbers", () => {
    const usage = { inputTokens: 1200, cachedInputTokens: 0, outputTokens: 30, reasoningOutputTokens: 0, totalTokens: 1230 };
    expect(turnEndLine({ type: 'turn.completed', usage }).text).toBe('✓ turn completed · 1230 tokens (1200 in, 30 out)');
    expect(turnEndLine({ type: 'turn.interrupted', reason: 'stopped', usage }).text).toBe('■ turn interrupted: stopped · 1230 tokens (1200 in, 30 out)');
    expect(turnEndLine({ type: 'turn.completed' }).text).toBe('✓ turn completed');
    expect(turnEndLine({ type: 'turn.completed', usage: { totalTokens: '9\x1b[31m' } }).text).toBe('✓ turn completed');
  });

  it('a review in progress, then its verdict with risk, rationale and the id an owner overrides it by', () => {
    const base = { reviewId: 'r-1', title: 'Run: rm -rf build' };
    expect(guardianLine({ ...base, status: 'inProgress' })).toEqual({ text: '… Codex guardian reviewing: Run: rm -rf build', tone: 'dim' });
    expect(guardianLine({ ...base, status: 'approved' }).tone).toBe('green');
    const denied = guardianLine({ ...base, status: 'denied', riskLevel: 'high', rationale: 'outside\x1b]52;c;AAAA\x07 the task\nreally' });
    expect(denied.text).toBe('✗ Codex guardian denied: Run: rm -rf build (risk: high) — outside the task ⏎ really [review r-1]');
    expect(guardianLine({ ...base, status: 'timedOut' }).text).toContain('timed out (denied)');
  });
});
