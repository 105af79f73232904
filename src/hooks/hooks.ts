// Plugin hooks around a turn. Rewrite hooks run in registration order, each seeing the
// previous one's result; observers are notified. A hook that throws is logged and skipped:
// it never breaks the turn.
import type { Logger } from 'pino';
import type { HistoryRecord } from '../storage/types.js';

export interface HookPayloads {
  /** May rewrite the prompt text before it becomes `turn/start` input. */
  before_prompt_build: { session: string; from: { id: string; name?: string }; prompt: string };
  /**
   * Codex took input for the model: a turn's (`turn/start` answered) or input steered into
   * the running turn (`turn/steer` answered, `steered: true`). Observe only: the prompt is
   * rewritten earlier, by `before_prompt_build`.
   */
  llm_input: { session: string; threadId: string; turnId: string; input: unknown[]; model: string | undefined; steered: boolean };
  llm_output: { session: string; threadId: string; turnId: string; text: string };
  /** May post-process a dynamic tool's result (awaited). */
  tool_result: { session: string; turnId: string; tool: string; arguments: unknown; result: { contentItems: unknown[]; success: boolean } };
  after_tool_call: { session: string; turnId: string; toolId: string; kind: string; data: Record<string, unknown> };
  /** Codex starts compacting the thread's context (`/codex compact` or automatic): the `contextCompaction` item started. */
  before_compaction: { session: string; threadId: string; turnId?: string };
  /** The compaction ended (`status` `completed`, or how the turn ended without it). */
  after_compaction: { session: string; threadId: string; turnId?: string; status?: string };
  /** May rewrite a history record, or block it (`block: true`) before it is written. */
  before_message_write: { session: string; record: HistoryRecord; block?: boolean };
  agent_end: { session: string; threadId: string; turnId: string; status: string; error?: string };
}

export type HookName = keyof HookPayloads;
export const HOOK_NAMES: readonly HookName[] = [
  'before_prompt_build',
  'llm_input',
  'llm_output',
  'tool_result',
  'after_tool_call',
  'before_compaction',
  'after_compaction',
  'before_message_write',
  'agent_end',
];

/** A handler may return a partial payload to merge (rewrite hooks) or nothing (observe). */
export type HookHandler<N extends HookName> = (
  payload: Readonly<HookPayloads[N]>,
) => void | Partial<HookPayloads[N]> | Promise<void | Partial<HookPayloads[N]>>;

export class Hooks {
  private readonly handlers = new Map<HookName, Array<HookHandler<HookName>>>();
  failures = 0;

  constructor(private readonly log?: Logger) {}

  on<N extends HookName>(name: N, handler: HookHandler<N>): () => void {
    if (!HOOK_NAMES.includes(name)) throw new Error(`unknown hook "${String(name)}"; known hooks: ${HOOK_NAMES.join(', ')}`);
    const list = this.handlers.get(name) ?? [];
    list.push(handler as HookHandler<HookName>);
    this.handlers.set(name, list);
    return () => {
      const l = this.handlers.get(name);
      if (l) l.splice(l.indexOf(handler as HookHandler<HookName>) >>> 0, 1);
    };
  }

  has(name: HookName): boolean {
    return (this.handlers.get(name)?.length ?? 0) > 0;
  }

  /** Runs every handler in order, awaiting each; returns the (possibly rewritten) payload. */
  async run<N extends HookName>(name: N, payload: HookPayloads[N]): Promise<HookPayloads[N]> {
    const list = this.handlers.get(name);
    if (!list || list.length === 0) return payload;
    let current = payload;
    for (const h of [...list]) {
      try {
        const out = await h(current);
        if (out && typeof out === 'object') current = { ...current, ...(out as Partial<HookPayloads[N]>) };
      } catch (err) {
        this.failures++;
        this.log?.error({ err, hook: name }, 'hook threw; ignored');
      }
    }
    return current;
  }

  /** Fire-and-forget for observers on the hot path; errors are logged. */
  emit<N extends HookName>(name: N, payload: HookPayloads[N]): void {
    if (!this.has(name)) return;
    void this.run(name, payload);
  }
}
