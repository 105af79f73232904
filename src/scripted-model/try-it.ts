// `join --scripted`: the built-in scripted model, answering whatever a person types, so a new
// user can try a room (answers, a command that needs approval, its result) with no account.
// It runs the real codex app-server in an isolated CODEX_HOME and HOME of its own.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeCodexHome } from './codex-home.js';
import { guardianVerdict, isGuardianReview, say, shell, startScriptedModel, type ResponsesRequest, type Step } from './server.js';
import { isCompactionRequest, isReviewRequest, reviewAnswer } from './review.js';

const HELP = 'Ask me to run a command in backticks, for example: run `ls -la`. I will ask for approval first.';

/** The text of the last user message in a Responses request. */
export function lastUserText(req: ResponsesRequest): string {
  for (let i = req.input.length - 1; i >= 0; i--) {
    const item = req.input[i]!;
    if (item.role !== 'user' || !Array.isArray(item.content)) continue;
    const parts = (item.content as Array<{ type?: string; text?: unknown }>).filter((c) => c.type === 'input_text' && typeof c.text === 'string');
    // Codex adds its own context messages; the person's words are the last text part.
    const text = parts.at(-1)?.text;
    if (typeof text === 'string') return text;
  }
  return '';
}

/** One step of the try-it script: a command in backticks is run (with approval); anything else is answered. */
export function tryItStep(req: ResponsesRequest): Step {
  // --mode guardian: Codex's reviewer subagent asks too; this offline one allows what it is shown.
  if (isGuardianReview(req)) return guardianVerdict({ outcome: 'allow', rationale: "Switchboard's offline scripted reviewer allows what it is asked about." });
  if (isReviewRequest(req)) return reviewAnswer('A canned review: Switchboard\'s offline scripted model does not read code, so it found nothing.');
  if (isCompactionRequest(req)) return say('Summary: a conversation with Switchboard\'s offline scripted model; nothing to carry over.', 1);
  const last = req.input.at(-1);
  if (last?.type === 'function_call_output') {
    const output = String((last as { output?: unknown }).output ?? '').slice(0, 400);
    return say(`The command finished. Its output began with:\n\n\`\`\`\n${output}\n\`\`\`\n\n(This is Switchboard's offline scripted model.)`, 4);
  }
  const text = lastUserText(req).trim();
  const command = /`([^`\n]{1,200})`/.exec(text)?.[1];
  if (command) return shell(command, { escalated: true, justification: `You asked me to run: ${command}` });
  const echo = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  return say(`You said: "${echo}". I am Switchboard's offline scripted model, so my answers are canned. ${HELP}`, 6);
}

export interface TryItWorld {
  /** Settings for the app-server: its own CODEX_HOME and HOME. */
  env: { CODEX_HOME: string; HOME: string };
  close(): Promise<void>;
}

/** Starts the scripted model and a Codex home that points the real binary at it. */
export async function startTryIt(): Promise<TryItWorld> {
  const model = await startScriptedModel((req) => tryItStep(req));
  const codexHome = makeCodexHome({ modelUrl: model.url });
  // Codex runs commands in a login shell: an empty HOME keeps the machine's profile out.
  const home = mkdtempSync(path.join(tmpdir(), 'switchboard-scripted-home-'));
  mkdirSync(home, { recursive: true });
  return {
    env: { CODEX_HOME: codexHome.dir, HOME: home },
    async close() {
      await model.close();
      codexHome.cleanup();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
