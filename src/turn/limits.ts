// Turn timing defaults, kept free of imports so the config schema can use them.

/** Node timers fire at once above this (2^31-1 ms); every timeout setting is capped at it. */
export const MAX_TIMER_MS = 2_147_483_647;
/**
 * How long `turn/start` may go unanswered. Codex answers it as soon as the turn is accepted
 * (before the model runs), so a long silence means the request was dropped (e.g. a lone
 * surrogate in 0.169.0), not that the model is slow.
 */
export const DEFAULT_START_TIMEOUT_MS = 30_000;
