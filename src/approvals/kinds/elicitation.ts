// mcpServer/elicitation/request: one method, three kinds (an MCP tool approval, a form, a
// URL to open), told apart by `_meta` and `mode`. Other modes are declined at once.
import { ElicitationParamsSchema } from '../../protocol/server-requests.js';
import { FORM_MODES, mcpFormRequest } from './mcp-form.js';
import { mcpToolApprovalRequest } from './mcp-tool-approval.js';
import { mcpUrlRequest } from './mcp-url.js';
import { immediate, type MethodModule } from './shared.js';

export const elicitationRequest: MethodModule<typeof ElicitationParamsSchema> = {
  method: 'mcpServer/elicitation/request',
  schema: ElicitationParamsSchema,
  kind: 'mcpForm',
  toRequest(input, p) {
    const meta = (typeof p._meta === 'object' && p._meta !== null ? p._meta : {}) as Record<string, unknown>;
    if (meta.codex_approval_kind === 'mcp_tool_call') return mcpToolApprovalRequest(input, p, meta);
    if (FORM_MODES.has(p.mode)) return mcpFormRequest(input, p);
    if (p.mode === 'url') return mcpUrlRequest(input, p);
    return immediate(input.req, 'mcpForm', `unsupported elicitation mode "${p.mode}"`);
  },
};
