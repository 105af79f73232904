// Tool cards: one per toolId, updated in place. `tool.started`/`tool.completed` carry the
// whole Codex item; `tool.updated` carries either a delta (command output, reasoning text,
// plan text, MCP progress, patch changes) or, for the turn's diff and plan, the whole value.
import { arr, cleanText, num, obj, type Json } from '../clean.js';
import type { HistoryRecord, ToolEvent } from '../frames.js';
import type { ToolEntry, ToolLive } from './types.js';

/** Streamed text kept per card (the tail: the newest output matters most). */
export const MAX_LIVE_TEXT = 200_000;
const MAX_PROGRESS = 50;

const emptyLive = (): ToolLive => ({ output: '', reasoning: '', summary: [], plan: '', progress: [] });

function appendCapped(prev: string, delta: string): string {
  const s = prev + delta;
  return s.length > MAX_LIVE_TEXT ? s.slice(s.length - MAX_LIVE_TEXT) : s;
}

const DELTA_KEYS = ['outputDelta', 'summaryDelta', 'textDelta', 'planDelta', 'progress', 'changes', 'stdin'] as const;
const isDelta = (d: Json): boolean => DELTA_KEYS.some((k) => k in d);

function applyDelta(entry: ToolEntry, d: Json): ToolEntry {
  const live = { ...entry.live };
  let data = entry.data;
  if (typeof d.outputDelta === 'string') live.output = appendCapped(live.output, cleanText(d.outputDelta));
  if (typeof d.stdin === 'string') live.output = appendCapped(live.output, cleanText(d.stdin));
  if (typeof d.textDelta === 'string') live.reasoning = appendCapped(live.reasoning, cleanText(d.textDelta));
  if (typeof d.planDelta === 'string') live.plan = appendCapped(live.plan, cleanText(d.planDelta));
  if (typeof d.summaryDelta === 'string') {
    const i = Math.max(0, Math.min(num(d.summaryIndex) ?? live.summary.length - 1, 1000));
    const summary = [...live.summary];
    while (summary.length <= i) summary.push('');
    summary[i] = appendCapped(summary[i] ?? '', cleanText(d.summaryDelta));
    live.summary = summary;
  }
  if (typeof d.progress === 'string') live.progress = [...live.progress, cleanText(d.progress, 2000)].slice(-MAX_PROGRESS);
  if (Array.isArray(d.changes)) data = { ...data, changes: d.changes };
  return { ...entry, live, data };
}

export function applyToolEvent(prev: ToolEntry | undefined, id: string, e: ToolEvent): ToolEntry {
  const known = e.kind !== 'other' || !prev;
  const base: ToolEntry = prev ?? {
    kind: 'tool',
    id,
    toolId: e.toolId,
    turnId: e.turnId,
    toolKind: e.kind,
    title: e.title,
    status: e.status,
    data: {},
    live: emptyLive(),
    done: false,
    at: e.at,
  };
  // Deltas of a tool whose start was missed arrive as kind "other": keep what we know.
  const head = known ? { toolKind: e.kind, title: e.title } : {};
  if (e.type === 'tool.updated' && isDelta(e.data)) {
    return applyDelta({ ...base, ...head, status: e.status ?? base.status }, e.data);
  }
  const data = e.type === 'tool.updated' ? { ...base.data, ...e.data } : e.data;
  return { ...base, ...head, status: e.status ?? base.status, data, done: e.type === 'tool.completed' };
}

export function toolFromRecord(prev: ToolEntry | undefined, id: string, r: Extract<HistoryRecord, { kind: 'tool' }>): ToolEntry {
  return {
    kind: 'tool',
    id,
    toolId: r.toolId,
    turnId: r.turnId,
    toolKind: r.toolKind,
    title: r.title,
    status: r.status,
    data: r.data,
    live: prev?.live ?? emptyLive(),
    done: true,
    at: prev?.at ?? r.at,
  };
}

/** The output a command card shows: Codex's aggregate once known, else what streamed. */
export function commandOutput(t: ToolEntry): string {
  const agg = t.data.aggregatedOutput;
  return typeof agg === 'string' && agg.length >= t.live.output.length ? cleanText(agg, MAX_LIVE_TEXT) : t.live.output;
}

/** Reasoning summary parts: the item's `summary` once complete, else the streamed parts. */
export function reasoningSummary(t: ToolEntry): string[] {
  const s = arr(t.data.summary).filter((x): x is string => typeof x === 'string');
  return s.length ? s.map((x) => cleanText(x, 20_000)) : t.live.summary;
}

export const isFailed = (t: Pick<ToolEntry, 'status' | 'data'>): boolean => {
  const exit = num(obj(t.data)?.exitCode);
  return t.status === 'failed' || t.status === 'error' || t.status === 'declined' || (exit !== undefined && exit !== 0);
};
