// An MCP server asks the user to open a URL (elicitation mode `url`), e.g. to log in.
import type { ElicitationParams } from '../../protocol/server-requests.js';
import { immediate, nz, review, type ClassifyInput, type Classification, type KindModule } from './shared.js';

function hostOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}

export function mcpUrlRequest(input: ClassifyInput, p: ElicitationParams): Classification {
  if (!p.url) return immediate(input.req, 'mcpUrl', 'url elicitation without a url');
  const host = hostOf(p.url);
  return review(input, 'mcpUrl', {
    threadId: p.threadId,
    turnId: nz(p.turnId),
    itemId: undefined,
    title: p.message ?? `${p.serverName} asks you to open ${p.url}`,
    detail: { server: p.serverName, message: p.message, url: p.url, elicitationId: p.elicitationId },
    choices: ['accept', 'decline', 'cancel'],
    subject: { mcpServer: p.serverName, ...(host ? { hosts: [host] } : {}) },
    params: p,
  });
}

export const mcpUrlKind: KindModule = {
  kind: 'mcpUrl',
  toAnswer: (_request, { choice }) => ({ result: { action: choice, content: null, _meta: null } }),
};
