// The connection's retry policy as pure functions: fast restarts bounded by a window, then a
// slow, capped schedule that never gives up on a transient fault.
import { describe, expect, it } from 'vitest';
import { defaultConnectionConfig, degradedDelay, nextOutage, tooManyFailures, withFailure } from '../../../src/connection/policy.js';

const cfg = { ...defaultConnectionConfig, jitter: 0 };
const exit = (reason: string) => ({ kind: 'exit' as const, retryable: true, reason });

describe('connection retry policy', () => {
  it('the fifth failure inside the window ends the fast restarts; old failures leave the window', () => {
    let failures: number[] = [];
    for (const t of [0, 1_000, 2_000, 3_000]) {
      expect(tooManyFailures(failures, t, cfg)).toBe(false);
      failures = withFailure(failures, t, cfg);
    }
    expect(tooManyFailures(failures, 4_000, cfg)).toBe(true);
    // A minute later the first ones no longer count.
    expect(tooManyFailures(failures, 61_500, cfg)).toBe(false);
    expect(withFailure(failures, 61_500, cfg)).toEqual([2_000, 3_000, 61_500]);
  });

  it('degraded retries double from the base up to the 60 s cap by default, and the cap holds with jitter', () => {
    expect(defaultConnectionConfig.degradedBackoffMaxMs).toBe(60_000);
    expect([1, 2, 3, 4, 5, 6, 7, 8, 40].map((n) => degradedDelay(cfg, n, 0))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    const jittered = { ...cfg, jitter: 0.2 };
    expect(degradedDelay(jittered, 1, 1)).toBe(1_200);
    expect(degradedDelay(jittered, 7, 1)).toBe(60_000);
    expect(degradedDelay({ ...cfg, degradedBackoffBaseMs: 500, degradedBackoffMaxMs: 5_000 }, 5, 0)).toBe(5_000);
  });

  it('an outage keeps its start, counts its attempts and says why, with the retry time it will really use', () => {
    const first = nextOutage(undefined, cfg, exit('connect ECONNREFUSED 127.0.0.1:4500'), 10_000, 0);
    expect(first).toEqual({
      since: 10_000,
      attempts: 1,
      reason: 'app-server failed 5 times within 60000 ms; last: connect ECONNREFUSED 127.0.0.1:4500',
      delayMs: 1_000,
      retryAt: 11_000,
    });
    const second = nextOutage(first, cfg, exit('connect ECONNREFUSED 127.0.0.1:4500'), 11_050, 0);
    expect(second).toEqual({
      since: 10_000,
      attempts: 2,
      reason: 'app-server still unavailable after 1 slow retry; last: connect ECONNREFUSED 127.0.0.1:4500',
      delayMs: 2_000,
      retryAt: 13_050,
    });
    expect(nextOutage(second, cfg, undefined, 13_100, 0).reason).toBe('app-server still unavailable after 2 slow retries; last: unknown');
  });
});
