// Approval prompts of `switchboard chat`: one key per offered choice, the lines that say what
// is asked, and field-by-field forms (mcpForm) and questions (userInput). Pure functions; the
// events come off the wire, so every field is read defensively.
import { diffPreview, displayCommand, num, obj, oneLine, str, type Json } from './chat-render.js';
// ---------------------------------------------------------------------------------------
// Approval choices and prompts

export interface ChoiceKey {
  choice: string;
  key: string;
  label: string;
}

const PREFERRED_KEY: Record<string, string> = {
  accept: 'a',
  acceptForSession: 's',
  acceptAlways: 'y',
  acceptWithExecpolicyAmendment: 'e',
  decline: 'd',
  cancel: 'c',
  answer: 'a',
};

function choiceLabel(choice: string, detail: Json): string {
  switch (choice) {
    case 'accept':
      return 'accept';
    case 'acceptForSession':
      return 'accept for session';
    case 'acceptAlways':
      return 'always accept';
    case 'acceptWithExecpolicyAmendment': {
      const amendment = Array.isArray(detail.execpolicyAmendment) ? detail.execpolicyAmendment.map(String).join(' ') : '';
      return amendment ? `accept and allow "${amendment}" from now on` : 'accept and allow similar commands';
    }
    case 'decline':
      return 'decline';
    case 'cancel':
      return 'cancel';
    case 'answer':
      return 'answer';
    default: {
      const net = /^applyNetworkPolicyAmendment:(\w+):(.+)$/.exec(choice);
      if (net) return `${net[1]} network access to ${net[2]}`;
      return choice.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
    }
  }
}

/** A key for each offered choice: the usual letters first, then free letters, then digits. */
export function choiceKeys(choices: readonly string[], detail: Json = {}): ChoiceKey[] {
  const used = new Set<string>();
  const out: ChoiceKey[] = [];
  const pending: Array<{ choice: string; label: string }> = [];
  for (const choice of choices) {
    const label = choiceLabel(choice, detail);
    const k = PREFERRED_KEY[choice];
    if (k && !used.has(k)) {
      used.add(k);
      out.push({ choice, key: k, label });
    } else pending.push({ choice, label });
  }
  for (const p of pending) {
    const letters = [...p.label.toLowerCase()].filter((c) => /[a-z]/.test(c));
    let key = letters.find((c) => !used.has(c));
    if (!key) key = [...'123456789'].find((c) => !used.has(c)) ?? '0';
    used.add(key);
    out.push({ choice: p.choice, key, label: p.label });
  }
  // Keep the order the choices were offered in.
  return choices.map((c) => out.find((o) => o.choice === c)!);
}

export const choiceMenu = (keys: readonly ChoiceKey[]): string => keys.map((k) => `[${k.key}] ${k.label}`).join('  ');

/** The choice a typed answer names: its key, or the choice id / label spelled out. */
export function matchChoice(keys: readonly ChoiceKey[], typed: string): ChoiceKey | undefined {
  const t = typed.trim();
  if (!t) return undefined;
  return (
    keys.find((k) => k.key === t) ??
    keys.find((k) => k.key === t.toLowerCase()) ??
    keys.find((k) => k.choice.toLowerCase() === t.toLowerCase() || k.label === t.toLowerCase())
  );
}

export interface ApprovalLike {
  approvalId?: unknown;
  kind?: unknown;
  title?: unknown;
  detail?: unknown;
  choices?: unknown;
  reviewer?: unknown;
  expiresAt?: unknown;
}

