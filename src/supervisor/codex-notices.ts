// App-server notifications that are not part of a turn, as room notices: warnings, config
// warnings, deprecations, MCP servers that failed to start, rate limits close to or at their
// limit. A notification naming a thread goes to that thread's conversation; one without a
// thread (server-wide) goes to every live (not hibernated) conversation of the app-server
// (group) that sent it. Each conversation sees the same text once (bounded memory).
import { z } from 'zod';
import type { Logger } from 'pino';
import type { RoomEventSink } from '../events/room-events.js';
import type { InboundNotification } from '../protocol/notifications.js';
import { cleanText } from '../turn/translate.js';
import { rateLimitsText } from './codex-format.js';

/** The methods handled here (the conformance test checks them against the schema). */
export const SERVER_NOTICE_METHODS = ['warning', 'configWarning', 'deprecationNotice', 'mcpServer/startupStatus/updated', 'account/rateLimits/updated'] as const;

/** A rate limit window at or above this share used is worth a notice. */
const RATE_LIMIT_NOTICE_PERCENT = 80;
const MAX_TEXT = 500;

const str = z.string().nullable().optional().catch(null);
const WarningSchema = z.looseObject({ message: z.string(), threadId: str });
const ConfigWarningSchema = z.looseObject({
  summary: z.string(),
  details: str,
  path: str,
  range: z.looseObject({ start: z.looseObject({ line: z.number() }) }).nullable().optional().catch(null),
});
const DeprecationSchema = z.looseObject({ summary: z.string(), details: str });
const McpStatusSchema = z.looseObject({ name: z.string(), status: z.string(), error: str, threadId: str });
const WindowSchema = z.looseObject({ usedPercent: z.number() }).nullable().optional().catch(null);
const RateLimitsSchema = z.looseObject({
  rateLimits: z.looseObject({ primary: WindowSchema, secondary: WindowSchema, rateLimitReachedType: str }),
});

export interface NoticeSubscribable {
  subscribe(threadId: string, listener: (n: InboundNotification) => void): () => void;
}

export interface CodexNoticesOptions {
  sink: RoomEventSink;
  /** The live conversations served by `client` (server-wide notifications go to them). */
  liveSessions: (client: NoticeSubscribable) => string[];
  sessionOfThread: (threadId: string) => string | undefined;
  log: Logger;
  now?: () => number;
  /** Distinct texts remembered per conversation, and conversations remembered. */
  maxTexts?: number;
  maxSessions?: number;
}

export class CodexNotices {
  private readonly seen = new Map<string, Set<string>>();
  private latestRateLimits: unknown;

  constructor(private readonly o: CodexNoticesOptions) {}

  /** Listen to every notification of one app-server client (connection or pool). */
  attach(client: NoticeSubscribable): () => void {
    return client.subscribe('*', (n) => this.handle(client, n));
  }

  /** The last `account/rateLimits/updated` (for `/usage`), formatted. */
  rateLimitsText(): string | undefined {
    return this.latestRateLimits === undefined ? undefined : rateLimitsText(this.latestRateLimits);
  }

  handle(client: NoticeSubscribable, n: InboundNotification): void {
    const notice = this.noticeOf(n);
    if (!notice) return;
    const threadId = n.threadId;
    const sessions = threadId ? [this.o.sessionOfThread(threadId)].filter((s): s is string => s !== undefined) : this.o.liveSessions(client);
    if (!sessions.length) this.o.log.info({ method: n.method, threadId, text: notice.text }, 'codex notice with no conversation to show it');
    const at = (this.o.now ?? Date.now)();
    for (const session of sessions) {
      if (this.firstTime(session, notice.text)) this.o.sink({ type: 'notice', session, at, level: notice.level, text: notice.text });
    }
  }

  private noticeOf(n: InboundNotification): { level: 'info' | 'warning' | 'error'; text: string } | undefined {
    const p = n.params;
    switch (n.method) {
      case 'warning': {
        const r = WarningSchema.safeParse(p);
        return r.success ? { level: 'warning', text: `Codex warning: ${cleanText(r.data.message, MAX_TEXT)}` } : undefined;
      }
      case 'configWarning': {
        const r = ConfigWarningSchema.safeParse(p);
        if (!r.success) return undefined;
        const where = r.data.path ? ` (${cleanText(r.data.path, 200)}${r.data.range ? `:${r.data.range.start.line}` : ''})` : '';
        const details = r.data.details ? ` — ${cleanText(r.data.details, MAX_TEXT)}` : '';
        return { level: 'warning', text: `Codex config: ${cleanText(r.data.summary, MAX_TEXT)}${where}${details}` };
      }
      case 'deprecationNotice': {
        const r = DeprecationSchema.safeParse(p);
        if (!r.success) return undefined;
        const details = r.data.details ? ` — ${cleanText(r.data.details, MAX_TEXT)}` : '';
        return { level: 'info', text: `Codex deprecation: ${cleanText(r.data.summary, MAX_TEXT)}${details}` };
      }
      case 'mcpServer/startupStatus/updated': {
        // Starting and ready are routine; only a server that did not come up is worth a notice.
        const r = McpStatusSchema.safeParse(p);
        if (!r.success || (r.data.status !== 'failed' && r.data.status !== 'cancelled')) return undefined;
        const error = r.data.error ? `: ${cleanText(r.data.error, MAX_TEXT)}` : '';
        return { level: 'warning', text: `MCP server ${cleanText(r.data.name, 80)} ${r.data.status === 'failed' ? 'failed to start' : 'start cancelled'}${error}` };
      }
      case 'account/rateLimits/updated': {
        const r = RateLimitsSchema.safeParse(p);
        if (!r.success) return undefined;
        this.latestRateLimits = p;
        const s = r.data.rateLimits;
        const high = [s.primary, s.secondary].some((w) => w && w.usedPercent >= RATE_LIMIT_NOTICE_PERCENT);
        if (!high && !s.rateLimitReachedType) return undefined;
        return { level: s.rateLimitReachedType ? 'error' : 'warning', text: `Codex rate limits: ${rateLimitsText(p)}` };
      }
      default:
        return undefined;
    }
  }

  /** True the first time `text` is seen for `session`; bounded (oldest forgotten first). */
  private firstTime(session: string, text: string): boolean {
    let texts = this.seen.get(session);
    if (!texts) {
      if (this.seen.size >= (this.o.maxSessions ?? 10_000)) this.seen.delete(this.seen.keys().next().value!);
      texts = new Set();
      this.seen.set(session, texts);
    }
    if (texts.has(text)) return false;
    if (texts.size >= (this.o.maxTexts ?? 64)) texts.delete(texts.values().next().value!);
    texts.add(text);
    return true;
  }
}
