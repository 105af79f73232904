// An MCP server asks for form values (elicitation mode `form`): accepting sends the values,
// checked against the server's requested schema first.
import type { ElicitationParams } from '../../protocol/server-requests.js';
import { formFields, validateFormContent } from '../form.js';
import { nz, review, type ClassifyInput, type Classification, type KindModule } from './shared.js';

export const FORM_MODES: ReadonlySet<string> = new Set(['form', 'openai/form', 'openaiForm']);

export function mcpFormRequest(input: ClassifyInput, p: ElicitationParams): Classification {
  return review(input, 'mcpForm', {
    threadId: p.threadId,
    turnId: nz(p.turnId),
    itemId: undefined,
    title: p.message ?? `${p.serverName} asks for information`,
    detail: { server: p.serverName, message: p.message, fields: formFields(p.requestedSchema), schema: p.requestedSchema },
    choices: ['accept', 'decline', 'cancel'],
    subject: { mcpServer: p.serverName },
    params: p,
  });
}

export const mcpFormKind: KindModule = {
  kind: 'mcpForm',
  toAnswer(request, { choice, content }) {
    if (choice !== 'accept') return { result: { action: choice, content: null, _meta: null } };
    const check = validateFormContent((request.params as { requestedSchema?: unknown }).requestedSchema, content);
    if (!check.ok) return { deny: `form answer is invalid: ${check.problem}` };
    return { result: { action: 'accept', content: check.content, _meta: null } };
  },
  outcome: (choice) => (choice === 'accept' ? 'answered' : 'denied'),
};
