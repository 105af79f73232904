// item/tool/requestUserInput: questions for the user. The one choice is `answer`; the
// content maps each question id to its answer(s), checked against the options offered.
import { z } from 'zod';
import { UserInputParamsSchema } from '../../protocol/server-requests.js';
import type { ApprovalRequest } from '../types.js';
import { nz, review, truncate, type KindModule, type MethodModule } from './shared.js';

export const userInputRequest: MethodModule<typeof UserInputParamsSchema> = {
  method: 'item/tool/requestUserInput',
  schema: UserInputParamsSchema,
  kind: 'userInput',
  toRequest(input, p) {
    const questions = p.questions.map((q) => ({
      id: q.id,
      header: q.header,
      question: q.question,
      options: nz(q.options)?.map((o) => ({ label: o.label, description: o.description })) ?? null,
      isOther: q.isOther ?? false,
      isSecret: q.isSecret ?? false,
    }));
    const first = questions[0];
    return review(input, 'userInput', {
      threadId: p.threadId,
      turnId: p.turnId,
      itemId: p.itemId,
      title: first ? truncate(first.header ? `${first.header}: ${first.question}` : first.question) : 'Questions',
      // A non-blocking question does not hold up the turn: a client may show it less urgently.
      detail: { questions, isBlocking: p.isBlocking ?? true },
      choices: ['answer'],
      subject: {},
      params: p,
    });
  },
};

const AnswersSchema = z.record(z.string(), z.union([z.string(), z.array(z.string())]));

function userAnswers(request: ApprovalRequest, content: unknown): Record<string, { answers: string[] }> | string {
  const r = AnswersSchema.safeParse(content);
  if (!r.success) return 'answers must map each question id to a string or a list of strings';
  const questions = (request.detail.questions ?? []) as Array<{ id: string; options: Array<{ label: string }> | null; isOther: boolean }>;
  const out: Record<string, { answers: string[] }> = {};
  for (const id of Object.keys(r.data)) {
    if (!questions.some((q) => q.id === id)) return `unknown question "${id}"`;
  }
  for (const q of questions) {
    const raw = r.data[q.id];
    const list = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map((s) => s.trim()).filter(Boolean);
    if (list.length === 0) return `question "${q.id}" has no answer`;
    if (q.options && q.options.length && !q.isOther) {
      const labels = q.options.map((o) => o.label);
      const bad = list.filter((a) => !labels.includes(a));
      if (bad.length) return `question "${q.id}" allows only ${labels.map((l) => JSON.stringify(l)).join(', ')}`;
    }
    out[q.id] = { answers: list };
  }
  return out;
}

export const userInputKind: KindModule = {
  kind: 'userInput',
  toAnswer(request, { content }) {
    const answers = userAnswers(request, content);
    if (typeof answers === 'string') return { deny: `answer is invalid: ${answers}` };
    return { result: { answers } };
  },
  outcome: () => 'answered',
};
