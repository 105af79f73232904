// The connection's retry policy as pure functions of its config, failures and a clock
// reading: the connection machine's guards, actions and delays call them.
import type { TransportExit } from '../transport/types.js';

export interface ConnectionConfig {
  minVersion: string;
  /** `warn` accepts older/unversioned servers (forks) with a warning. */
  versionPolicy: 'enforce' | 'warn';
  handshakeTimeoutMs: number;
  stopTimeoutMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** 0..1: fraction of random spread added to each backoff delay. */
  jitter: number;
  /** This many failures within `failureWindowMs` end the fast retries: the connection is degraded. */
  maxFailures: number;
  failureWindowMs: number;
  /** Degraded: the first slow retry waits this long, each next one twice as long… */
  degradedBackoffBaseMs: number;
  /** …up to this cap (jitter included). */
  degradedBackoffMaxMs: number;
}

export const defaultConnectionConfig: ConnectionConfig = {
  minVersion: '0.118.0',
  versionPolicy: 'enforce',
  handshakeTimeoutMs: 20_000,
  stopTimeoutMs: 5_000,
  backoffBaseMs: 250,
  backoffMaxMs: 15_000,
  jitter: 0.2,
  maxFailures: 5,
  failureWindowMs: 60_000,
  degradedBackoffBaseMs: 1_000,
  degradedBackoffMaxMs: 60_000,
};

/** Time for the failure window and randomness for the backoff jitter (injected: simulations use their own). */
export interface ConnectionClock {
  now(): number;
  /** 0..1, for the backoff jitter. */
  random(): number;
}

export const failureExit = (reason: string): TransportExit => ({ kind: 'error', retryable: true, reason });

/** What pending calls and listeners are told when a live transport is dropped without a close of its own. */
export const restartExit: TransportExit = { kind: 'closed', retryable: true, reason: 'app-server connection restarting' };

/** Failures still inside the window at `now`. */
function recentFailures(failures: number[], now: number, windowMs: number): number[] {
  return failures.filter((t) => t >= now - windowMs);
}

/** One more failure now would reach `maxFailures` within the window. */
export function tooManyFailures(failures: number[], now: number, config: ConnectionConfig): boolean {
  return recentFailures(failures, now, config.failureWindowMs).length + 1 >= config.maxFailures;
}

/** The failures of the window, plus one now. */
export function withFailure(failures: number[], now: number, config: ConnectionConfig): number[] {
  return [...recentFailures(failures, now, config.failureWindowMs), now];
}

/** Exponential backoff from the failures so far, capped, with up to `jitter` random spread (random in 0..1). */
export function restartDelay(config: ConnectionConfig, failures: number, random: number): number {
  const { backoffBaseMs, backoffMaxMs, jitter } = config;
  const n = Math.max(0, failures - 1);
  const base = Math.min(backoffMaxMs, backoffBaseMs * 2 ** n);
  return Math.round(base * (1 + jitter * random));
}

/** The wait before degraded retry number `attempt` (1-based): doubling from the base, with jitter, never above the cap. */
export function degradedDelay(config: ConnectionConfig, attempt: number, random: number): number {
  const { degradedBackoffBaseMs, degradedBackoffMaxMs, jitter } = config;
  const base = degradedBackoffBaseMs * 2 ** Math.min(30, Math.max(0, attempt - 1));
  return Math.min(degradedBackoffMaxMs, Math.round(base * (1 + jitter * random)));
}

/** A degraded connection: the fast retries are spent; it keeps trying on the slow schedule. */
export interface Outage {
  /** When the connection became degraded (clock ms). */
  since: number;
  /** Slow retries scheduled so far (the next one is number `attempts`). */
  attempts: number;
  /** Why: the failure count and the last exit. */
  reason: string;
  /** The wait before the next retry, and when it is due (clock ms). */
  delayMs: number;
  retryAt: number;
}

/** The outage after one more failure at `now`: a new one, or the next attempt of `previous`. */
export function nextOutage(previous: Outage | undefined, config: ConnectionConfig, last: TransportExit | undefined, now: number, random: number): Outage {
  const attempts = (previous?.attempts ?? 0) + 1;
  const lastReason = last?.reason ?? 'unknown';
  const reason = previous
    ? `app-server still unavailable after ${previous.attempts} slow ${previous.attempts === 1 ? 'retry' : 'retries'}; last: ${lastReason}`
    : `app-server failed ${config.maxFailures} times within ${config.failureWindowMs} ms; last: ${lastReason}`;
  const delayMs = degradedDelay(config, attempts, random);
  return { since: previous?.since ?? now, attempts, reason, delayMs, retryAt: now + delayMs };
}
