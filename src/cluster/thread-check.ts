// After a takeover: did the node that died already hand a reclaimed message to Codex? The
// conversation's Codex thread answers (thread/read with its turns): its last turn carries the
// message's clientUserMessageId (as the user item's `clientId`), or at least its exact text.
import { z } from 'zod';
import type { QueuedMessage } from '../storage/cluster.js';

/** The id a driver sends as `clientUserMessageId` on turn/start and turn/steer for an inbox entry. */
export function clientUserMessageIdOf(entry: Pick<QueuedMessage, 'id'>): string {
  return entry.id;
}

// Only what the check reads; the rest of Codex's answer is ignored (and untrusted).
const UserItem = z.looseObject({
  type: z.literal('userMessage'),
  clientId: z.string().max(200).nullish(),
  content: z.array(z.looseObject({ type: z.string(), text: z.string().max(1_000_000).optional() })).max(1000),
});
const ThreadRead = z.looseObject({
  thread: z.looseObject({ turns: z.array(z.looseObject({ items: z.array(z.unknown()).max(100_000).optional() })).max(100_000).optional() }),
});

export type ThreadReader = (threadId: string) => Promise<unknown>;

/** True when the thread's last turn took `entry` (by its client id, else by its exact text). */
export async function sentAlready(read: ThreadReader, threadId: string, entry: QueuedMessage): Promise<boolean> {
  const parsed = ThreadRead.safeParse(await read(threadId));
  if (!parsed.success) throw new Error(`thread/read of ${threadId} answered in an unexpected shape`);
  const last = parsed.data.thread.turns?.at(-1);
  if (!last) return false;
  const id = clientUserMessageIdOf(entry);
  const text = entry.message.text.trim();
  for (const raw of last.items ?? []) {
    const item = UserItem.safeParse(raw);
    if (!item.success) continue;
    if (item.data.clientId === id) return true;
    // A speaker prefix ("Ann: ") may precede the text Codex was given.
    const said = item.data.content.map((c) => (c.type === 'text' ? (c.text ?? '') : '')).join('').trim();
    if (said === text || said.endsWith(`: ${text}`)) return true;
  }
  return false;
}
