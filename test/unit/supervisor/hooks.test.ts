import { describe, expect, it } from 'vitest';
import { Hooks } from '../../../src/hooks/hooks.js';
import { memoryLogger } from '../../support/log.js';

describe('hooks', () => {
  it('rewrite hooks chain in order', async () => {
    const h = new Hooks();
    h.on('before_prompt_build', ({ prompt }) => ({ prompt: `${prompt}!` }));
    h.on('before_prompt_build', ({ prompt }) => ({ prompt: prompt.toUpperCase() }));
    const out = await h.run('before_prompt_build', { session: 's', from: { id: 'u' }, prompt: 'hi' });
    expect(out.prompt).toBe('HI!');
  });

  it('a throwing hook is logged and skipped; the others still apply', async () => {
    const { log, records } = memoryLogger();
    const h = new Hooks(log);
    h.on('before_message_write', () => {
      throw new Error('plugin bug');
    });
    h.on('before_message_write', async () => ({ block: true }));
    const out = await h.run('before_message_write', { session: 's', record: { kind: 'model', model: 'm' } });
    expect(out.block).toBe(true);
    expect(h.failures).toBe(1);
    expect(records().some((r) => r.msg === 'hook threw; ignored' && r.hook === 'before_message_write')).toBe(true);
  });

  it('tool_result hooks are awaited and may post-process the result', async () => {
    const h = new Hooks();
    h.on('tool_result', async ({ result }) => {
      await new Promise((r) => setTimeout(r, 5));
      return { result: { ...result, contentItems: [...result.contentItems, { type: 'inputText', text: '(checked)' }] } };
    });
    const out = await h.run('tool_result', { session: 's', turnId: 't', tool: 'x', arguments: {}, result: { contentItems: [], success: true } });
    expect(out.result.contentItems).toEqual([{ type: 'inputText', text: '(checked)' }]);
  });

  it('unsubscribe removes a handler; unknown hook names are refused', async () => {
    const h = new Hooks();
    const off = h.on('llm_output', () => ({ text: 'changed' }));
    off();
    expect(h.has('llm_output')).toBe(false);
    expect(() => h.on('nope' as never, () => {})).toThrow(/unknown hook "nope"/);
  });
});
