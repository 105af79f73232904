// The page's pure rules: who may decide and how decisions are named, the client-side
// checks of MCP forms and questions, the inspector's state ids and actor tree, and where a
// streaming markdown text may be cut.
import { describe, expect, it } from 'vitest';
import { decisionLabel, mayDecide } from '../../../src/web/app/state/decide.js';
import { formFieldsOf, initialValues, OTHER, questionsOf, validateAnswers, validateForm } from '../../../src/web/app/state/forms.js';
import { activeStateIds, actorTree, inspectSnapshot, inspectUpdate, initialInspect } from '../../../src/web/app/state/inspector.js';
import { MAX_OPEN_BLOCK, settledBoundary, softCut } from '../../../src/web/app/render/blocks.js';
import { formFields } from '../../../src/approvals/form.js';

describe('who may decide', () => {
  const deciders = { owner: 'ann', approvers: ['cy'] };
  it('follows the contract rule', () => {
    expect(mayDecide({ id: 'x', name: undefined, role: 'owner' }, deciders).ok).toBe(true);
    expect(mayDecide({ id: 'x', name: undefined, role: 'approver' }, deciders).ok).toBe(true);
    expect(mayDecide({ id: 'ann', name: undefined, role: 'member' }, deciders).ok).toBe(true);
    expect(mayDecide({ id: 'cy', name: undefined, role: 'member' }, deciders).ok).toBe(true);
    expect(mayDecide({ id: 'bob', name: undefined, role: 'member' }, deciders)).toEqual({
      ok: false,
      reason: 'Only the conversation owner (ann), approvers (cy) and room owners/approvers can decide',
    });
    expect(mayDecide({ id: 'ann', name: undefined, role: 'observer' }, deciders).ok).toBe(false);
    expect(mayDecide({ id: 'ann', name: undefined, role: 'agent' }, deciders).ok).toBe(false);
  });

  it('names decision buttons by their decision', () => {
    expect(decisionLabel('command', 'accept')).toBe('Accept');
    expect(decisionLabel('command', 'acceptForSession')).toBe('Accept for session');
    expect(decisionLabel('command', 'decline')).toBe('Decline');
    expect(decisionLabel('command', 'cancel')).toBe('Cancel');
    expect(decisionLabel('mcpForm', 'accept')).toBe('Submit');
    expect(decisionLabel('userInput', 'answer')).toBe('Submit answers');
    expect(decisionLabel('command', 'applyNetworkPolicyAmendment:allow:example.com')).toBe('Always allow example.com');
  });
});

describe('MCP form checks', () => {
  const schema = {
    type: 'object',
    required: ['env', 'replicas'],
    properties: {
      env: { type: 'string', enum: ['staging', 'prod'], enumNames: ['Staging', 'Production'] },
      replicas: { type: 'integer', minimum: 1, maximum: 10 },
      email: { type: 'string', format: 'email' },
      name: { type: 'string', minLength: 2, maxLength: 5 },
      site: { type: 'string', format: 'uri' },
      day: { type: 'string', format: 'date' },
      dry: { type: 'boolean', default: true },
    },
  };
  // The server's own field list (what detail.fields carries) and the page's schema fallback agree.
  const fromServer = formFieldsOf({ fields: formFields(schema) });
  const fromSchema = formFieldsOf({ schema });

  it('reads the same fields from detail.fields and from the schema', () => {
    expect(fromSchema.map((f) => [f.name, f.type, f.required])).toEqual(fromServer.map((f) => [f.name, f.type, f.required]));
    expect(fromServer.find((f) => f.name === 'env')!.options!.map((o) => o.label)).toEqual(['Staging', 'Production']);
  });

  it('refuses what the server would refuse, field by field', () => {
    const values = { ...initialValues(fromServer), replicas: '11', email: 'nope', name: 'x', site: 'not a url', day: '2024-13-45' };
    const r = validateForm(fromServer, values);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors).toEqual({
        env: 'Required',
        replicas: 'At most 10',
        email: 'Enter an email address',
        name: 'At least 2 characters',
        site: 'Enter a URL',
        day: 'Enter a date (YYYY-MM-DD)',
      });
    }
    expect(validateForm(fromServer, { ...initialValues(fromServer), replicas: '2.5', env: '0' })).toMatchObject({ ok: false, errors: { replicas: 'Enter a whole number' } });
  });

  it('sends typed values; empty optional fields are left out', () => {
    const r = validateForm(fromServer, { ...initialValues(fromServer), env: '1', replicas: '3', email: 'a@b.co' });
    expect(r).toEqual({ ok: true, content: { env: 'prod', replicas: 3, email: 'a@b.co', dry: true } });
  });
});

