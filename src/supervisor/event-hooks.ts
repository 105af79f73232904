// The hooks that room events fire, with the data each carries.
// `before_compaction` / `after_compaction` go around Codex's actual compaction: the
// `compaction` card of a turn (the `contextCompaction` item) starts and completes, whether
// `/codex compact` asked for it or Codex compacted by itself in the middle of a turn.
import type { RoomEvent } from '../events/room-events.js';
import type { Hooks } from '../hooks/hooks.js';

export function fireEventHooks(e: RoomEvent, hooks: Hooks, threadOf: (session: string) => string | undefined): void {
  switch (e.type) {
    case 'message.completed':
      hooks.emit('llm_output', { session: e.session, threadId: threadOf(e.session) ?? '', turnId: e.turnId, text: e.text });
      break;
    case 'tool.started':
      if (e.kind === 'compaction') hooks.emit('before_compaction', { session: e.session, threadId: threadOf(e.session) ?? '', turnId: e.turnId });
      break;
    case 'tool.completed':
      if (e.kind === 'compaction') hooks.emit('after_compaction', { session: e.session, threadId: threadOf(e.session) ?? '', turnId: e.turnId, status: e.status ?? 'completed' });
      hooks.emit('after_tool_call', { session: e.session, turnId: e.turnId, toolId: e.toolId, kind: e.kind, data: e.data });
      break;
    case 'turn.completed':
    case 'turn.failed':
    case 'turn.interrupted':
      hooks.emit('agent_end', {
        session: e.session,
        threadId: e.threadId ?? '',
        turnId: e.turnId ?? '',
        status: e.type.slice('turn.'.length),
        error: e.type === 'turn.failed' ? e.error : undefined,
      });
      break;
  }
}
