// A timestamp: local time of day (with seconds where order matters), the full date on hover.
// The formatters are built once: Date#toLocale*String builds one per call, which shows up
// when a streaming message re-renders every frame.
import { useMemo } from 'preact/hooks';

const DAY_TIME = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const DAY_TIME_S = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const FULL = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

export function Time({ at, seconds = false }: { at: number; seconds?: boolean }) {
  // A streaming message re-renders often; its time does not change.
  const parts = useMemo(() => {
    if (!Number.isFinite(at) || at <= 0) return undefined;
    const d = new Date(at);
    return { iso: d.toISOString(), full: FULL.format(d), short: (seconds ? DAY_TIME_S : DAY_TIME).format(d) };
  }, [at, seconds]);
  if (!parts) return null;
  return (
    <time class="time" dateTime={parts.iso} title={parts.full}>
      {parts.short}
    </time>
  );
}
