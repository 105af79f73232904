// Turn timing defaults, kept free of imports so the config schema and the machines can use them.

/** Node timers fire at once above this (2^31-1 ms); every timeout setting is capped at it. */
export const MAX_TIMER_MS = 2_147_483_647;
/**
 * How long `turn/start` may go unanswered. Codex answers it as soon as the turn is accepted
 * (before the model runs), so a long silence means the request was dropped (e.g. a lone
 * surrogate in 0.169.0), not that the model is slow.
 */
export const DEFAULT_START_TIMEOUT_MS = 30_000;
/** No notification for this long → interrupt and fail with a "no progress" notice. */
export const DEFAULT_WATCHDOG_MS = 300_000;
/** How long to wait for `turn/completed` after `turn/interrupt` before escalating. */
export const DEFAULT_INTERRUPT_WAIT_MS = 10_000;
/** Pause between interrupt attempts while Codex has not registered the turn yet. */
export const INTERRUPT_RETRY_MS = 100;
