// A conversation coming back to Codex from the llm backend: Codex's thread has not seen what
// was said meanwhile, so those messages of the room thread are appended to its model-visible
// history (`thread/inject_items`, raw Responses-API items). A conversation that never ran on
// Codex gets a thread first (`thread/start`, then bound: the next message resumes it with the
// agent's settings).
import type { Logger } from 'pino';
import type { StoredRecord } from '../storage/types.js';
import type { CodexHarness } from './codex-harness.js';
import type { AgentSpec } from './harness.js';
import { cleanMessageText } from '../attachments/text.js';
import { isConversation } from '../llm/history.js';

/** Cap on the messages handed over in one switch (the newest are kept). */
const MAX_ITEMS = 200;

/** The messages Codex missed: since it last ran this conversation (else since the last reset). */
export function missedByCodex(records: readonly StoredRecord[]): { messages: Array<{ role: 'user' | 'assistant'; text: string }>; codexRanBefore: boolean } {
  let start = 0;
  let codexRanBefore = false;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    if (r.kind !== 'harness') continue;
    if (r.harness === '(unpinned)') {
      start = i + 1;
      codexRanBefore = false;
    } else if (r.harness === 'codex') {
      codexRanBefore = true;
      start = records.length; // nothing missed while Codex runs it
    } else if (codexRanBefore) {
      start = i + 1; // Codex left here
    }
  }
  const messages = records
    .slice(start)
    .filter(isConversation)
    .filter((r) => r.text.trim() !== '')
    .map((r) => ({ role: r.role, text: cleanMessageText(r.text) }))
    .slice(-MAX_ITEMS);
  return { messages, codexRanBefore };
}

export function injectItems(messages: Array<{ role: 'user' | 'assistant'; text: string }>): Array<Record<string, unknown>> {
  return messages.map((m) => ({ type: 'message', role: m.role, content: [{ type: m.role === 'user' ? 'input_text' : 'output_text', text: m.text }] }));
}

/** Give the conversation's Codex thread what it missed; a failure is logged and told (the switch still happens). */
export async function catchUpCodex(
  codex: CodexHarness,
  agent: AgentSpec,
  session: string,
  records: readonly StoredRecord[],
  log: Logger,
): Promise<string | undefined> {
  const { messages } = missedByCodex(records);
  if (!messages.length) return undefined;
  const manager = codex.sessionManager(agent);
  const client = codex.clientFor(agent.id);
  try {
    let threadId = await manager.boundThread(session);
    if (!threadId) {
      const tools = codex.router.tools.specs();
      const res = await client.request('thread/start', { cwd: agent.cwd, ...(tools.length ? { dynamicTools: tools } : {}) });
      threadId = res.thread.id;
      await manager.attachThread(session, threadId);
    }
    await client.request('thread/inject_items', { threadId, items: injectItems(messages) });
    log.info({ session, threadId, messages: messages.length }, 'codex thread caught up with the llm backend\'s messages');
    return undefined;
  } catch (err) {
    log.warn({ session, err: (err as Error).message }, 'codex catch-up failed');
    return `Codex was not given the ${messages.length} message(s) said on the llm backend: ${(err as Error).message.slice(0, 200)}`;
  }
}
