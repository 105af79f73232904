// Conversation keys: `room/channel/thread`, plus `/@participant` when every participant has a
// session of their own (src/events/room-events.ts conversationKey).
import type { Conversation } from './types.js';

export interface KeyParts {
  room: string;
  channel: string;
  thread: string;
  participant: string | undefined;
}

export function parseKey(key: string): KeyParts {
  const [room = '', channel = 'chat', thread = 'main', rest] = key.split('/');
  return { room, channel, thread, participant: rest?.startsWith('@') ? rest.slice(1) : undefined };
}

/**
 * The key the page files a session under: this participant's own per-participant session is
 * their view of the shared thread (they post to `room/channel/thread` and the answer comes
 * back under `/@them`), so it is shown as that thread.
 */
export function viewKey(session: string, me: string | undefined): string {
  if (me === undefined || !session.includes('/@')) return session; // every delta passes here
  const p = parseKey(session);
  if (p.participant === me) return `${p.room}/${p.channel}/${p.thread}`;
  return session;
}

export const keyOf = (room: string, channel: string, thread: string): string => `${room}/${channel}/${thread}`;

export function emptyConversation(key: string): Conversation {
  const p = parseKey(key);
  return { key, channel: p.channel, thread: p.thread, participant: p.participant, entries: [], index: {}, lastTurn: undefined, model: undefined, lastAt: 0 };
}

/** A label for the threads list: `chat/main`, `chat/main @bob`. */
export function threadLabel(c: Pick<Conversation, 'channel' | 'thread' | 'participant'>): string {
  return `${c.channel}/${c.thread}${c.participant ? ` @${c.participant}` : ''}`;
}

/** The agent's name as the room lists it ("Agent" while no agent is present). */
export function agentNameOf(participants: ReadonlyArray<{ id: string; name: string | undefined; role: string }>): string {
  const a = participants.find((p) => p.role === 'agent');
  return a ? (a.name ?? a.id) : 'Agent';
}

/** One line of the threads list: what it shows, nothing that changes with every delta. */
export interface ThreadSummary {
  key: string;
  label: string;
  running: boolean;
}

/** The threads list, newest activity first. */
export function threadSummaries(conversations: Record<string, Conversation>): ThreadSummary[] {
  return Object.values(conversations)
    .sort((a, b) => b.lastAt - a.lastAt || a.key.localeCompare(b.key))
    .map((c) => ({ key: c.key, label: threadLabel(c), running: turnStatus(c) === 'running' }));
}

/** The status of a conversation's newest turn (undefined: no turn yet). */
export function turnStatus(c: Conversation | undefined): string | undefined {
  const i = c?.lastTurn !== undefined ? c.index[`turn:${c.lastTurn}`] : undefined;
  const t = i !== undefined ? c?.entries[i] : undefined;
  return t?.kind === 'turn' ? t.status : undefined;
}

/** Same content, field by field: the threads list need not be drawn again. */
export const sameSummaries = (a: ThreadSummary[], b: ThreadSummary[]): boolean =>
  a.length === b.length && a.every((x, i) => x.key === b[i]!.key && x.label === b[i]!.label && x.running === b[i]!.running);