describe('question checks', () => {
  const questions = questionsOf({
    questions: [
      { id: 'name', header: 'Name', question: 'Which?', options: [{ label: 'a' }, { label: 'b' }], isOther: true, isSecret: false },
      { id: 'pick', question: 'Pick one', options: [{ label: 'x' }], isOther: false, isSecret: false },
      { id: 'token', question: 'Token?', options: null, isOther: false, isSecret: true },
    ],
  });

  it('needs an answer for every question, from the options unless "Other" is allowed', () => {
    expect(validateAnswers(questions, {})).toEqual({ ok: false, errors: { name: 'Choose an answer', pick: 'Choose an answer', token: 'Answer this question' } });
    expect(validateAnswers(questions, { 'choice:name': OTHER, 'text:name': ' mine ', 'choice:pick': 'x', 'text:token': 's3' })).toEqual({
      ok: true,
      content: { name: 'mine', pick: 'x', token: 's3' },
    });
    expect(validateAnswers(questions, { 'choice:name': 'a', 'choice:pick': 'y', 'text:token': 's' })).toMatchObject({ ok: false, errors: { pick: 'Choose an answer' } });
  });
});

describe('inspector model', () => {
  it('turns a state value into the diagram ids to highlight', () => {
    expect(activeStateIds('turn', { running: 'active' })).toEqual(['turn.running', 'turn.running.active']);
    expect(activeStateIds('turn', 'failed')).toEqual(['turn.failed']);
    expect(activeStateIds('session', { conversation: { binding: 'loading' }, steer: 'idle' })).toEqual([
      'session.conversation',
      'session.conversation.binding',
      'session.conversation.binding.loading',
      'session.steer',
      'session.steer.idle',
    ]);
  });

  it('builds the actor tree and applies updates, removals and the event cap', () => {
    const a = (id: string, parent: string | undefined, status: 'active' | 'done' = 'active') => ({ id, parent, machine: undefined, src: undefined, status, value: undefined, at: 1 });
    let s = inspectSnapshot(initialInspect(), [a('sup', undefined), a('sup/conn', 'sup'), a('s:lab', 'sup'), a('s:lab/turn#1', 's:lab')], []);
    expect(actorTree(s.actors).map((n) => [n.actor.id, n.children.map((c) => c.actor.id)])).toEqual([['sup', ['s:lab', 'sup/conn']]]);
    s = { ...s, selected: 's:lab/turn#1' };
    const events = Array.from({ length: 60 }, (_, i) => ({ actor: 's:lab/turn#1', type: `E${i}`, at: i, summary: undefined }));
    s = inspectUpdate(s, [a('s:lab/turn#1', 's:lab', 'done')], [], events, 3);
    expect(s.actors['s:lab/turn#1']!.status).toBe('done');
    expect(s.events['s:lab/turn#1']).toHaveLength(50);
    expect(s.events['s:lab/turn#1']![0]!.type).toBe('E10');
    expect(s.dropped).toBe(3);
    s = inspectUpdate(s, [], ['s:lab/turn#1'], [], undefined);
    expect(s.actors['s:lab/turn#1']).toBeUndefined();
    expect(s.selected).toBeUndefined();
  });
});

describe('streaming markdown cut points', () => {
  it('cuts after the last blank line outside a code fence', () => {
    expect(settledBoundary('one\n\ntwo', 0)).toBe(5);
    expect(settledBoundary('one\n\n```\ncode\n\nmore', 0)).toBe(5);
    expect(settledBoundary('one\n\n```\ncode\n\n```\n\nafter', 0)).toBe(20);
    expect(settledBoundary('~~~~\n```\n\n~~~~\n\nx', 0)).toBe(16);
    expect(settledBoundary('no blank line yet', 0)).toBe(0);
    expect(settledBoundary('a\n\nb\n\nc', 3)).toBe(6);
  });
});

describe('soft cuts of a long paragraph being written', () => {
  const words = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `w${from + i}`).join(' ');

  it('cuts a long plain paragraph at a space, keeping the last few hundred characters open', () => {
    const text = words(400);
    expect(text.length).toBeGreaterThan(MAX_OPEN_BLOCK);
    const at = softCut(text);
    expect(at).toBeGreaterThan(0);
    expect(text[at - 1]).toBe(' ');
    expect(text.length - at).toBeGreaterThan(250);
    expect(softCut(words(20))).toBe(-1);
  });

  it('never cuts inside an open code span, emphasis or link, nor a list, heading, fence or table', () => {
    // An open code span stays in the open part: the cut, if any, comes before it.
    const open = `${words(50)} \`code ${words(400, 50)}`;
    expect(softCut(open)).toBeLessThanOrEqual(open.indexOf('`'));
    const closed = `${words(50)} **bold** and \`code\` ${words(400, 50)}`;
    const at = softCut(closed);
    expect(at).toBeGreaterThan(closed.indexOf('`code`') + 6);
    const emphasisOpen = `${words(50)} **still bold ${words(400, 50)}`;
    expect(softCut(emphasisOpen)).toBeLessThanOrEqual(emphasisOpen.indexOf('**'));
    const linkOpen = `[${words(400)}`;
    expect(softCut(linkOpen)).toBe(-1);
    for (const start of ['- item ', '1. item ', '# Heading ', '> quote ', '| a | b ', '```js\n']) expect(softCut(start + words(400))).toBe(-1);
    expect(softCut(`${words(400)}\n---\n`)).toBe(-1);
  });
});
