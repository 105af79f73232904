// The inputs of an approval card: an MCP server's form and Codex's questions. Controlled by
// the card (it validates and sends); each field shows its own problem next to it.
import type { FormField, FormValues, Question } from '../state/forms.js';
import { OTHER } from '../state/forms.js';

interface FormProps {
  idPrefix: string;
  values: FormValues;
  errors: Record<string, string>;
  disabled: boolean;
  onChange(name: string, value: FormValues[string]): void;
}

const inputType = (f: FormField): 'number' | 'email' | 'url' | 'date' | 'text' => {
  if (f.type === 'number' || f.type === 'integer') return 'number';
  if (f.format === 'email') return 'email';
  if (f.format === 'uri') return 'url';
  if (f.format === 'date') return 'date';
  return 'text';
};

function FieldError({ id, error }: { id: string; error: string | undefined }) {
  return error ? (
    <p class="field-error" id={id}>
      {error}
    </p>
  ) : null;
}

function Field({ f, p }: { f: FormField; p: FormProps }) {
  const id = `${p.idPrefix}-${f.name}`;
  const errId = `${id}-error`;
  const error = p.errors[f.name];
  const describedBy = [f.description ? `${id}-help` : '', error ? errId : ''].filter(Boolean).join(' ') || undefined;
  const label = `${f.title}${f.required ? ' (required)' : ''}`;
  const help = f.description ? (
    <p class="field-help" id={`${id}-help`}>
      {f.description}
    </p>
  ) : null;
  if (f.multiple && f.options) {
    const picked = Array.isArray(p.values[f.name]) ? (p.values[f.name] as string[]) : [];
    return (
      <fieldset class="field" aria-describedby={describedBy} aria-invalid={error ? true : undefined}>
        <legend>{label}</legend>
        {help}
        {f.options.map((o, i) => (
          <label class="check" key={i}>
            <input
              type="checkbox"
              disabled={p.disabled}
              checked={picked.includes(String(i))}
              onChange={(e) => p.onChange(f.name, e.currentTarget.checked ? [...picked, String(i)] : picked.filter((x) => x !== String(i)))}
            />{' '}
            {o.label}
          </label>
        ))}
        <FieldError id={errId} error={error} />
      </fieldset>
    );
  }
  if (f.type === 'boolean') {
    return (
      <div class="field">
        <label class="check">
          <input type="checkbox" id={id} disabled={p.disabled} checked={p.values[f.name] === true} aria-describedby={describedBy} onChange={(e) => p.onChange(f.name, e.currentTarget.checked)} />{' '}
          {f.title}
        </label>
        {help}
        <FieldError id={errId} error={error} />
      </div>
    );
  }
  const value = typeof p.values[f.name] === 'string' ? (p.values[f.name] as string) : '';
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {help}
      {f.options ? (
        <select id={id} disabled={p.disabled} value={value} required={f.required} aria-invalid={error ? true : undefined} aria-describedby={describedBy} onChange={(e) => p.onChange(f.name, e.currentTarget.value)}>
          <option value="">Choose…</option>
          {f.options.map((o, i) => (
            <option value={String(i)} key={i}>
              {o.label}
            </option>
          ))}
        </select>
      ) : (
        <input
          id={id}
          // The union of input types confuses preact's per-type attribute typings; any of them takes these attributes.
          type={inputType(f) as 'text'}
          disabled={p.disabled}
          value={value}
          required={f.required}
          min={f.minimum}
          max={f.maximum}
          minLength={f.minLength}
          maxLength={f.maxLength}
          step={f.type === 'integer' ? 1 : f.type === 'number' ? 'any' : undefined}
          aria-invalid={error ? true : undefined}
          aria-describedby={describedBy}
          onInput={(e) => p.onChange(f.name, e.currentTarget.value)}
        />
      )}
      <FieldError id={errId} error={error} />
    </div>
  );
}

export function McpFormFields({ fields, ...p }: FormProps & { fields: FormField[] }) {
  if (!fields.length) return <p class="meta">The server asks for no fields.</p>;
  return (
    <div class="form-fields">
      {fields.map((f) => (
        <Field key={f.name} f={f} p={p} />
      ))}
    </div>
  );
}

function QuestionField({ q, p }: { q: Question; p: FormProps }) {
  const id = `${p.idPrefix}-q-${q.id}`;
  const errId = `${id}-error`;
  const error = p.errors[q.id];
  const choice = p.values[`choice:${q.id}`];
  const typed = typeof p.values[`text:${q.id}`] === 'string' ? (p.values[`text:${q.id}`] as string) : '';
  const hasOptions = !!q.options?.length;
  const showText = !hasOptions || choice === OTHER;
  const inputProps = {
    id: `${id}-text`,
    autocomplete: 'off',
    disabled: p.disabled,
    value: typed,
    'aria-label': hasOptions ? `Other answer to: ${q.question}` : undefined,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': error ? errId : undefined,
    onInput: (e: Event) => p.onChange(`text:${q.id}`, (e.currentTarget as HTMLInputElement).value),
  };
  const textInput = q.isSecret ? <input type="password" {...inputProps} /> : <input type="text" {...inputProps} />;
  return (
    <fieldset class="field question" aria-invalid={error ? true : undefined}>
      <legend>{q.header ?? 'Question'}</legend>
      {hasOptions ? <p class="msg-text">{q.question}</p> : <label for={`${id}-text`} class="msg-text">{q.question}</label>}
      {q.options?.map((o, i) => (
        <label class="check" key={i}>
          <input type="radio" name={id} disabled={p.disabled} checked={choice === o.label} onChange={() => p.onChange(`choice:${q.id}`, o.label)} /> {o.label}
          {o.description ? <span class="field-help"> — {o.description}</span> : null}
        </label>
      ))}
      {hasOptions && q.isOther ? (
        <label class="check">
          <input type="radio" name={id} disabled={p.disabled} checked={choice === OTHER} onChange={() => p.onChange(`choice:${q.id}`, OTHER)} /> Other
        </label>
      ) : null}
      {showText && (!hasOptions || q.isOther) ? textInput : null}
      <FieldError id={errId} error={error} />
    </fieldset>
  );
}

export function QuestionFields({ questions, ...p }: FormProps & { questions: Question[] }) {
  return (
    <div class="form-fields">
      {questions.map((q) => (
        <QuestionField key={q.id} q={q} p={p} />
      ))}
    </div>
  );
}
