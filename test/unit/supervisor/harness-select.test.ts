import { describe, expect, it } from 'vitest';
import { HarnessSelectionError, selectHarness, type HarnessProbe } from '../../../src/harness/select.js';

const harness = (id: string, opts: { down?: string; models?: (m: string | undefined) => boolean } = {}): HarnessProbe => ({
  id,
  available: () => (opts.down ? { ok: false, reason: opts.down } : { ok: true }),
  supports: (m) => ({ ok: opts.models ? opts.models(m) : true, reason: opts.models ? `claims ${m}` : 'any model' }),
});
const reg = (...hs: HarnessProbe[]) => new Map(hs.map((h) => [h.id, h]));

describe('harness selection matrix', () => {
  it('forced codex', () => {
    const s = selectHarness({ runtime: 'codex', fallback: 'none', model: 'openai/gpt-5.5', harnesses: reg(harness('codex'), harness('pi')) });
    expect(s).toMatchObject({ harness: 'codex', reason: 'forced by config (runtime: codex)', pinned: false });
  });

  it('forced codex, fallback none, codex missing → fails early with a clear message', () => {
    expect(() => selectHarness({ runtime: 'codex', fallback: 'none', model: undefined, harnesses: reg(harness('pi')) })).toThrow(
      'runtime "codex" is forced with fallback none, but it cannot serve: codex: harness "codex" is not registered',
    );
  });

  it('forced codex, fallback none, app-server too old → the version reason is in the message', () => {
    const err = (() => {
      try {
        selectHarness({
          runtime: 'codex',
          fallback: 'none',
          model: undefined,
          harnesses: reg(harness('codex', { down: 'Codex app-server 0.118.0 or newer is required, found 0.100.0' })),
        });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(HarnessSelectionError);
    expect((err as Error).message).toMatch(/found 0.100.0/);
  });

  it('forced codex with fallback pi → pi, saying why', () => {
    const s = selectHarness({ runtime: 'codex', fallback: 'pi', model: undefined, harnesses: reg(harness('codex', { down: 'cannot start: binary not found' }), harness('pi')) });
    expect(s.harness).toBe('pi');
    expect(s.reason).toBe('fallback "pi": cannot start: binary not found');
  });

  it('auto: legacy codex/* refs pick codex; others go to the first harness that claims the model', () => {
    const hs = reg(harness('pi', { models: (m) => !!m && !m.startsWith('codex/') }), harness('codex', { models: (m) => !!m && m.startsWith('openai/') }));
    expect(selectHarness({ runtime: 'auto', fallback: 'none', model: 'codex/gpt-5.5', harnesses: hs }).harness).toBe('codex');
    expect(selectHarness({ runtime: 'auto', fallback: 'none', model: 'anthropic/opus', harnesses: hs }).harness).toBe('pi');
  });

  it('auto with nothing claiming the model and fallback none fails', () => {
    const hs = reg(harness('codex', { models: () => false }));
    expect(() => selectHarness({ runtime: 'auto', fallback: 'none', model: 'x/y', harnesses: hs })).toThrow(/no harness can serve model "x\/y"/);
  });

  it('a pinned session keeps its harness even if config now says otherwise', () => {
    const s = selectHarness({ runtime: 'pi', fallback: 'none', model: undefined, pinned: 'codex', harnesses: reg(harness('codex'), harness('pi')) });
    expect(s).toMatchObject({ harness: 'codex', pinned: true });
    expect(s.reason).toMatch(/pinned/);
  });
});
