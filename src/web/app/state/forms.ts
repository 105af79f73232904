// The forms of approval cards: an MCP server's form (fields from `detail.fields`, else from
// `detail.schema`) and Codex's user-input questions. Checked here before anything is sent,
// the way the server will check them (src/approvals/form.ts, kinds/user-input.ts), so a
// person sees the problem next to the field instead of a refusal afterwards.
import { arr, line, num, obj, text, type Json } from '../clean.js';

export interface FormField {
  name: string;
  title: string;
  description: string | undefined;
  type: string;
  required: boolean;
  options: Array<{ value: unknown; label: string }> | undefined;
  multiple: boolean;
  format: string | undefined;
  minimum: number | undefined;
  maximum: number | undefined;
  minLength: number | undefined;
  maxLength: number | undefined;
  default: unknown;
}

/** Raw input per field: text for inputs and selects, a flag for checkboxes, picked indexes for multi-selects. */
export type FieldValue = string | boolean | string[];
export type FormValues = Record<string, FieldValue>;

const MAX_FIELDS = 100;
const MAX_OPTIONS = 500;

function optionsOf(p: Json): FormField['options'] {
  const names = arr(p.enumNames);
  if (Array.isArray(p.enum)) return p.enum.slice(0, MAX_OPTIONS).map((v, i) => ({ value: v, label: line(names[i], 200) ?? line(String(v), 200) ?? '' }));
  const oneOf = Array.isArray(p.oneOf) ? p.oneOf : Array.isArray(p.anyOf) ? p.anyOf : undefined;
  const consts = (oneOf ?? []).map(obj).filter((o): o is Json => o !== undefined && 'const' in o);
  return consts.length ? consts.slice(0, MAX_OPTIONS).map((o) => ({ value: o.const, label: line(o.title, 200) ?? line(String(o.const), 200) ?? '' })) : undefined;
}

function fieldFromSchema(name: string, p: Json, required: boolean): FormField {
  const items = obj(p.items);
  const multiple = p.type === 'array';
  return {
    name,
    title: line(p.title, 200) ?? name,
    description: text(p.description, 2000),
    type: line(p.type, 20) ?? 'string',
    required,
    options: optionsOf(multiple && items ? items : p),
    multiple,
    format: line(p.format, 40),
    minimum: num(p.minimum),
    maximum: num(p.maximum),
    minLength: num(p.minLength),
    maxLength: num(p.maxLength),
    default: p.default,
  };
}

function fieldFromDetail(raw: unknown): FormField | undefined {
  const f = obj(raw);
  const name = line(f?.name, 200);
  if (!f || !name) return undefined;
  const options = Array.isArray(f.options)
    ? f.options
        .slice(0, MAX_OPTIONS)
        .map(obj)
        .filter((o): o is Json => o !== undefined)
        .map((o) => ({ value: o.value, label: line(o.label, 200) ?? line(String(o.value), 200) ?? '' }))
    : undefined;
  return {
    name,
    title: line(f.title, 200) ?? name,
    description: text(f.description, 2000),
    type: line(f.type, 20) ?? 'string',
    required: f.required === true,
    options,
    multiple: f.multiple === true,
    format: line(f.format, 40),
    minimum: num(f.minimum),
    maximum: num(f.maximum),
    minLength: num(f.minLength),
    maxLength: num(f.maxLength),
    default: f.default,
  };
}

/** The form's fields: the server's list when it sent one, else derived from the JSON schema. */
export function formFieldsOf(detail: Json): FormField[] {
  if (Array.isArray(detail.fields)) return detail.fields.slice(0, MAX_FIELDS).map(fieldFromDetail).filter((f): f is FormField => f !== undefined);
  const schema = obj(detail.schema);
  const props = obj(schema?.properties) ?? {};
  const required = new Set(arr(schema?.required).filter((r): r is string => typeof r === 'string'));
  return Object.entries(props)
    .slice(0, MAX_FIELDS)
    .map(([name, p]) => fieldFromSchema(name, obj(p) ?? {}, required.has(name)));
}

export function initialValues(fields: FormField[]): FormValues {
  const v: FormValues = {};
  for (const f of fields) {
    if (f.multiple) v[f.name] = [];
    else if (f.type === 'boolean') v[f.name] = f.default === true;
    else if (f.options) {
      const i = f.options.findIndex((o) => o.value === f.default);
      v[f.name] = i >= 0 ? String(i) : '';
    } else v[f.name] = f.default === undefined || f.default === null ? '' : String(f.default);
  }
  return v;
}

const FORMATS: Record<string, { test: (s: string) => boolean; what: string }> = {
  email: { test: (s) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s), what: 'an email address' },
  uri: {
    test: (s) => {
      try {
        new URL(s);
        return true;
      } catch {
        return false;
      }
    },
    what: 'a URL',
  },
  date: { test: (s) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(s)), what: 'a date (YYYY-MM-DD)' },
  'date-time': { test: (s) => /^\d{4}-\d{2}-\d{2}T/.test(s) && !Number.isNaN(Date.parse(s)), what: 'a date and time' },
};

