// `/codex review [--base BRANCH | --commit SHA [TITLE] | INSTRUCTIONS]` → the schema's review
// target. The words come from a room, so each is checked before it reaches Codex.
import { cleanMessageText } from '../attachments/text.js';
import type { ReviewTarget } from '../protocol/client-requests.js';
import { field } from './codex-format.js';

export const REVIEW_USAGE = 'usage: /codex review [--base BRANCH | --commit SHA [TITLE] | INSTRUCTIONS]';

/** A branch name git would accept, conservatively (no option-like or path-escaping names). */
const BRANCH = /^(?!-)(?!.*\.\.)(?!.*\/\/)[\w./@+-]{1,200}$/;
const SHA = /^[0-9a-f]{4,64}$/i;
const MAX_INSTRUCTIONS = 4000;

/** `rest`: what follows `/codex review`. Throws with the reason (and usage) when it does not fit. */
export function parseReviewArgs(rest: string): ReviewTarget {
  const text = rest.trim();
  if (text === '') return { type: 'uncommittedChanges' };
  const [flag, value, ...more] = text.split(/\s+/);
  if (flag === '--base') {
    if (!value || !BRANCH.test(value) || more.length) throw new Error(`--base takes one branch name. ${REVIEW_USAGE}`);
    return { type: 'baseBranch', branch: value };
  }
  if (flag === '--commit') {
    if (!value || !SHA.test(value)) throw new Error(`--commit takes a commit SHA (hex). ${REVIEW_USAGE}`);
    const title = field(more.join(' '), 200);
    return { type: 'commit', sha: value, ...(title ? { title } : {}) };
  }
  if (flag?.startsWith('--')) throw new Error(`unknown option ${field(flag, 40)}. ${REVIEW_USAGE}`);
  const instructions = cleanMessageText(text);
  if (instructions.length > MAX_INSTRUCTIONS) throw new Error(`review instructions are limited to ${MAX_INSTRUCTIONS} characters`);
  return { type: 'custom', instructions };
}

/** The target in words, for the room. */
export function describeReviewTarget(t: ReviewTarget): string {
  switch (t.type) {
    case 'uncommittedChanges':
      return 'the uncommitted changes';
    case 'baseBranch':
      return `the changes against ${t.branch}`;
    case 'commit':
      return `commit ${t.sha}${t.title ? ` (${t.title})` : ''}`;
    case 'custom':
      return `"${field(t.instructions, 80)}"`;
  }
}
