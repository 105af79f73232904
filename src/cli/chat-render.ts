// Rendering for `switchboard chat`: room events, history records and approval prompts as
// compact terminal lines. Pure functions (no I/O), so they are easy to test and reuse.
// Events come off the wire, so every field is read defensively.

import { displayCommand as showCommand } from '../util/display-command.js';
import { sanitize } from './chat-sanitize.js';

export type Json = Record<string, unknown>;

export const obj = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined);
/**
 * Every remote string is read through here, so it is sanitized where it is extracted, before
 * it is composed with our own text (a trailing bare ESC must not swallow our next character).
 * The terminal sanitizes whole lines again before writing: two layers, one rule.
 */
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? sanitize(v, { multiline: true }) : undefined);
/** A name on one line: no line breaks (a name must not fake a line of its own), capped. */
const nameOf = (v: unknown): string | undefined => (typeof v === 'string' ? oneLine(v, 80) || undefined : undefined);
export const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

// ---------------------------------------------------------------------------------------
// Colors

export interface Style {
  readonly enabled: boolean;
  red(s: string): string;
  yellow(s: string): string;
  green(s: string): string;
  cyan(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

export function makeStyle(enabled: boolean): Style {
  const wrap = (open: string, close: string) => (s: string) => (enabled && s ? `\x1b[${open}m${s}\x1b[${close}m` : s);
  return {
    enabled,
    red: wrap('31', '39'),
    yellow: wrap('33', '39'),
    green: wrap('32', '39'),
    cyan: wrap('36', '39'),
    dim: wrap('2', '22'),
    bold: wrap('1', '22'),
  };
}

/** Colors are used only on a TTY and never when NO_COLOR is set (to anything non-empty). */
export function colorWanted(stream: NodeJS.WritableStream, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean((stream as Partial<NodeJS.WriteStream>).isTTY) && !env.NO_COLOR;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]/g;
export const stripAnsi = (s: string): string => s.replace(ANSI, '');

/** Cut a single-line text to `width` characters (by code point), with an ellipsis. */
export function fit(text: string, width: number | undefined): string {
  if (!width || width < 8) return text;
  const chars = [...text];
  return chars.length > width ? `${chars.slice(0, width - 1).join('')}…` : text;
}

/** Sanitized before it is cut: a cut through an escape sequence would leave its payload as text. */
export const oneLine = (s: string, max = 160): string => {
  const flat = sanitize(s, { multiline: true }).replace(/\s*\n\s*/g, ' ⏎ ').replace(/\t/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/** `bash -lc '…'` wrappers shown as the command inside them (remote data: anything but a string or array is no command). */
export function displayCommand(command: unknown): string | undefined {
  if (Array.isArray(command)) return showCommand(command.map(String));
  return typeof command === 'string' ? showCommand(command) : undefined;
}

// ---------------------------------------------------------------------------------------
// Diffs

export interface DiffStat {
  files: Array<{ path: string; added: number; removed: number }>;
  added: number;
  removed: number;
}

/** Files and +/- line counts of a unified (git-style) diff. */
export function diffStat(diff: string): DiffStat {
  const files: DiffStat['files'] = [];
  let cur: DiffStat['files'][number] | undefined;
  const open = (path: string) => {
    cur = files.find((f) => f.path === path);
    if (!cur) files.push((cur = { path, added: 0, removed: 0 }));
  };
  let pendingOld: string | undefined;
  for (const line of diff.split('\n')) {
    const git = /^diff --git a\/(.+?) b\/(.+)$/.exec(line);
    if (git) {
      open(git[2]!);
      pendingOld = undefined;
      continue;
    }
    if (line.startsWith('--- ')) {
      pendingOld = line.slice(4).replace(/^a\//, '').trim();
      continue;
    }
    if (line.startsWith('+++ ')) {
      const p = line.slice(4).replace(/^b\//, '').trim();
      const path = p === '/dev/null' ? (pendingOld ?? p) : p;
      if (!cur || cur.path !== path) open(path);
      continue;
    }
    if (!cur) continue;
    if (line.startsWith('+')) cur.added++;
    else if (line.startsWith('-')) cur.removed++;
  }
  return { files, added: files.reduce((n, f) => n + f.added, 0), removed: files.reduce((n, f) => n + f.removed, 0) };
}

/**
 * Lines added and removed by one file change of a `fileChange` item: its `diff` is a unified
 * diff (hunks, maybe without file headers) or, for an added or deleted file, its content.
 */
export function changeCounts(diff: string, kind: string | undefined): { added: number; removed: number } {
  if (!diff) return { added: 0, removed: 0 };
  const lines = diff.replace(/\n$/, '').split('\n');
  const unified = lines.some((l) => l.startsWith('@@'));
  if (!unified && kind === 'add') return { added: lines.length, removed: 0 };
  if (!unified && kind === 'delete') return { added: 0, removed: lines.length };
  let added = 0;
  let removed = 0;
  for (const l of lines) {
    if (l.startsWith('+++ ') || l.startsWith('--- ')) continue;
    if (l.startsWith('+')) added++;
    else if (l.startsWith('-')) removed++;
  }
  return { added, removed };
}

function formatDiffStat(s: DiffStat): string {
  if (!s.files.length) return 'no changes';
  const each = s.files.slice(0, 4).map((f) => `${f.path} (+${f.added} -${f.removed})`);
  if (s.files.length > 4) each.push(`and ${s.files.length - 4} more`);
  return `${s.files.length} file${s.files.length === 1 ? '' : 's'} changed: ${each.join(', ')}`;
}

/** The first lines of a diff, for a prompt. */
export function diffPreview(diff: string, maxLines = 20): string[] {
  const lines = diff.replace(/\n$/, '').split('\n');
  const shown = lines.slice(0, maxLines);
  if (lines.length > maxLines) shown.push(`… ${lines.length - maxLines} more line${lines.length - maxLines === 1 ? '' : 's'}`);
  return shown;
}

// ---------------------------------------------------------------------------------------
// Tool lines: one line when a tool starts, one when it completes.

export interface ToolLike {
  kind?: unknown;
  title?: unknown;
  status?: unknown;
  data?: unknown;
}

const TOOL_LABEL: Record<string, { glyph: string; label: string }> = {
  command: { glyph: '⚙', label: 'command' },
  fileChange: { glyph: '✎', label: 'edit' },
  mcpToolCall: { glyph: '⚙', label: 'mcp' },
  dynamicToolCall: { glyph: '⚙', label: 'tool' },
  webSearch: { glyph: '⚙', label: 'search' },
  reasoning: { glyph: '✻', label: 'reasoning' },
  plan: { glyph: '☰', label: 'plan' },
  diff: { glyph: '±', label: 'diff' },
  review: { glyph: '✔', label: 'review' },
  compaction: { glyph: '⇣', label: 'compaction' },
  image: { glyph: '▣', label: 'image' },
};

/** Kinds whose start is not worth a line (their completion says everything). */
const QUIET_START = new Set(['reasoning', 'plan', 'diff']);

function toolSubject(kind: string, title: string, data: Json): string {
  switch (kind) {
    case 'command':
      return oneLine(displayCommand(data.command) ?? title);
    case 'fileChange': {
      const changes = Array.isArray(data.changes) ? data.changes.map(obj) : [];
      const paths = changes.map((c) => str(c?.path)).filter((p): p is string => !!p);
      return paths.length ? paths.join(', ') : title.replace(/^Edit /, '');
    }
    case 'mcpToolCall':
      return str(data.server) && str(data.tool) ? `${data.server}.${data.tool}` : title;
    case 'webSearch':
      return str(data.query) ?? title.replace(/^Search: /, '');
    case 'review':
      return oneLine(str(data.target) ?? title.replace(/^Review: /, ''), 80);
    case 'compaction':
      return 'conversation context';
    case 'image':
      return oneLine(str(data.savedPath) ?? str(data.path) ?? title);
    default:
      return title;
  }
}

function completionNote(kind: string, status: string | undefined, data: Json): string {
  const exit = num(data.exitCode);
  const exitNote = exit !== undefined ? ` (exit ${exit})` : '';
  const failed = status === 'failed' || status === 'error' || (exit !== undefined && exit !== 0);
  const reason = str(data.reason);
  if (status === 'declined') return `declined${reason ? `: ${oneLine(reason, 80)}` : ''}`;
  if (status === 'interrupted' || status === 'cancelled' || status === 'canceled') return `${status}${reason ? `: ${oneLine(reason, 80)}` : ''}`;
  switch (kind) {
    case 'diff':
      return formatDiffStat(diffStat(str(data.diff) ?? ''));
    case 'fileChange': {
      const changes = Array.isArray(data.changes) ? data.changes.map(obj) : [];
      let added = 0;
      let removed = 0;
      for (const c of changes) {
        const n = changeCounts(str(c?.diff) ?? '', str(c?.kind) ?? str(obj(c?.kind)?.type));
        added += n.added;
        removed += n.removed;
      }
      const counts = changes.length ? ` (+${added} -${removed})` : '';
      return `${failed ? 'failed' : 'done'}${counts}`;
    }
    case 'plan': {
      const steps = Array.isArray(data.plan) ? data.plan.map(obj) : [];
      const done = steps.filter((s) => s?.status === 'completed').length;
      const current = steps.find((s) => s?.status === 'inProgress' || s?.status === 'in_progress');
      return `${done}/${steps.length} steps done${current && str(current.step) ? `; now: ${oneLine(String(current.step), 60)}` : ''}`;
    }
    case 'reasoning': {
      const summary = Array.isArray(data.summary) ? data.summary.map(String).join(' ') : '';
      return summary ? oneLine(summary, 100) : 'done';
    }
    case 'review': {
      // The whole review follows as the agent's message; the line gives its gist.
      const review = str(data.review)?.trim();
      return failed ? 'failed' : review ? `done: ${oneLine(review, 100)}` : 'done';
    }
    case 'mcpToolCall': {
      const err = obj(data.error);
      if (err && str(err.message)) return `failed: ${oneLine(String(err.message), 80)}`;
      return failed ? `failed${exitNote}` : 'done';
    }
    default:
      return `${failed ? 'failed' : 'done'}${exitNote}`;
  }
}

/**
 * The line of a tool event: `⚙ command: echo hi > out.txt …` when it starts and
 * `⚙ command: echo hi > out.txt … done (exit 0)` when it completes. Undefined: no line.
 */
export function toolLine(t: ToolLike, phase: 'started' | 'completed'): string | undefined {
  const kind = str(t.kind) ?? 'other';
  if (phase === 'started' && QUIET_START.has(kind)) return undefined;
  const title = str(t.title) ?? kind;
  const data = obj(t.data) ?? {};
  const { glyph, label } = TOOL_LABEL[kind] ?? { glyph: '⚙', label: kind === 'other' ? 'tool' : kind };
  const subject = toolSubject(kind, title, data);
  const head = kind === 'diff' || kind === 'plan' || kind === 'reasoning' ? `${glyph} ${label}` : `${glyph} ${label}: ${subject}`;
  if (phase === 'started') return `${head} …`;
  const note = completionNote(kind, str(t.status), data);
  return kind === 'diff' || kind === 'plan' || kind === 'reasoning' ? `${head}: ${note}` : `${head} … ${note}`;
}

/** Whether a completed tool line reads as a failure (for coloring). */
export function toolFailed(t: ToolLike): boolean {
  const data = obj(t.data) ?? {};
  const exit = num(data.exitCode);
  return t.status === 'failed' || t.status === 'error' || (exit !== undefined && exit !== 0);
}

// ---------------------------------------------------------------------------------------
// History records and other one-line events

export type Tone = 'plain' | 'dim' | 'red' | 'yellow' | 'green' | 'cyan';
export interface Line {
  text: string;
  tone: Tone;
}

export function paint(style: Style, l: Line): string {
  switch (l.tone) {
    case 'red':
      return style.red(l.text);
    case 'yellow':
      return style.yellow(l.text);
    case 'green':
      return style.green(l.text);
    case 'cyan':
      return style.cyan(l.text);
    case 'dim':
      return style.dim(l.text);
    default:
      return l.text;
  }
}

export function noticeLine(level: unknown, text: unknown): Line {
  const t = str(text) ?? '';
  if (level === 'error') return { text: `✗ ${t}`, tone: 'red' };
  if (level === 'warning') return { text: `! ${t}`, tone: 'yellow' };
  return { text: `· ${t}`, tone: 'dim' };
}

export function resolvedLine(r: { approvalId?: unknown; outcome?: unknown; decision?: unknown; by?: unknown; reason?: unknown }): Line {
  const outcome = str(r.outcome) ?? 'resolved';
  const decision = str(r.decision);
  const reason = str(r.reason);
  const by = nameOf(r.by);
  const text = `${outcome === 'approved' || outcome === 'answered' ? '✓' : '✗'} approval ${str(r.approvalId) ?? ''} ${outcome}${decision ? ` (${decision})` : ''}${by ? ` by ${by}` : ''}${reason ? ` — ${oneLine(reason, 120)}` : ''}`;
  return { text, tone: outcome === 'approved' || outcome === 'answered' ? 'green' : outcome === 'withdrawn' ? 'dim' : 'yellow' };
}

/** ` · 1230 tokens (1200 in, 30 out)` when the turn's end carries Codex's token counts. */
export function usageText(u: unknown): string {
  const o = obj(u);
  const total = num(o?.totalTokens);
  if (!o || total === undefined) return '';
  return ` · ${total} tokens (${num(o.inputTokens) ?? 0} in, ${num(o.outputTokens) ?? 0} out)`;
}

export function turnEndLine(e: { type?: unknown; error?: unknown; reason?: unknown; usage?: unknown }): Line {
  const used = usageText(e.usage);
  if (e.type === 'turn.failed') return { text: `✗ turn failed: ${str(e.error) ?? 'unknown error'}${used}`, tone: 'red' };
  if (e.type === 'turn.interrupted') return { text: `■ turn interrupted${str(e.reason) ? `: ${e.reason}` : ''}${used}`, tone: 'yellow' };
  return { text: `✓ turn completed${used}`, tone: 'dim' };
}

/** Codex guardian (mode "guardian") reviewing one action, then its verdict. */
export function guardianLine(e: Json): Line {
  const title = oneLine(str(e.title) ?? 'an action', 160);
  const status = str(e.status);
  if (status === 'inProgress') return { text: `… Codex guardian reviewing: ${title}`, tone: 'dim' };
  if (status === 'approved') return { text: `✓ Codex guardian approved: ${title}`, tone: 'green' };
  const risk = str(e.riskLevel) ? ` (risk: ${oneLine(str(e.riskLevel)!, 20)})` : '';
  const why = str(e.rationale) ? ` — ${oneLine(str(e.rationale)!, 200)}` : '';
  const verdict = status === 'timedOut' ? 'timed out (denied)' : status === 'denied' ? 'denied' : 'aborted';
  return { text: `✗ Codex guardian ${verdict}: ${title}${risk}${why} [review ${oneLine(str(e.reviewId) ?? '', 80)}]`, tone: status === 'aborted' ? 'dim' : 'yellow' };
}

/** One history record (from the thread storage) as lines; an empty list hides it. */
export function historyLines(rec: unknown, you?: string): Line[] {
  const r = obj(rec);
  if (!r) return [];
  switch (r.kind) {
    case 'message': {
      const text = str(r.text) ?? '';
      if (r.role === 'assistant') return [{ text: `assistant: ${text}`, tone: 'plain' }];
      const author = obj(r.author);
      const who = nameOf(author?.name) ?? nameOf(author?.id) ?? 'user';
      return [{ text: `${who}: ${text}`, tone: str(author?.id) === you ? 'cyan' : 'plain' }];
    }
    case 'tool': {
      const line = toolLine({ kind: r.toolKind, title: r.title, status: r.status, data: r.data }, 'completed');
      return line ? [{ text: line, tone: 'dim' }] : [];
    }
    case 'approval':
      return [resolvedLine(r)];
    case 'notice':
      return [noticeLine(r.level, r.text)];
    case 'model':
      return [{ text: `· model: ${str(r.model) ?? '?'}`, tone: 'dim' }];
    case 'harness':
      return [{ text: `· harness: ${str(r.harness) ?? '?'}${str(r.reason) ? ` (${r.reason})` : ''}`, tone: 'dim' }];
    case 'turn':
      if (r.status === 'completed') return [];
      return [turnEndLine({ type: r.status === 'failed' ? 'turn.failed' : 'turn.interrupted', error: r.error, reason: r.error })];
    default:
      return [];
  }
}
