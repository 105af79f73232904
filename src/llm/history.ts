// The room thread's stored history as the `input` of a Responses-API request: the user and
// assistant messages since the conversation's last `/new` or `/reset`, newest kept when bounded.
// Whatever backend answered a turn (Codex or llm), its answer is in the same history.
import type { StoredRecord } from '../storage/types.js';
import { cleanMessageText } from '../attachments/text.js';
import { parseCommand } from '../session/types.js';

export interface InputMessage {
  role: 'user' | 'assistant';
  content: string;
}

/** A message of the turn being started: already recorded (posted), so not history. */
export interface BatchMessage {
  from: { id: string };
  text: string;
}

/** Cap on the characters of history sent with one turn (the newest messages are kept). */
export const MAX_HISTORY_CHARS = 400_000;

/** The records after the last reset marker (`/new`, `/reset` write an `(unpinned)` harness record). */
function sinceReset(records: readonly StoredRecord[]): readonly StoredRecord[] {
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i]!;
    if (r.kind === 'harness' && r.harness === '(unpinned)') return records.slice(i + 1);
  }
  return records;
}

/**
 * The batch's own posted records are left out (they are sent as the turn's new input): for each,
 * the newest user record by its author with its text, else (a before_prompt_build hook rewrote
 * the prompt) the newest by its author not yet left out.
 */
function withoutBatch(messages: Array<StoredRecord & { kind: 'message' }>, batch: readonly BatchMessage[]): typeof messages {
  const out = new Set<number>();
  for (const b of [...batch].reverse()) {
    const byAuthor = (i: number) => messages[i]!.role === 'user' && messages[i]!.author?.id === b.from.id && !out.has(i);
    let found = -1;
    for (let i = messages.length - 1; i >= 0 && found < 0; i--) if (byAuthor(i) && messages[i]!.text === b.text) found = i;
    for (let i = messages.length - 1; i >= 0 && found < 0; i--) if (byAuthor(i)) found = i;
    if (found >= 0) out.add(found);
  }
  return messages.filter((_, i) => !out.has(i));
}

/** A message of the conversation: not a session command (`/model …`, `/stop`), which is recorded too. */
export const isConversation = (r: StoredRecord): r is StoredRecord & { kind: 'message' } =>
  r.kind === 'message' && !(r.role === 'user' && parseCommand(r.text) !== undefined);

export function historyInput(records: readonly StoredRecord[], batch: readonly BatchMessage[], maxMessages: number): InputMessage[] {
  const messages = sinceReset(records).filter(isConversation);
  const kept = withoutBatch(messages, batch)
    .map((r) => ({ role: r.role, content: cleanMessageText(r.text) }))
    .filter((m) => m.content.trim() !== '');
  const out: InputMessage[] = [];
  let chars = 0;
  for (let i = kept.length - 1; i >= 0 && out.length < maxMessages; i--) {
    chars += kept[i]!.content.length;
    if (chars > MAX_HISTORY_CHARS) break;
    out.push(kept[i]!);
  }
  return out.reverse();
}
