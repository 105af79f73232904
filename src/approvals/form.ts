// MCP form elicitations: the fields a room shows, and validation of the user's answer
// against the server's own `requestedSchema` (JSON Schema, via ajv). Nothing is guessed
// from free text: an answer that does not satisfy the schema is declined.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

export interface FormField {
  name: string;
  title: string;
  description: string | undefined;
  type: string;
  required: boolean;
  /** Allowed values (enum / oneOf const), with labels when the schema names them. */
  options: Array<{ value: unknown; label: string }> | undefined;
  multiple: boolean;
  format: string | undefined;
  default: unknown;
  minimum: number | undefined;
  maximum: number | undefined;
  minLength: number | undefined;
  maxLength: number | undefined;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function optionsOf(prop: Json): Array<{ value: unknown; label: string }> | undefined {
  const names = Array.isArray(prop.enumNames) ? (prop.enumNames as unknown[]) : undefined;
  if (Array.isArray(prop.enum)) return prop.enum.map((v, i) => ({ value: v, label: str(names?.[i]) ?? String(v) }));
  const oneOf = Array.isArray(prop.oneOf) ? prop.oneOf : Array.isArray(prop.anyOf) ? prop.anyOf : undefined;
  if (oneOf) {
    const opts = oneOf.map(obj).filter((o): o is Json => o !== undefined && 'const' in o);
    if (opts.length) return opts.map((o) => ({ value: o.const, label: str(o.title) ?? String(o.const) }));
  }
  return undefined;
}

/** The fields of a form schema, in schema order, for a room to render. */
export function formFields(schema: unknown): FormField[] {
  const s = obj(schema);
  const props = obj(s?.properties) ?? {};
  const required = new Set(Array.isArray(s?.required) ? (s!.required as unknown[]).filter((r): r is string => typeof r === 'string') : []);
  return Object.entries(props).map(([name, raw]) => {
    const p = obj(raw) ?? {};
    const items = obj(p.items);
    const multiple = p.type === 'array';
    return {
      name,
      title: str(p.title) ?? name,
      description: str(p.description),
      type: str(p.type) ?? 'string',
      required: required.has(name),
      options: optionsOf(multiple && items ? items : p),
      multiple,
      format: str(p.format),
      default: p.default,
      minimum: num(p.minimum),
      maximum: num(p.maximum),
      minLength: num(p.minLength),
      maxLength: num(p.maxLength),
    };
  });
}

// One ajv for all forms: compiling is cached per schema object only, so keep it small.
// Scalars are coerced ("42" → 42) because chat answers arrive as text; nothing else is.
const ajv = new Ajv({ strict: false, allErrors: true, coerceTypes: true, useDefaults: false });
// Formats MCP allows in form fields (ajv-formats is not a dependency; these are enough).
ajv.addFormat('email', /^[^\s@]+@[^\s@]+\.[^\s@]+$/);
ajv.addFormat('uri', (v: string) => {
  try {
    new URL(v);
    return true;
  } catch {
    return false;
  }
});
ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
ajv.addFormat('date-time', (v: string) => /^\d{4}-\d{2}-\d{2}T/.test(v) && !Number.isNaN(Date.parse(v)));

// Tool arguments come from the model as JSON already: no coercion.
const strictAjv = new Ajv({ strict: false, allErrors: true });

export type FormCheck = { ok: true; content: Json } | { ok: false; problem: string };

const describe = (errors: ErrorObject[] | null | undefined): string =>
  (errors ?? [])
    .map((e) => `${e.instancePath ? e.instancePath.slice(1).replaceAll('/', '.') : '(form)'} ${e.message ?? 'is invalid'}`)
    .join('; ') || 'invalid';

/**
 * Validate `content` against the elicitation's `requestedSchema`. Returns the (coerced)
 * content to send, or a readable problem. Fields the schema does not define are refused:
 * the server gets exactly what it asked for.
 */
export function validateFormContent(schema: unknown, content: unknown): FormCheck {
  const s = obj(schema);
  if (!s) return { ok: false, problem: 'the request has no form schema' };
  const data = obj(content);
  if (!data) return { ok: false, problem: 'the answer must be an object of field values' };
  const known = new Set(Object.keys(obj(s.properties) ?? {}));
  const unknown = Object.keys(data).filter((k) => !known.has(k));
  if (unknown.length) return { ok: false, problem: `unknown field(s): ${unknown.join(', ')}` };
  let validate: ValidateFunction;
  try {
    // `$schema` may name a draft ajv's default build does not carry; the keywords are the same.
    const { $schema: _ignored, ...rest } = s;
    validate = ajv.compile(rest);
    ajv.removeSchema(rest); // ajv caches by object identity: one entry per request would leak
  } catch (err) {
    return { ok: false, problem: `the form schema is invalid: ${(err as Error).message}` };
  }
  const copy = structuredClone(data); // coercion mutates; keep the caller's object intact
  if (!validate(copy)) return { ok: false, problem: describe(validate.errors) };
  return { ok: true, content: copy };
}

/** Validate arbitrary JSON against a JSON Schema (dynamic tool arguments). */
export function validateJson(schema: unknown, value: unknown): { ok: true } | { ok: false; problem: string } {
  const s = obj(schema);
  if (!s) return { ok: true };
  try {
    const { $schema: _ignored, ...rest } = s;
    const validate = strictAjv.compile(rest);
    strictAjv.removeSchema(rest);
    return validate(value) ? { ok: true } : { ok: false, problem: describe(validate.errors) };
  } catch (err) {
    return { ok: false, problem: `the schema is invalid: ${(err as Error).message}` };
  }
}
