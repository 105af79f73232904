// Printing: a divergence as the text a person reads, a run as one line.
import type { RoomEvent } from '../events/room-events.js';
import type { Divergence, RunResult } from './runner.js';
import type { Step } from './scenario.js';

export const strip = (a: { result?: unknown; error?: unknown }): { result?: unknown; error?: unknown } =>
  a.error !== undefined ? { error: a.error } : { result: a.result };

export function json(v: unknown, max = 200): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? 'undefined';
  } catch {
    s = String(v);
  }
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

export function stepMessage(i: number, step: Step, err: unknown): string {
  const verb = Object.keys(step).find((k) => k !== 'note') ?? '?';
  return `step ${i} (${verb}${step.note ? `: ${step.note}` : ''}) failed: ${(err as Error)?.message ?? String(err)}`;
}

// ---------------------------------------------------------------------------------------
// printing

function eventLine(index: number, e: RoomEvent): string {
  const { type, session: _s, at: _a, ...rest } = e as RoomEvent & Record<string, unknown>;
  return `[${index}] ${type} ${json(rest, 240)}`;
}

/** A divergence as the text a person reads: expected vs actual, where, and what happened last. */
export function formatDivergence(d: Divergence, name?: string): string {
  const lines = [`✗ ${name ? `scenario "${name}" ` : ''}diverged (${d.kind}): ${d.message}`];
  if (d.expected !== undefined) lines.push(`  expected: ${json(d.expected, 600)}`);
  if (d.actual !== undefined) {
    const a = d.actual as { index?: unknown; event?: RoomEvent };
    if (typeof a.index === 'number' && a.event) lines.push(`  actual:   ${eventLine(a.index, a.event)}`);
    else lines.push(`  actual:   ${json(d.actual, 600)}`);
  }
  if (d.mismatch) lines.push(`  differs at ${d.mismatch.path}: ${d.mismatch.why}`);
  for (const x of d.details) lines.push(`  ${x}`);
  if (d.lastEvents.length) {
    lines.push(`  last ${d.lastEvents.length} room event(s):`);
    for (const { index, event } of d.lastEvents) lines.push(`    ${eventLine(index, event)}`);
  } else {
    lines.push('  the room saw no events');
  }
  if (d.lastFrames.length) {
    lines.push(`  last ${d.lastFrames.length} frame(s):`);
    for (const f of d.lastFrames) lines.push(`    +${Math.round(f.t)}ms #${f.process} ${f.dir === 'client→server' ? '→' : '←'} ${f.text.length > 200 ? `${f.text.slice(0, 197)}...` : f.text}`);
  }
  return lines.join('\n');
}

/** A one-line summary of a run. */
export function summarize(r: RunResult): string {
  return r.ok
    ? `✓ ${r.name}: ${r.stepsRun} steps, ${r.events.length} room events, ${Math.round(r.virtualMs)} ms virtual`
    : formatDivergence(r.divergence!, r.name);
}
