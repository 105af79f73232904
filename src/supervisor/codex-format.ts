// Readable text for `/codex status|account|mcp|skills|threads`: the app-server's answers are
// remote data, so each is parsed leniently with zod (a field of the wrong shape is left out,
// never trusted), every string is made one clean line (control characters removed) and cut,
// and lists are bounded. Nothing here prints raw JSON.
import { z } from 'zod';
import { cleanName } from '../attachments/text.js';

/** One clean line of at most `max` characters (`…` when cut). */
export function field(v: unknown, max = 80): string {
  if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return '';
  const s = cleanName(String(v).replace(/\s+/g, ' ')).trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

const str = z.string().nullish().catch(undefined);
const num = z.number().nullish().catch(undefined);
const list = <T extends z.ZodType>(item: T) => z.array(z.unknown()).catch([]).transform((xs) => xs.flatMap((x) => {
  const r = item.safeParse(x);
  return r.success ? [r.data as z.output<T>] : [];
}));

const AccountSchema = z.looseObject({
  account: z.looseObject({ type: z.string(), email: str, planType: str, workspaceName: str }).nullish().catch(undefined),
  requiresOpenaiAuth: z.boolean().nullish().catch(undefined),
});

export function accountText(v: unknown): string {
  const r = AccountSchema.safeParse(v);
  if (!r.success) return 'unreadable answer';
  const a = r.data.account;
  if (!a) return r.data.requiresOpenaiAuth ? 'not logged in (run `codex login`)' : 'none needed by the configured model provider';
  switch (a.type) {
    case 'chatgpt':
      return ['ChatGPT', field(a.email, 120), a.planType ? `(${field(a.planType, 40)} plan)` : '', a.workspaceName ? `workspace ${field(a.workspaceName)}` : '']
        .filter(Boolean)
        .join(' ');
    case 'apiKey':
      return 'API key';
    default:
      return field(a.type, 40);
  }
}

const WindowSchema = z.looseObject({ usedPercent: z.number(), windowDurationMins: num, resetsAt: num }).nullish().catch(undefined);
const SnapshotSchema = z.looseObject({ limitId: str, limitName: str, primary: WindowSchema, secondary: WindowSchema, rateLimitReachedType: str });
const RateLimitsSchema = z.looseObject({ rateLimits: SnapshotSchema.nullish().catch(undefined), rateLimitsByLimitId: z.record(z.string(), z.unknown()).nullish().catch(undefined) });

const minutes = (m: number): string => (m % 1440 === 0 ? `${m / 1440} d` : m % 60 === 0 ? `${m / 60} h` : `${m} min`);
const utc = (s: number): string => new Date(s * 1000).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';

function windowText(label: string, w: z.output<typeof WindowSchema>): string | undefined {
  if (!w) return undefined;
  const span = w.windowDurationMins ? ` of ${minutes(w.windowDurationMins)}` : '';
  return `${label}${span} ${Math.round(w.usedPercent)}% used${w.resetsAt ? `, resets ${utc(w.resetsAt)}` : ''}`;
}

export function rateLimitsText(v: unknown): string {
  const r = RateLimitsSchema.safeParse(v);
  if (!r.success) return 'unreadable answer';
  const snapshots = [
    ...Object.values(r.data.rateLimitsByLimitId ?? {}).flatMap((s) => {
      const p = SnapshotSchema.safeParse(s);
      return p.success ? [p.data] : [];
    }),
  ].slice(0, 5);
  if (!snapshots.length && r.data.rateLimits) snapshots.push(r.data.rateLimits);
  const lines = snapshots.map((s) => {
    const parts = [windowText('window', s.primary), windowText('window', s.secondary)].filter(Boolean);
    const name = field(s.limitName ?? s.limitId ?? 'limits', 40);
    const reached = s.rateLimitReachedType ? ` — reached (${field(s.rateLimitReachedType, 40)})` : '';
    return `${name}: ${parts.length ? parts.join('; ') : 'no window reported'}${reached}`;
  });
  return lines.length ? lines.join('\n  ') : 'none reported';
}

const McpServerSchema = z.looseObject({
  name: z.string(),
  runtimeStatus: str,
  authStatus: str,
  tools: z.record(z.string(), z.unknown()).catch({}),
  toolsError: str,
});
const McpListSchema = z.looseObject({ data: list(McpServerSchema), nextCursor: str });

/** At most this many MCP servers or skills are listed by name. */
export const MAX_LISTED = 20;

export function mcpText(v: unknown): string {
  const r = McpListSchema.safeParse(v);
  if (!r.success) return 'unreadable answer';
  const servers = r.data.data;
  if (!servers.length) return 'none configured';
  const lines = servers.slice(0, MAX_LISTED).map((s) => {
    const tools = Object.keys(s.tools).length;
    const state = [s.runtimeStatus ? field(s.runtimeStatus, 30) : undefined, `${tools} tool${tools === 1 ? '' : 's'}`, s.authStatus && s.authStatus !== 'unsupported' ? `auth ${field(s.authStatus, 30)}` : undefined]
      .filter(Boolean)
      .join(', ');
    return `${field(s.name, 60)} (${state})${s.toolsError ? ` — tools failed: ${field(s.toolsError, 120)}` : ''}`;
  });
  const more = servers.length > MAX_LISTED || r.data.nextCursor ? `\n  … and more` : '';
  return `${servers.length}${r.data.nextCursor ? '+' : ''}\n  ${lines.join('\n  ')}${more}`;
}

const SkillSchema = z.looseObject({ name: z.string(), enabled: z.boolean().catch(true), scope: str, description: str, shortDescription: str, interface: z.looseObject({ shortDescription: str }).nullish().catch(undefined) });
const SkillsSchema = z.looseObject({ data: list(z.looseObject({ cwd: str, skills: list(SkillSchema), errors: list(z.looseObject({ message: z.string(), path: str })) })) });

export function skillsText(v: unknown, detailed: boolean): string {
  const r = SkillsSchema.safeParse(v);
  if (!r.success) return 'unreadable answer';
  const skills = r.data.data.flatMap((e) => e.skills);
  const errors = r.data.data.flatMap((e) => e.errors);
  if (!skills.length && !errors.length) return 'none';
  const enabled = skills.filter((s) => s.enabled).length;
  const head = `${skills.length} (${enabled} enabled)${errors.length ? `, ${errors.length} failed to load` : ''}`;
  if (!detailed) return `${head}: ${skills.slice(0, MAX_LISTED).map((s) => field(s.name, 40)).join(', ')}${skills.length > MAX_LISTED ? ', …' : ''}`;
  const lines = skills.slice(0, MAX_LISTED).map((s) => {
    const about = s.interface?.shortDescription ?? s.shortDescription ?? s.description;
    return `${field(s.name, 40)}${s.scope ? ` [${field(s.scope, 12)}]` : ''}${s.enabled ? '' : ' (disabled)'}${about ? ` — ${field(about, 100)}` : ''}`;
  });
  const failed = errors.slice(0, 5).map((e) => `failed: ${field(e.path, 80)}: ${field(e.message, 120)}`);
  return [head, ...lines, ...(skills.length > MAX_LISTED ? [`… and ${skills.length - MAX_LISTED} more`] : []), ...failed].join('\n  ');
}

const ThreadRowSchema = z.looseObject({ id: z.string(), name: str, preview: str, updatedAt: num, createdAt: num });
export const ThreadPageSchema = z.looseObject({ data: list(ThreadRowSchema), nextCursor: str });
export type ThreadRow = z.output<typeof ThreadRowSchema>;

/** `  <id>  <name or preview>  (updated …)`: one line per thread. */
export function threadLine(t: ThreadRow, fallbackLabel: string): string {
  const label = field(t.name ?? t.preview ?? fallbackLabel, 80) || fallbackLabel;
  const when = t.updatedAt ?? t.createdAt;
  return `  ${field(t.id, 64)}  ${label}${when ? `  (updated ${utc(when)})` : ''}`;
}
