// Which room events become durable history records of the room thread.
import type { RoomEvent } from '../events/room-events.js';
import type { HistoryRecord, InboxMessage } from '../storage/types.js';

/** The room event of an accepted message: the verified author (role included), never the host's claims about others. */
export function postedEvent(session: string, messageId: string, msg: InboxMessage, at: number): Extract<RoomEvent, { type: 'message.posted' }> {
  const { id, name, role } = msg.from;
  return {
    type: 'message.posted',
    session,
    at,
    messageId,
    from: { id, ...(name !== undefined ? { name } : {}), ...(role !== undefined ? { role } : {}) },
    text: msg.text,
    attachments: msg.attachments?.length ?? 0,
  };
}

export function recordOf(e: RoomEvent): HistoryRecord | undefined {
  switch (e.type) {
    case 'message.posted':
      return { kind: 'message', role: 'user', author: { id: e.from.id, ...(e.from.name !== undefined ? { name: e.from.name } : {}) }, text: e.text };
    case 'message.completed':
      return { kind: 'message', role: 'assistant', text: e.text, turnId: e.turnId, ...(e.partial ? { partial: true as const } : {}) };
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
