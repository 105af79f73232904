// What the turn translator says about Codex's items and errors: one-line tool titles, error
// text, the limit notices, and the cleaning every remote string gets before it is shown.
import type { ToolKind } from '../events/room-events.js';

type Params = Record<string, unknown>;

/** `codexErrorInfo` values that mean the account hit a limit: said plainly in the room. */
export const LIMIT_TEXTS: Record<string, string> = {
  usageLimitExceeded: 'Codex usage limit reached: no more turns until the limit resets (see /usage).',
  rateLimitExceeded: 'Codex rate limit exceeded: the provider refused the request; try again shortly (see /usage).',
  sessionBudgetExceeded: 'Codex session budget exceeded for this thread.',
};

/** The limit kind of a `codexErrorInfo`: a plain kind, or an HTTP failure with status 429 (the provider's rate limit). */
export function limitKindOf(info: unknown): string | undefined {
  if (typeof info === 'string') return info;
  if (!info || typeof info !== 'object') return undefined;
  const http = Object.values(info).some((v) => typeof v === 'object' && v !== null && (v as { httpStatusCode?: unknown }).httpStatusCode === 429);
  return http ? 'rateLimitExceeded' : undefined;
}

/** A remote string for a notice: control characters removed, bounded. */
export function cleanText(v: unknown, max: number): string {
  if (typeof v !== 'string') return '';
  // eslint-disable-next-line no-control-regex
  const t = v.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

/** A review runs its model in a sub-turn whose `turn/started` names the review's turn as `rootTurnId`. */
export function turnIdOfTurn(p: Params): string | undefined {
  const turn = p.turn as { id?: unknown; rootTurnId?: unknown } | undefined;
  if (!turn) return undefined;
  if (typeof turn.rootTurnId === 'string') return turn.rootTurnId;
  return typeof turn.id === 'string' ? turn.id : undefined;
}

export const oneLine = (s: string, max: number): string => {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
};

export function errorText(error: { message?: unknown; additionalDetails?: unknown } | null | undefined): string | undefined {
  if (!error || typeof error.message !== 'string') return undefined;
  return typeof error.additionalDetails === 'string' && error.additionalDetails
    ? `${error.message} (${error.additionalDetails})`
    : error.message;
}

/** Tool kind and a one-line title for a thread item. */
export function describeTool(item: Params): { kind: ToolKind; title: string } {
  switch (item.type) {
    case 'commandExecution':
      return { kind: 'command', title: typeof item.command === 'string' ? item.command : 'command' };
    case 'fileChange': {
      const changes = Array.isArray(item.changes) ? (item.changes as Array<{ path?: unknown }>) : [];
      const paths = changes.map((c) => (typeof c.path === 'string' ? c.path : '?'));
      return { kind: 'fileChange', title: paths.length ? `Edit ${paths.join(', ')}` : 'Edit files' };
    }
    case 'mcpToolCall':
      return { kind: 'mcpToolCall', title: `${String(item.server ?? 'mcp')}.${String(item.tool ?? 'tool')}` };
    case 'dynamicToolCall':
      return {
        kind: 'dynamicToolCall',
        title: typeof item.namespace === 'string' && item.namespace ? `${item.namespace}.${String(item.tool)}` : String(item.tool ?? 'tool'),
      };
    case 'reasoning':
      return { kind: 'reasoning', title: 'Reasoning' };
    case 'plan':
      return { kind: 'plan', title: 'Plan' };
    case 'contextCompaction':
      return { kind: 'compaction', title: 'Context compaction' };
    case 'webSearch':
      return { kind: 'webSearch', title: typeof item.query === 'string' && item.query ? `Search: ${item.query}` : 'Web search' };
    case 'imageView': {
      const where = cleanText(item.path, 300);
      return { kind: 'image', title: where ? `View image ${where}` : 'View image' };
    }
    case 'imageGeneration': {
      const prompt = oneLine(cleanText(item.revisedPrompt, 120), 120);
      return { kind: 'image', title: prompt ? `Generate image: ${prompt}` : 'Generate image' };
    }
    default:
      return { kind: 'other', title: String(item.type) };
  }
}
