// Approval prompts of `switchboard chat`, one at a time: what is asked, one key per offered
// choice (or a line when stdin is not a terminal), then form fields or questions one by one.
// A prompt resolved elsewhere (someone else decided, it was withdrawn, it expired) is dropped.
import type { Line } from './chat-render.js';
import { obj, str, type Json } from './chat-render.js';
import {
  approvalLines,
  choiceKeys,
  choiceMenu,
  formFieldAsk,
  formFieldPrompt,
  formFieldsOf,
  formFieldValue,
  matchChoice,
  questionAnswer,
  questionPrompt,
  questionsOf,
} from './chat-prompts.js';
import type { Terminal } from './chat-terminal.js';

export interface ApprovalHost {
  readonly term: Terminal;
  print(l: Line): void;
  tagOf(session: string | undefined): string;
  /** Sends the decision; false when it could not be sent (offline). */
  decide(approvalId: string, decision: string, content?: unknown): boolean;
  readonly inputEnded: boolean;
  readonly finished: boolean;
}

interface Approval {
  approvalId: string;
  event: Json;
}

export class ApprovalFlow {
  private readonly queue: Approval[] = [];
  private active: { approvalId: string; abort: AbortController } | undefined;

  constructor(private readonly host: ApprovalHost) {}

  has(approvalId: string): boolean {
    return this.active?.approvalId === approvalId || this.queue.some((a) => a.approvalId === approvalId);
  }

  /** Queue an `approval.requested` event (once per approval id). */
  request(e: Json): void {
    const approvalId = str(e.approvalId);
    if (!approvalId || this.has(approvalId)) return;
    this.queue.push({ approvalId, event: e });
    this.pump();
  }

  /** The approval was resolved elsewhere: true when a prompt was dropped. */
  drop(approvalId: string): boolean {
    let dropped = false;
    const queued = this.queue.findIndex((a) => a.approvalId === approvalId);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      dropped = true;
    }
    if (this.active?.approvalId === approvalId) {
      this.active.abort.abort();
      dropped = true;
    }
    return dropped;
  }

  /** After a rejoin: drop every prompt the server no longer lists as pending. */
  keepOnly(pending: ReadonlySet<string>): void {
    for (const a of [...this.queue]) if (!pending.has(a.approvalId)) this.drop(a.approvalId);
    if (this.active && !pending.has(this.active.approvalId)) this.drop(this.active.approvalId);
  }

  stop(): void {
    this.queue.splice(0);
    this.active?.abort.abort();
  }

  private pump(): void {
    if (this.active || this.host.finished) return;
    const next = this.queue.shift();
    if (!next) {
      this.host.term.hold(false);
      return;
    }
    const abort = new AbortController();
    this.active = { approvalId: next.approvalId, abort };
    this.host.term.hold(true);
    void this.run(next, abort.signal)
      .catch((err: unknown) => this.host.print({ text: `✗ approval prompt failed: ${(err as Error).message}`, tone: 'red' }))
      .finally(() => {
        this.active = undefined;
        this.pump();
      });
  }

  private async run(a: Approval, signal: AbortSignal): Promise<void> {
    const { host } = this;
    const e = a.event;
    const tag = host.tagOf(str(e.session));
    const kind = str(e.kind) ?? '';
    const detail = obj(e.detail) ?? {};
    const choices = Array.isArray(e.choices) ? e.choices.filter((c): c is string => typeof c === 'string') : [];
    const lines = approvalLines(e);
    host.print({ text: tag + lines[0]!, tone: 'yellow' });
    for (const l of lines.slice(1)) host.print({ text: l, tone: 'plain' });
    if (e.reviewer === 'policy' || choices.length === 0) {
      host.print({ text: '  (nothing to decide here)', tone: 'dim' });
      return;
    }

    if (kind === 'userInput') {
      const content: Record<string, string> = {};
      for (const q of questionsOf(detail)) {
        for (const l of questionPrompt(q)) host.print({ text: l, tone: 'plain' });
        for (;;) {
          const typed = await this.ask('line', `${q.id}: `, signal, q.isSecret);
          if (typed === undefined) return;
          const r = questionAnswer(q, typed);
          if (r.value !== undefined) {
            content[q.id] = r.value;
            break;
          }
          host.print({ text: `  ${r.problem}`, tone: 'yellow' });
        }
      }
      host.decide(a.approvalId, choices.includes('answer') ? 'answer' : choices[0]!, content);
      return;
    }

    const keys = choiceKeys(choices, detail);
    host.print({ text: `  ${choiceMenu(keys)}`, tone: 'plain' });
    const ask = `choose ${keys.map((k) => k.key).join('/')}: `;
    let picked: (typeof keys)[number] | undefined;
    while (!picked) {
      const typed = await this.ask('key', ask, signal);
      if (typed === undefined) return;
      picked = matchChoice(keys, typed);
      if (!picked) host.print({ text: `  press one of ${keys.map((k) => k.key).join(', ')}`, tone: 'yellow' });
    }
    host.print({ text: `  → ${picked.label}`, tone: 'dim' });

    if (kind === 'mcpForm' && picked.choice === 'accept') {
      const content: Record<string, unknown> = {};
      for (const f of formFieldsOf(detail)) {
        for (const l of formFieldPrompt(f)) host.print({ text: l, tone: 'plain' });
        for (;;) {
          const typed = await this.ask('line', formFieldAsk(f), signal);
          if (typed === undefined) return;
          const r = formFieldValue(f, typed);
          if (r.problem) {
            host.print({ text: `  ${r.problem}`, tone: 'yellow' });
            continue;
          }
          if (r.value !== undefined) content[f.name] = r.value;
          break;
        }
      }
      host.decide(a.approvalId, 'accept', content);
      return;
    }
    host.decide(a.approvalId, picked.choice);
  }

  private async ask(kind: 'key' | 'line', prompt: string, signal: AbortSignal, secret = false): Promise<string | undefined> {
    const typed = await this.host.term.ask(kind, prompt, { signal, secret });
    if (typed === undefined && this.host.inputEnded && !signal.aborted && !this.host.finished) {
      this.host.print({ text: '  (input has ended: not answering; someone else in the room may decide)', tone: 'dim' });
    }
    return typed;
  }
}