/** What is asked and why: the lines shown above the choice menu. */
export function approvalLines(a: ApprovalLike, now = Date.now()): string[] {
  const kind = str(a.kind) ?? 'approval';
  const detail = obj(a.detail) ?? {};
  const lines: string[] = [];
  const expires = num(a.expiresAt);
  const left = expires !== undefined ? Math.max(0, Math.round((expires - now) / 1000)) : undefined;
  lines.push(`? approval needed (${kind}): ${oneLine(str(a.title) ?? '(untitled)', 200)}${left !== undefined ? `  [expires in ${left}s]` : ''}`);
  const field = (label: string, v: unknown) => {
    const s = typeof v === 'string' ? v : v === undefined || v === null ? undefined : JSON.stringify(v);
    if (s) lines.push(`  ${label}: ${oneLine(s, 400)}`);
  };
  const reason = str(detail.reason);
  switch (kind) {
    case 'command':
    case 'legacyCommand':
      field('command', displayCommand(detail.command) ?? detail.command);
      field('cwd', detail.cwd);
      if (obj(detail.network)) field('network', `${str(obj(detail.network)!.host) ?? '?'} (${str(obj(detail.network)!.protocol) ?? 'network'})`);
      break;
    case 'fileChange': {
      const changes = Array.isArray(detail.changes) ? detail.changes.map(obj) : [];
      if (detail.grantRoot) field('write access to', detail.grantRoot);
      let budget = 30;
      for (const c of changes) {
        if (!c || budget <= 0) continue;
        lines.push(`  ${str(c.kind) ?? (str(obj(c.kind)?.type) ?? 'change')} ${str(c.path) ?? '?'}`);
        const d = str(c.diff);
        if (d) {
          const preview = diffPreview(d, Math.min(budget, 20));
          budget -= preview.length;
          for (const l of preview) lines.push(`    ${l}`);
        }
      }
      break;
    }
    case 'legacyPatch': {
      const files = obj(detail.fileChanges) ?? {};
      for (const [path, change] of Object.entries(files)) {
        const c = obj(change) ?? {};
        lines.push(`  ${Object.keys(c)[0] ?? 'change'} ${path}`);
        const d = str(obj(c.update)?.unified_diff) ?? str(c.unified_diff);
        if (d) for (const l of diffPreview(d, 12)) lines.push(`    ${l}`);
      }
      if (detail.grantRoot) field('write access to', detail.grantRoot);
      break;
    }
    case 'permissions':
      field('cwd', detail.cwd);
      field('permissions', detail.permissions);
      field('note', detail.note);
      break;
    case 'mcpToolApproval':
      field('server', detail.server);
      field('tool', detail.toolTitle ?? detail.tool);
      field('description', detail.description);
      field('arguments', detail.argumentsDisplay ?? detail.arguments);
      break;
    case 'mcpUrl':
      field('server', detail.server);
      field('open', detail.url);
      break;
    case 'mcpForm':
      field('server', detail.server);
      if (str(detail.message) && detail.message !== a.title) field('message', detail.message);
      break;
    case 'userInput':
      break;
    default:
      for (const [k, v] of Object.entries(detail)) if (k !== 'reason') field(k, v);
  }
  if (reason) field('why', reason);
  if (obj(detail.escalatedFrom)) {
    const e = obj(detail.escalatedFrom)!;
    field('escalated', str(e.reason) ?? str(e.reviewer) ?? e);
  }
  return lines;
}

// Forms (mcpForm) and questions (userInput)

export interface FormFieldLike {
  name: string;
  title: string;
  description?: string;
  type: string;
  required: boolean;
  options?: Array<{ value: unknown; label: string }>;
  multiple: boolean;
  default?: unknown;
}

export function formFieldsOf(detail: unknown): FormFieldLike[] {
  const fields = obj(detail)?.fields;
  if (!Array.isArray(fields)) return [];
  return fields.map(obj).flatMap((f) => {
    if (!f || !str(f.name)) return [];
    const options = Array.isArray(f.options)
      ? f.options.map(obj).flatMap((o) => (o ? [{ value: o.value, label: str(o.label) ?? String(o.value) }] : []))
      : undefined;
    return [
      {
        name: String(f.name),
        title: str(f.title) ?? String(f.name),
        description: str(f.description),
        type: str(f.type) ?? 'string',
        required: f.required === true,
        options: options?.length ? options : undefined,
        multiple: f.multiple === true,
        default: f.default,
      },
    ];
  });
}