type Checked = { ok: true; value: unknown } | { ok: false; error: string } | { ok: true; skip: true };

function checkField(f: FormField, raw: FieldValue | undefined): Checked {
  if (f.multiple) {
    const picked = Array.isArray(raw) ? raw : [];
    if (!picked.length) return f.required ? { ok: false, error: 'Choose at least one' } : { ok: true, skip: true };
    const values = picked.map((i) => f.options?.[Number(i)]);
    if (values.some((o) => o === undefined)) return { ok: false, error: 'Choose from the options' };
    return { ok: true, value: values.map((o) => o!.value) };
  }
  if (f.type === 'boolean') return { ok: true, value: raw === true };
  const s = typeof raw === 'string' ? raw.trim() : '';
  if (!s) return f.required ? { ok: false, error: 'Required' } : { ok: true, skip: true };
  if (f.options) {
    const o = f.options[Number(s)];
    return o ? { ok: true, value: o.value } : { ok: false, error: 'Choose one of the options' };
  }
  if (f.type === 'number' || f.type === 'integer') {
    const n = Number(s);
    if (!Number.isFinite(n)) return { ok: false, error: 'Enter a number' };
    if (f.type === 'integer' && !Number.isInteger(n)) return { ok: false, error: 'Enter a whole number' };
    if (f.minimum !== undefined && n < f.minimum) return { ok: false, error: `At least ${f.minimum}` };
    if (f.maximum !== undefined && n > f.maximum) return { ok: false, error: `At most ${f.maximum}` };
    return { ok: true, value: n };
  }
  const len = [...s].length;
  if (f.minLength !== undefined && len < f.minLength) return { ok: false, error: `At least ${f.minLength} characters` };
  if (f.maxLength !== undefined && len > f.maxLength) return { ok: false, error: `At most ${f.maxLength} characters` };
  const fmt = f.format ? FORMATS[f.format] : undefined;
  if (fmt && !fmt.test(s)) return { ok: false, error: `Enter ${fmt.what}` };
  return { ok: true, value: s };
}

export type FormCheck = { ok: true; content: Record<string, unknown> } | { ok: false; errors: Record<string, string> };

export function validateForm(fields: FormField[], values: FormValues): FormCheck {
  const content: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const f of fields) {
    const r = checkField(f, values[f.name]);
    if (!r.ok) errors[f.name] = r.error;
    else if (!('skip' in r)) content[f.name] = r.value;
  }
  return Object.keys(errors).length ? { ok: false, errors } : { ok: true, content };
}

// ---------------------------------------------------------------------------------------
// requestUserInput questions

export interface Question {
  id: string;
  header: string | undefined;
  question: string;
  options: Array<{ label: string; description: string | undefined }> | undefined;
  isOther: boolean;
  isSecret: boolean;
}

/** The choice value of the "Other" radio (never a label: labels are remote strings). */
export const OTHER = '\u0000other';

export function questionsOf(detail: Json): Question[] {
  return arr(detail.questions)
    .slice(0, MAX_FIELDS)
    .map(obj)
    .filter((q): q is Json => q !== undefined && typeof q.id === 'string')
    .map((q) => ({
      id: line(q.id, 200) ?? '',
      header: line(q.header, 200),
      question: text(q.question, 5000) ?? '',
      options: Array.isArray(q.options)
        ? q.options
            .slice(0, MAX_OPTIONS)
            .map(obj)
            .filter((o): o is Json => o !== undefined)
            .map((o) => ({ label: line(o.label, 500) ?? '', description: text(o.description, 2000) }))
        : undefined,
      isOther: q.isOther === true,
      isSecret: q.isSecret === true,
    }));
}

/** Values: `choice:<id>` is the picked option label (or OTHER), `text:<id>` the typed answer. */
export function validateAnswers(questions: Question[], values: FormValues): FormCheck {
  const content: Record<string, string> = {};
  const errors: Record<string, string> = {};
  for (const q of questions) {
    const choice = values[`choice:${q.id}`];
    const typed = typeof values[`text:${q.id}`] === 'string' ? (values[`text:${q.id}`] as string).trim() : '';
    const hasOptions = !!q.options?.length;
    if (hasOptions && choice !== OTHER) {
      if (typeof choice !== 'string' || !q.options!.some((o) => o.label === choice)) errors[q.id] = 'Choose an answer';
      else content[q.id] = choice;
    } else if (!typed) {
      errors[q.id] = 'Answer this question';
    } else {
      content[q.id] = typed;
    }
  }
  return Object.keys(errors).length ? { ok: false, errors } : { ok: true, content };
}
