// A tool card, one per tool use, updated in place: command (with its output), file change,
// MCP tool call, dynamic tool call, reasoning, plan, the turn's diff, web search, a review, a
// compaction. Collapsible.
import { arr, jsonText, line, num, obj, text, type Json } from '../clean.js';
import { displayCommand } from '../../../util/display-command.js';
import { unifiedForChange } from '../render/diff.js';
import { commandOutput, isFailed, reasoningSummary } from '../state/tools.js';
import type { ToolEntry } from '../state/types.js';
import { DiffView } from './DiffView.js';
import { pure } from './hooks.js';

const KIND_LABEL: Record<string, string> = {
  command: 'Command',
  fileChange: 'File change',
  mcpToolCall: 'MCP tool',
  dynamicToolCall: 'Tool',
  reasoning: 'Reasoning',
  plan: 'Plan',
  diff: 'Changes',
  webSearch: 'Web search',
  review: 'Review',
  compaction: 'Compaction',
};

function statusText(t: ToolEntry): string {
  const exit = num(t.data.exitCode);
  if (!t.done) return t.status === 'inProgress' || !t.status ? 'running' : t.status;
  if (exit !== undefined) return `${t.status ?? 'completed'} · exit ${exit}`;
  return t.status ?? 'completed';
}

/** The command as a person reads it: the script inside Codex's `bash -lc '…'` wrapper. */
function commandText(t: ToolEntry): string {
  const c = t.data.command;
  const raw = typeof c === 'string' || (Array.isArray(c) && c.every((a) => typeof a === 'string')) ? displayCommand(c as string | string[]) : t.title;
  return line(displayCommand(raw), 5000) ?? '';
}

function CommandBody({ t }: { t: ToolEntry }) {
  const cwd = line(t.data.cwd, 1000);
  const out = commandOutput(t);
  const ms = num(t.data.durationMs);
  return (
    <div class="tool-body">
      <pre class="cmd">
        <span class="prompt" aria-hidden="true">$ </span>
        {commandText(t)}
      </pre>
      {cwd ? <p class="meta">in {cwd}{ms !== undefined ? ` · ${(ms / 1000).toFixed(1)} s` : ''}</p> : null}
      {out ? <pre class="output" tabIndex={0} aria-label="Command output">{out}</pre> : <p class="meta">{t.done ? 'No output' : 'Waiting for output…'}</p>}
    </div>
  );
}

function FileChangeBody({ t }: { t: ToolEntry }) {
  const changes = arr(t.data.changes).map(obj).filter((c): c is Json => c !== undefined).slice(0, 200);
  if (!changes.length) return <p class="meta">No changes listed</p>;
  return (
    <div class="tool-body">
      {changes.map((c, i) => {
        const path = line(c.path, 1000) ?? '?';
        const kind = line(c.kind, 20) ?? line(obj(c.kind)?.type, 20);
        const diff = text(c.diff, 400_000);
        return (
          <div class="change" key={`${path}:${i}`}>
            <p class="meta">
              <span class="path">{path}</span> {kind ? <span class="badge">{kind}</span> : null}
            </p>
            {diff ? <DiffView diff={unifiedForChange(path, kind, diff)} label={`Changes to ${path}`} /> : null}
          </div>
        );
      })}
    </div>
  );
}

function mcpResultText(result: unknown): string | undefined {
  const content = arr(obj(result)?.content);
  const texts = content.map((c) => text(obj(c)?.text, 50_000)).filter((s): s is string => !!s);
  if (texts.length) return texts.join('\n');
  return result === undefined || result === null ? undefined : jsonText(result);
}

function McpBody({ t }: { t: ToolEntry }) {
  const err = line(obj(t.data.error)?.message, 2000);
  const result = mcpResultText(t.data.result);
  return (
    <div class="tool-body">
      {t.data.arguments !== undefined ? (
        <>
          <p class="meta">Arguments</p>
          <pre class="json">{jsonText(t.data.arguments)}</pre>
        </>
      ) : null}
      {t.live.progress.length ? (
        <ul class="progress">
          {t.live.progress.map((p, i) => (
            <li key={i}>{p}</li>
          ))}
        </ul>
      ) : null}
      {err ? <p class="error-text">Error: {err}</p> : null}
      {result ? (
        <>
          <p class="meta">Result</p>
          <pre class="output">{result}</pre>
        </>
      ) : null}
    </div>
  );
}

function DynamicBody({ t }: { t: ToolEntry }) {
  const items = arr(t.data.contentItems).map((c) => text(obj(c)?.text, 50_000)).filter((s): s is string => !!s);
  const success = t.data.success;
  return (
    <div class="tool-body">
      {t.data.arguments !== undefined ? <pre class="json">{jsonText(t.data.arguments)}</pre> : null}
      {typeof success === 'boolean' ? <p class="meta">{success ? 'Succeeded' : 'Failed'}</p> : null}
      {items.length ? <pre class="output">{items.join('\n')}</pre> : null}
    </div>
  );
}

