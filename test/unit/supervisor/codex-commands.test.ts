// The text of `/codex status|account|mcp|skills|threads` and the targets of `/codex review`:
// remote answers of any shape become bounded, clean lines; room words become checked targets.
import { describe, expect, it } from 'vitest';
import { accountText, field, MAX_LISTED, mcpText, rateLimitsText, skillsText, threadLine } from '../../../src/supervisor/codex-format.js';
import { describeReviewTarget, parseReviewArgs } from '../../../src/supervisor/review-args.js';
import { ThreadPages } from '../../../src/supervisor/thread-pages.js';

// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
const evil = 'x\u001b]52;c;cHduZWQ=\u0007y\u001b[2J\u0000z';

describe('codex-format', () => {
  it('field: one clean line, cut with an ellipsis', () => {
    expect(field(evil)).not.toMatch(CONTROLS);
    expect(field('a\n\tb   c')).toBe('a b c');
    expect(field('x'.repeat(100), 10)).toBe(`${'x'.repeat(9)}…`);
    expect(field({ toString: () => 'no' })).toBe('');
  });

  it('answers of the wrong shape are unreadable or skipped, never printed raw', () => {
    for (const f of [accountText, rateLimitsText, mcpText, (v: unknown) => skillsText(v, true)]) {
      expect(f('{"raw": true}')).toBe('unreadable answer');
      expect(f(null)).toBe('unreadable answer');
    }
    expect(mcpText({ data: [{ name: 'ok', tools: {} }, { nope: 1 }, 42] })).toBe('1\n  ok (0 tools)');
    expect(accountText({ account: { type: 'chatgpt', email: `a${evil}@example.com`, planType: 'pro' } })).not.toMatch(CONTROLS);
  });

  it('lists are bounded and strings cut', () => {
    const servers = Array.from({ length: 50 }, (_, i) => ({ name: `s${i}${'n'.repeat(200)}`, tools: {}, toolsError: evil.repeat(50) }));
    const text = mcpText({ data: servers, nextCursor: 'more' });
    expect(text.split('\n')).toHaveLength(MAX_LISTED + 2);
    expect(text).not.toMatch(CONTROLS);
    expect(Math.max(...text.split('\n').map((l) => l.length))).toBeLessThan(260);
    const skills = Array.from({ length: 30 }, (_, i) => ({ name: `k${i}`, description: 'd'.repeat(5000), enabled: i % 2 === 0, scope: 'user' }));
    const detailed = skillsText({ data: [{ cwd: '/w', errors: [{ path: '/p', message: evil }], skills }] }, true).split('\n');
    expect(detailed[0]).toBe('30 (15 enabled), 1 failed to load');
    expect(detailed).toHaveLength(1 + MAX_LISTED + 1 + 1);
    expect(detailed.join('\n')).not.toMatch(CONTROLS);
    expect(skillsText({ data: [{ cwd: '/w', errors: [], skills }] }, false)).toMatch(/^30 \(15 enabled\): k0, k1, .*k19, …$/);
  });

  it('rate limits per bucket, or none', () => {
    expect(rateLimitsText({ rateLimits: { primary: null, secondary: null } })).toBe('limits: no window reported');
    expect(
      rateLimitsText({
        rateLimits: {},
        rateLimitsByLimitId: { codex: { limitId: 'codex', primary: { usedPercent: 99.6, windowDurationMins: 10080 }, rateLimitReachedType: 'rate_limit_reached' } },
      }),
    ).toBe('codex: window of 7 d 100% used — reached (rate_limit_reached)');
  });

  it('a thread line shows the name, else the preview, else the conversation', () => {
    expect(threadLine({ id: 't1', name: 'lab/chat/main', preview: 'hi', updatedAt: 1_800_000_000 }, 'x')).toBe('  t1  lab/chat/main  (updated 2027-01-15 08:00 UTC)');
    expect(threadLine({ id: 't2', name: null, preview: `two\nlines${evil}` }, 'x')).toBe('  t2  two linesx]52;c;cHduZWQ=y[2Jz');
    expect(threadLine({ id: 't3' }, 'lab/chat/side')).toBe('  t3  lab/chat/side');
  });
});

describe('review targets', () => {
  it('map to the schema target types', () => {
    expect(parseReviewArgs('')).toEqual({ type: 'uncommittedChanges' });
    expect(parseReviewArgs(' --base release/2.0 ')).toEqual({ type: 'baseBranch', branch: 'release/2.0' });
    expect(parseReviewArgs('--commit 0A1B2C3 Fix the parser')).toEqual({ type: 'commit', sha: '0A1B2C3', title: 'Fix the parser' });
    expect(parseReviewArgs('--commit abcdef')).toEqual({ type: 'commit', sha: 'abcdef' });
    expect(parseReviewArgs('check the\nerror handling')).toEqual({ type: 'custom', instructions: 'check the\nerror handling' });
    expect(parseReviewArgs(`be strict${'\u0000'}`)).toEqual({ type: 'custom', instructions: 'be strict' });
  });

  it('refuse what does not fit, with the usage', () => {
    for (const bad of ['--base', '--base -x', '--base a..b', '--base a b', '--commit', '--commit xyz', '--commit 12', '--branch main']) {
      expect(() => parseReviewArgs(bad), bad).toThrow(/usage: \/codex review/);
    }
    expect(() => parseReviewArgs('x'.repeat(4001))).toThrow(/limited to 4000 characters/);
  });

  it('read back in words', () => {
    expect(describeReviewTarget({ type: 'uncommittedChanges' })).toBe('the uncommitted changes');
    expect(describeReviewTarget({ type: 'baseBranch', branch: 'main' })).toBe('the changes against main');
    expect(describeReviewTarget({ type: 'commit', sha: 'abc123', title: 'Fix' })).toBe('commit abc123 (Fix)');
    expect(describeReviewTarget({ type: 'custom', instructions: 'look\nhere' })).toBe('"look here"');
  });
});

describe('thread pages', () => {
  it('remembers the next page per conversation, forgets a finished listing and the oldest beyond its bound', () => {
    const pages = new ThreadPages(2);
    pages.set('a', { filter: '', cursor: 'c1' });
    pages.set('b', { filter: 'x', cursor: 'c2' });
    pages.set('c', { filter: '', cursor: 'c3' });
    expect(pages.get('a')).toBeUndefined();
    expect(pages.get('b')).toEqual({ filter: 'x', cursor: 'c2' });
    pages.set('b', undefined);
    expect(pages.get('b')).toBeUndefined();
  });
});
