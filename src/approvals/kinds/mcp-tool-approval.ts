// An MCP tool call Codex asks about (an elicitation whose _meta says `mcp_tool_call`).
// Persisting the approval for the session or always is offered only when Codex allows it.
import type { ElicitationParams } from '../../protocol/server-requests.js';
import { nz, review, type ClassifyInput, type Classification, type KindModule } from './shared.js';

export function mcpToolApprovalRequest(input: ClassifyInput, p: ElicitationParams, meta: Record<string, unknown>): Classification {
  const persist = Array.isArray(meta.persist) ? meta.persist : typeof meta.persist === 'string' ? [meta.persist] : [];
  const tool = typeof meta.tool_name === 'string' ? meta.tool_name : undefined;
  const choices = ['accept'];
  if (persist.includes('session')) choices.push('acceptForSession');
  if (persist.includes('always')) choices.push('acceptAlways');
  choices.push('decline', 'cancel');
  return review(input, 'mcpToolApproval', {
    threadId: p.threadId,
    turnId: nz(p.turnId),
    itemId: undefined,
    title: p.message ?? `Allow ${p.serverName} to run tool "${tool ?? '?'}"?`,
    detail: {
      server: p.serverName,
      tool,
      toolTitle: meta.tool_title,
      description: meta.tool_description,
      arguments: meta.tool_params,
      argumentsDisplay: meta.tool_params_display,
      message: p.message,
    },
    choices,
    subject: { mcpServer: p.serverName, ...(tool ? { mcpTool: tool } : {}) },
    params: p,
  });
}

export const mcpToolApprovalKind: KindModule = {
  kind: 'mcpToolApproval',
  toAnswer(_request, { choice }) {
    const persist = choice === 'acceptForSession' ? 'session' : choice === 'acceptAlways' ? 'always' : undefined;
    const action = choice.startsWith('accept') ? 'accept' : choice;
    return { result: { action, content: null, _meta: persist ? { persist } : null } };
  },
};
