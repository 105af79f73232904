// `before_compaction` / `after_compaction` around Codex's actual compaction: the `compaction`
// card of a turn (the `contextCompaction` item) starts and completes, whether `/codex compact`
// asked for it or Codex compacted by itself in the middle of a turn.
import type { RoomEvent } from '../events/room-events.js';
import type { Hooks } from '../hooks/hooks.js';

export function fireCompactionHooks(e: RoomEvent, hooks: Hooks, threadOf: (session: string) => string | undefined): void {
  if ((e.type !== 'tool.started' && e.type !== 'tool.completed') || e.kind !== 'compaction') return;
  const base = { session: e.session, threadId: threadOf(e.session) ?? '', turnId: e.turnId };
  if (e.type === 'tool.started') hooks.emit('before_compaction', base);
  else hooks.emit('after_compaction', { ...base, status: e.status ?? 'completed' });
}
