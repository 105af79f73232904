// A timestamp: local time of day (with seconds where order matters), the full date on hover.
export function Time({ at, seconds = false }: { at: number; seconds?: boolean }) {
  if (!Number.isFinite(at) || at <= 0) return null;
  const d = new Date(at);
  return (
    <time class="time" dateTime={d.toISOString()} title={d.toLocaleString()}>
      {d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', ...(seconds ? { second: '2-digit' } : {}) })}
    </time>
  );
}
