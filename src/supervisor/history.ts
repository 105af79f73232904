// Which room events become durable history records of the room thread.
import type { RoomEvent } from '../events/room-events.js';
import type { HistoryRecord } from '../storage/types.js';

export function recordOf(e: RoomEvent): HistoryRecord | undefined {
  switch (e.type) {
    case 'message.completed':
      return { kind: 'message', role: 'assistant', text: e.text, turnId: e.turnId };
    case 'tool.completed':
      return { kind: 'tool', toolId: e.toolId, toolKind: e.kind, title: e.title, status: e.status, turnId: e.turnId, data: e.data };
    case 'approval.resolved':
      return { kind: 'approval', approvalId: e.approvalId, outcome: e.outcome, decision: e.decision, by: e.by, reason: e.reason };
    case 'notice':
      return { kind: 'notice', level: e.level, text: e.text };
    case 'turn.completed':
      return { kind: 'turn', turnId: e.turnId, status: 'completed' };
    case 'turn.interrupted':
      return { kind: 'turn', turnId: e.turnId, status: 'interrupted', error: e.reason };
    case 'turn.failed':
      return { kind: 'turn', turnId: e.turnId ?? 'unknown', status: 'failed', error: e.error };
    default:
      return undefined; // deltas, tool starts/updates, usage, prompts: live only
  }
}
