// After a host restart: which of a conversation's inbox messages Codex already has. Every
// `turn/start` and `turn/steer` carries the inbox entry's id as `clientUserMessageId`, and Codex
// keeps it on the thread's `userMessage` item as `clientId`; a message found there was taken
// before the host died and must not be sent again.
import { z } from 'zod';
import type { Logger } from 'pino';
import type { SessionConnection } from '../turn/runtime.js';

/** Recent turns searched: a cut-off message is in the last turn or two; a few more for steered input. */
const TURNS_SEARCHED = 5;

const TurnsPageSchema = z.looseObject({
  data: z
    .array(
      z.looseObject({
        id: z.string().min(1).max(200),
        items: z.array(z.looseObject({ type: z.string(), clientId: z.string().max(200).nullable().optional() })).catch([]),
      }),
    )
    .max(100),
});

/** clientId → the turn that took it, from the thread's last turns (full items). */
export async function messagesCodexTook(conn: Pick<SessionConnection, 'request'>, threadId: string): Promise<Map<string, string>> {
  const raw = await conn.request('thread/turns/list', { threadId, limit: TURNS_SEARCHED, sortDirection: 'desc', itemsView: 'full' });
  const page = TurnsPageSchema.parse(raw);
  const took = new Map<string, string>();
  for (const turn of page.data) {
    for (const item of turn.items) if (item.type === 'userMessage' && item.clientId) took.set(item.clientId, turn.id);
  }
  return took;
}

/** The lookup the inbox recovery uses: an empty map when the thread is unknown or Codex cannot say (the message runs again, as before). */
export function tookLookup(
  threadOf: (session: string) => Promise<string | undefined>,
  conn: (session: string) => Pick<SessionConnection, 'request'>,
  log: Logger,
): (session: string) => Promise<{ threadId: string | undefined; took: Map<string, string> }> {
  return async (session) => {
    const threadId = await threadOf(session).catch(() => undefined);
    if (!threadId) return { threadId, took: new Map() };
    try {
      return { threadId, took: await messagesCodexTook(conn(session), threadId) };
    } catch (err) {
      log.warn({ err: (err as Error).message, session, threadId }, 'could not check which messages Codex took before the restart');
      return { threadId, took: new Map() };
    }
  };
}
