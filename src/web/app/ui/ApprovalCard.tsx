// One card per approval request: what is asked, exactly the offered decisions as buttons
// named by their decision, an expiry countdown, the reason when this participant may not
// decide, and — once resolved or withdrawn — the outcome (the card stays, marked).
import { useMemo, useState } from 'preact/hooks';
import { formFieldsOf, initialValues, questionsOf, validateAnswers, validateForm, type FormValues } from '../state/forms.js';
import { OUTCOME_TEXT, decisionLabel, isPositive, mayDecide, needsContent } from '../state/decide.js';
import type { ApprovalEntry, Me } from '../state/types.js';
import { ApprovalDetail } from './ApprovalDetail.js';
import { McpFormFields, QuestionFields } from './ApprovalForms.js';
import { pure, useNow } from './hooks.js';
import { useServices } from './services.js';

const KIND_LABEL: Record<string, string> = {
  command: 'Run a command',
  legacyCommand: 'Run a command',
  fileChange: 'Change files',
  legacyPatch: 'Change files',
  permissions: 'Grant permissions',
  mcpToolApproval: 'Run an MCP tool',
  mcpForm: 'Fill in a form',
  mcpUrl: 'Open a link',
  userInput: 'Answer questions',
  dynamicTool: 'Tool call',
};

export type Decide = (approvalId: string, decision: string, content?: unknown) => boolean;

function countdown(ms: number): string {
  if (ms <= 0) return 'expired';
  const s = Math.ceil(ms / 1000);
  const m = Math.floor(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m}:${String(s % 60).padStart(2, '0')}`;
}

function Outcome({ entry }: { entry: ApprovalEntry }) {
  const r = entry.resolution;
  if (!r) return null;
  const decision = r.decision ? ` (${decisionLabel(entry.approvalKind, r.decision)})` : '';
  return (
    <p class={`outcome outcome-${entry.state}`}>
      <strong>{OUTCOME_TEXT[entry.state] ?? entry.state}</strong>
      {decision}
      {r.by ? ` by ${r.by}` : ''}
      {r.reason ? ` — ${r.reason}` : ''}
    </p>
  );
}

interface Props {
  entry: ApprovalEntry;
  me: Me | undefined;
  online: boolean;
  onDecide: Decide;
}

/** An approval known only from its history record: one line, marked with its outcome. */
function PastApproval({ entry }: { entry: ApprovalEntry }) {
  const label = KIND_LABEL[entry.approvalKind];
  return (
    <section class={`approval approval-past approval-${entry.state}`} data-approval-id={entry.approvalId} data-state={entry.state} aria-label={`Approval ${entry.state}`}>
      {label ? <span class="approval-kind">{label}</span> : <span class="approval-kind">Approval</span>}
      <Outcome entry={entry} />
    </section>
  );
}

export const ApprovalCard = pure(function ApprovalCard(props: Props) {
  return props.entry.request ? <LiveApproval {...props} /> : <PastApproval entry={props.entry} />;
});

function LiveApproval({ entry, me, online, onDecide }: Props) {
  const { now } = useServices();
  const req = entry.request;
  const kind = entry.approvalKind;
  const pending = entry.state === 'pending';
  const detail = req?.detail ?? {};
  const fields = useMemo(() => (kind === 'mcpForm' ? formFieldsOf(detail) : []), [kind, detail]);
  const questions = useMemo(() => (kind === 'userInput' ? questionsOf(detail) : []), [kind, detail]);
  const [values, setValues] = useState<FormValues>(() => initialValues(fields));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const expiresAt = pending ? req?.expiresAt : undefined;
  const t = useNow(now, 1000, expiresAt !== undefined);
  const may = mayDecide(me, req?.deciders);
  const sending = entry.sent !== undefined && entry.sent.ok === undefined;
  const disabled = !pending || !may.ok || sending || !online;
  const idPrefix = `ap-${entry.approvalId.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const reasonId = `${idPrefix}-why`;

  const onChange = (name: string, value: FormValues[string]) => {
    setValues((v) => ({ ...v, [name]: value }));
    if (errors[name] || errors[name.replace(/^(choice|text):/, '')]) setErrors({});
  };

  const decide = (choice: string) => {
    if (!needsContent(kind, choice)) {
      onDecide(entry.approvalId, choice);
      return;
    }
    const check = kind === 'mcpForm' ? validateForm(fields, values) : validateAnswers(questions, values);
    if (!check.ok) {
      setErrors(check.errors);
      return;
    }
    setErrors({});
    onDecide(entry.approvalId, choice, check.content);
  };

  const choices = req?.choices ?? [];
  const formProps = { idPrefix, values, errors, disabled: disabled, onChange };
  return (
    <section class={`approval approval-${entry.state}`} data-approval-id={entry.approvalId} data-state={entry.state} aria-labelledby={`${idPrefix}-title`}>
      <header class="approval-head">
        <span class="approval-kind">{KIND_LABEL[kind] ?? 'Approval'}</span>
        <span class={`approval-state state-${entry.state}`}>{OUTCOME_TEXT[entry.state] ?? entry.state}</span>
        {expiresAt !== undefined ? (
          <span class="countdown" title={new Date(expiresAt).toLocaleString()}>
            {expiresAt - t > 0 ? `expires in ${countdown(expiresAt - t)}` : 'expired'}
          </span>
        ) : null}
      </header>
      <h3 class="approval-title" id={`${idPrefix}-title`}>
        {entry.title}
      </h3>
      {req ? <ApprovalDetail kind={kind} detail={detail} title={entry.title} /> : null}
      {req?.reviewer === 'policy' && pending ? <p class="meta">Switchboard's review policy reviews this request first.</p> : null}
      {pending && req ? (
        <form
          class="decide"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
          }}
        >
          {kind === 'mcpForm' ? <McpFormFields fields={fields} {...formProps} /> : null}
          {kind === 'userInput' ? <QuestionFields questions={questions} {...formProps} /> : null}
          {choices.length ? (
            <div class="buttons" role="group" aria-label="Decisions">
              {choices.map((c) => (
                <button
                  type="button"
                  key={c}
                  class={isPositive(c) ? 'primary' : c === 'decline' ? 'danger' : ''}
                  disabled={disabled}
                  aria-describedby={!may.ok ? reasonId : undefined}
                  onClick={() => decide(c)}
                >
                  {decisionLabel(kind, c)}
                </button>
              ))}
            </div>
          ) : (
            <p class="meta">Nothing to decide: this runs on its own.</p>
          )}
          {!may.ok ? (
            <p class="why-not" id={reasonId}>
              {may.reason}
            </p>
          ) : null}
          {!online && may.ok ? <p class="why-not">Offline — decisions are possible again once reconnected.</p> : null}
        </form>
      ) : null}
      {entry.sent ? (
        <p class={`sent ${entry.sent.ok === false ? 'refused' : ''}`} role={entry.sent.ok === false ? 'alert' : undefined}>
          {entry.sent.ok === undefined
            ? `Sending “${decisionLabel(kind, entry.sent.decision)}”…`
            : entry.sent.ok
              ? pending
                ? 'Decision accepted; waiting for the agent.'
                : null
              : `Refused: ${entry.sent.reason ?? 'no reason given'}`}
        </p>
      ) : null}
      <Outcome entry={entry} />
    </section>
  );
}
