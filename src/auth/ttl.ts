// Token lifetimes as a person writes them: 90s, 30m, 12h, 7d (or plain seconds).
const UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
export const MAX_TTL_SECONDS = 366 * 86_400;

/** Seconds, or undefined when `v` is not a duration in (0, MAX_TTL_SECONDS]. */
export function parseTtl(v: string): number | undefined {
  const m = /^(\d{1,9})([smhdw]?)$/.exec(v.trim());
  if (!m) return undefined;
  const s = Number(m[1]) * UNIT[m[2] || 's']!;
  return s > 0 && s <= MAX_TTL_SECONDS ? s : undefined;
}
