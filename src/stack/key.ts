// The conversation key, computed here only: `room/channel/thread`, plus `/@participant`
// when every participant has a session of their own.
import { conversationKeyString } from '../events/room-events.js';

export function conversationKey(m: { room: string; channel: string; thread: string; from: { id: string } }, perParticipant: boolean): string {
  const base = conversationKeyString(m);
  return perParticipant ? `${base}/@${m.from.id}` : base;
}