function ReasoningBody({ t }: { t: ToolEntry }) {
  const summary = reasoningSummary(t);
  const content = arr(t.data.content).filter((s): s is string => typeof s === 'string');
  const raw = content.length ? content.map((s) => text(s, 50_000) ?? '').join('\n\n') : t.live.reasoning;
  return (
    <div class="tool-body reasoning">
      {summary.map((s, i) => (
        <p key={i} class="msg-text">{s}</p>
      ))}
      {raw ? <pre class="output">{raw}</pre> : null}
      {!summary.length && !raw ? <p class="meta">{t.done ? 'No summary' : 'Thinking…'}</p> : null}
    </div>
  );
}

const STEP_MARK: Record<string, string> = { completed: '✓', inProgress: '▸', in_progress: '▸', pending: '○' };

function PlanBody({ t }: { t: ToolEntry }) {
  const explanation = text(t.data.explanation, 5000);
  const steps = arr(t.data.plan).map(obj).filter((s): s is Json => s !== undefined).slice(0, 100);
  const planText = text(t.data.text, 50_000) ?? t.live.plan;
  return (
    <div class="tool-body">
      {explanation ? <p class="msg-text">{explanation}</p> : null}
      {steps.length ? (
        <ol class="plan">
          {steps.map((s, i) => {
            const status = line(s.status, 20) ?? 'pending';
            return (
              <li key={i} class={`step step-${status}`}>
                <span class="step-mark" aria-hidden="true">{STEP_MARK[status] ?? '○'}</span> <span class="step-text">{line(s.step, 1000)}</span>
                <span class="sr-only"> ({status})</span>
              </li>
            );
          })}
        </ol>
      ) : null}
      {!steps.length && planText ? <pre class="output">{planText}</pre> : null}
    </div>
  );
}

/** A `/codex review`: what was reviewed and Codex's findings (also posted as the agent's message). */
function ReviewBody({ t }: { t: ToolEntry }) {
  const target = line(t.data.target, 500);
  const review = text(t.data.review, 200_000);
  return (
    <div class="tool-body review">
      {target ? <p class="meta">Reviewed: {target}</p> : null}
      {review ? <p class="msg-text">{review}</p> : <p class="meta">{t.done ? 'No findings reported' : 'Reviewing…'}</p>}
    </div>
  );
}

/** An image Codex viewed or generated: where it is on the agent's machine (the bytes stay there). */
function ImageBody({ t }: { t: ToolEntry }) {
  const where = line(t.data.savedPath, 1000) ?? line(t.data.path, 1000);
  const prompt = text(t.data.revisedPrompt, 4000);
  const failure = line(obj(t.data.failure)?.type, 100);
  return (
    <div class="tool-body image">
      {where ? <p class="meta">{where}</p> : null}
      {prompt ? <p class="msg-text">{prompt}</p> : null}
      {failure ? <p class="meta">Not generated: {failure}</p> : null}
    </div>
  );
}

function Body({ t }: { t: ToolEntry }) {
  switch (t.toolKind) {
    case 'command':
      return <CommandBody t={t} />;
    case 'fileChange':
      return <FileChangeBody t={t} />;
    case 'mcpToolCall':
      return <McpBody t={t} />;
    case 'dynamicToolCall':
      return <DynamicBody t={t} />;
    case 'reasoning':
      return <ReasoningBody t={t} />;
    case 'plan':
      return <PlanBody t={t} />;
    case 'diff': {
      const diff = text(t.data.diff, 1_000_000);
      return diff ? <DiffView diff={diff} label="Changes of this turn" /> : <p class="meta">No changes</p>;
    }
    case 'webSearch':
      return <p class="meta">{line(t.data.query, 1000) ?? t.title}</p>;
    case 'review':
      return <ReviewBody t={t} />;
    case 'image':
      return <ImageBody t={t} />;
    case 'compaction':
      return <p class="meta">{t.done ? 'Codex summarised the conversation so far to free its context window.' : 'Codex is summarising the conversation so far…'}</p>;
    default:
      return <pre class="json">{jsonText(t.data)}</pre>;
  }
}

/** The card's title next to its kind label (kinds that are their own title show none). */
function titleOf(t: ToolEntry): string {
  if (t.toolKind === 'command') return commandText(t);
  if (UNTITLED.has(t.toolKind)) return '';
  if (t.toolKind === 'review') return line(t.data.target, 200) ?? t.title.replace(/^Review: /, '');
  return t.title;
}
const UNTITLED = new Set(['diff', 'plan', 'reasoning', 'compaction']);

/** Cards that start open: what a reader wants to see without a click. */
const OPEN_BY_DEFAULT = new Set(['diff', 'plan', 'fileChange', 'review']);

export const ToolCard = pure(function ToolCard({ entry }: { entry: ToolEntry }) {
  const failed = isFailed(entry);
  const label = KIND_LABEL[entry.toolKind] ?? 'Tool';
  const state = !entry.done ? 'running' : failed ? 'failed' : 'done';
  return (
    <details class={`tool tool-${entry.toolKind} tool-${state}`} data-tool-id={entry.toolId} data-tool-kind={entry.toolKind} data-status={state} open={OPEN_BY_DEFAULT.has(entry.toolKind)}>
      <summary>
        <span class="tool-kind">{label}</span>
        <span class="tool-title">{titleOf(entry)}</span>
        <span class={`tool-status status-${state}`}>{statusText(entry)}</span>
      </summary>
      <Body t={entry} />
    </details>
  );
});