export function formFieldPrompt(f: FormFieldLike): string[] {
  const lines = [`  ${f.title}${f.required ? ' (required)' : ''}${f.description ? ` — ${oneLine(f.description, 120)}` : ''}`];
  if (f.options) f.options.forEach((o, i) => lines.push(`    ${i + 1}) ${o.label}`));
  return lines;
}

export function formFieldAsk(f: FormFieldLike): string {
  const hints: string[] = [];
  if (f.type === 'boolean') hints.push('y/n');
  else if (f.options) hints.push(f.multiple ? 'numbers, comma-separated' : 'number or value');
  else if (f.type !== 'string') hints.push(f.type);
  if (f.default !== undefined) hints.push(`default ${JSON.stringify(f.default)}`);
  return `${f.name}${hints.length ? ` [${hints.join(', ')}]` : ''}: `;
}

/**
 * The value of a typed form answer, or undefined to leave the field out. Scalars stay
 * text: the server validates them against its schema (coercing "42" to 42).
 */
export function formFieldValue(f: FormFieldLike, typed: string): { value?: unknown; problem?: string } {
  const t = typed.trim();
  if (!t) {
    if (f.default !== undefined) return { value: f.default };
    return f.required ? { problem: `${f.title} is required` } : {};
  }
  if (f.type === 'boolean') {
    if (/^(y|yes|true|1)$/i.test(t)) return { value: true };
    if (/^(n|no|false|0)$/i.test(t)) return { value: false };
    return { problem: 'answer y or n' };
  }
  const pick = (s: string): unknown => {
    const opts = f.options ?? [];
    const n = /^\d+$/.test(s) ? Number(s) : NaN;
    if (n >= 1 && n <= opts.length) return opts[n - 1]!.value;
    return opts.find((o) => o.label === s || String(o.value) === s)?.value ?? s;
  };
  if (f.multiple) return { value: t.split(',').map((s) => pick(s.trim())).filter((v) => v !== '') };
  return { value: f.options ? pick(t) : t };
}

export interface QuestionLike {
  id: string;
  header?: string;
  question: string;
  options?: Array<{ label: string; description?: string }>;
  isOther: boolean;
  isSecret: boolean;
}

export function questionsOf(detail: unknown): QuestionLike[] {
  const qs = obj(detail)?.questions;
  if (!Array.isArray(qs)) return [];
  return qs.map(obj).flatMap((q) => {
    if (!q || !str(q.id)) return [];
    const options = Array.isArray(q.options)
      ? q.options.map(obj).flatMap((o) => (o && str(o.label) ? [{ label: String(o.label), description: str(o.description) }] : []))
      : undefined;
    return [
      {
        id: String(q.id),
        header: str(q.header),
        question: str(q.question) ?? String(q.id),
        options: options?.length ? options : undefined,
        isOther: q.isOther === true,
        isSecret: q.isSecret === true,
      },
    ];
  });
}

export function questionPrompt(q: QuestionLike): string[] {
  const lines = [`  ${q.header ? `${q.header}: ` : ''}${q.question}`];
  q.options?.forEach((o, i) => lines.push(`    ${i + 1}) ${o.label}${o.description ? ` — ${oneLine(o.description, 100)}` : ''}`));
  if (q.options && q.isOther) lines.push('    (or type your own answer)');
  return lines;
}

/** A typed answer to a question: an option number picks that option's label. */
export function questionAnswer(q: QuestionLike, typed: string): { value?: string; problem?: string } {
  const t = typed.trim();
  if (!t) return { problem: 'an answer is required' };
  if (q.options) {
    const n = /^\d+$/.test(t) ? Number(t) : NaN;
    if (n >= 1 && n <= q.options.length) return { value: q.options[n - 1]!.label };
    const byLabel = q.options.find((o) => o.label.toLowerCase() === t.toLowerCase());
    if (byLabel) return { value: byLabel.label };
    if (!q.isOther) return { problem: `choose 1-${q.options.length}` };
  }
  return { value: t };
}

