// `/budget` amounts as people write them, and the per-conversation options file: persisted,
// validated on load, spent tokens counted against the budget.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConversationOptions, MAX_BUDGET, parseTokenAmount, tokenAmountText } from '../../../src/supervisor/conversation-options.js';
import { budgetCommand, effortCommand, type TurnOptionHost } from '../../../src/supervisor/turn-option-commands.js';
import { memoryLogger } from '../../support/log.js';

describe('parseTokenAmount', () => {
  it.each([
    ['200k', 200_000],
    ['200K', 200_000],
    ['1.5m', 1_500_000],
    ['0.2k', 200],
    ['500000', 500_000],
    ['2_000', 2_000],
    ['1,000,000', 1_000_000],
    [' 3 k ', 3_000],
  ])('%s → %i tokens', (text, tokens) => {
    expect(parseTokenAmount(text)).toEqual({ ok: true, tokens });
  });

  it.each([
    ['lots', /"lots" is not a token amount/],
    ['-5k', /not a token amount/],
    ['1e6', /not a token amount/],
    ['5g', /not a token amount/],
    ['', /not a token amount/],
    ['0', /at least 1 token/],
    ['0.0001k', /at least 1 token/],
    ['2000000m', /at most 1,000,000,000,000 tokens/],
  ])('%j is refused', (text, why) => {
    const r = parseTokenAmount(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(why);
  });

  it('shows budgets the way they are written', () => {
    expect([200_000, 1_500_000, 200, 1_234, MAX_BUDGET].map(tokenAmountText)).toEqual(['200k', '1.5m', '200', '1,234', '1000000m']);
  });
});

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function options() {
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-options-'));
  dirs.push(dir);
  const file = path.join(dir, 'conversation-options.json');
  const make = () => {
    const o = new ConversationOptions(file, memoryLogger('info').log);
    o.load();
    return o;
  };
  return { file, make };
}

describe('ConversationOptions', () => {
  it('persists effort and budget per conversation; spending crosses the budget once', async () => {
    const { make } = options();
    const o = make();
    await o.setEffort('lab/chat/main', 'high');
    await o.setBudget('lab/chat/main', 200);
    expect(await o.spend('lab/chat/main', 150)).toBe(false);
    expect(await o.spend('lab/chat/other', 150)).toBe(false); // no budget there: nothing counted
    expect(await o.spend('lab/chat/main', 150)).toBe(true);
    expect(await o.spend('lab/chat/main', 10)).toBe(false); // already spent: said once
    expect(o.exhausted('lab/chat/main')).toBe(true);
    const again = make();
    expect(again.effortOf('lab/chat/main')).toBe('high');
    expect(again.budgetOf('lab/chat/main')).toEqual({ limit: 200, spent: 310 });
    expect(again.budgetOf('lab/chat/other')).toBeUndefined();
    // Raising keeps what was spent; off removes it; an empty entry leaves the file.
    await again.setBudget('lab/chat/main', 1_000);
    expect(again.exhausted('lab/chat/main')).toBe(false);
    await again.setBudget('lab/chat/main', undefined);
    await again.setEffort('lab/chat/main', undefined);
    expect(make().budgetOf('lab/chat/main')).toBeUndefined();
  });

  it('a fork inherits effort and budget (limit and spent); a source without options leaves the fork without', async () => {
    const { make } = options();
    const o = make();
    await o.setEffort('a', 'low');
    await o.setBudget('a', 100);
    await o.spend('a', 40);
    await o.inherit('a', 'a-fork');
    await o.inherit('none', 'none-fork');
    const again = make();
    expect([again.effortOf('a-fork'), again.budgetOf('a-fork')]).toEqual(['low', { limit: 100, spent: 40 }]);
    expect([again.effortOf('none-fork'), again.budgetOf('none-fork')]).toEqual([undefined, undefined]);
  });

  it('a corrupt file is an error naming it, never an empty set of budgets', () => {
    const { file, make } = options();
    writeFileSync(file, JSON.stringify({ schemaVersion: 1, conversations: { s: { budget: { limit: -1, spent: 0 } } } }));
    expect(() => make()).toThrow(/conversation options .* are corrupt/);
    writeFileSync(file, '{not json');
    expect(() => make()).toThrow(/corrupt/);
    expect(readFileSync(file, 'utf8')).toBe('{not json');
  });
});

describe('/effort and /budget', () => {
  function host(owner = 'ann') {
    const { make } = options();
    const said: string[] = [];
    const h: TurnOptionHost = { options: make(), notice: (_level, text) => void said.push(text), owner, approvers: ['vic'] };
    return { h, said };
  }
  const session = 'lab/chat/main';

  it('/effort: a bad value lists the choices; a member who is not the owner is refused', async () => {
    const { h, said } = host();
    await effortCommand(h, { session, from: { id: 'ann' } }, ['max']);
    await effortCommand(h, { session, from: { id: 'bob', role: 'member' } }, ['low']);
    await effortCommand(h, { session, from: { id: 'vic', role: 'member' } }, ['LOW']);
    await effortCommand(h, { session, from: { id: 'bob', role: 'member' } }, []);
    expect(said).toEqual([
      'Unknown reasoning effort "max": choose low, medium, high or default.',
      expect.stringMatching(/^\/effort was not run: only the session owner \(ann\), approvers \(vic\) and room owners\/approvers may run it/),
      'Reasoning effort set to low from the next turn.',
      'Reasoning effort: low. Change it with /effort low|medium|high|default.',
    ]);
  });

  it('/budget: only the conversation owner or a room owner; approvers and observers may not', async () => {
    const { h, said } = host();
    await budgetCommand(h, { session, from: { id: 'vic', role: 'approver' } }, ['1m']);
    await budgetCommand(h, { session, from: { id: 'ann', role: 'observer' } }, ['1m']);
    await budgetCommand(h, { session, from: { id: 'rita', role: 'owner' } }, ['1m']);
    await budgetCommand(h, { session, from: { id: 'ann' } }, ['off']);
    expect(said).toEqual([
      expect.stringMatching(/^\/budget was not run: only the conversation's owner \(ann\) or a room owner/),
      expect.stringMatching(/^\/budget was not run/),
      'Token budget set to 1m (0 spent so far).',
      'Token budget removed: turns run without a cap.',
    ]);
  });
});
