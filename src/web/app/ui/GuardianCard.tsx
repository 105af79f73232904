// Codex's own reviewer (appServer.mode "guardian") at work on one action: a card that says
// what is reviewed, then the verdict with its risk level and rationale. A denial can be
// overridden by an owner with `/guardian approve <id>` (the notice that follows says so).
import type { GuardianEntry } from '../state/types.js';
import { pure } from './hooks.js';
import { Time } from './Time.js';

const VERDICT: Record<GuardianEntry['status'], string> = {
  inProgress: 'reviewing…',
  approved: 'approved',
  denied: 'denied',
  timedOut: 'timed out (denied)',
  aborted: 'aborted',
};

export const GuardianCard = pure(function GuardianCard({ entry }: { entry: GuardianEntry }) {
  return (
    <section class={`guardian guardian-${entry.status}`} aria-label={`Codex guardian review: ${entry.title}`} data-review-id={entry.reviewId} data-review-status={entry.status}>
      <header class="guardian-head">
        <span class="guardian-kind">Guardian</span>
        <span class="guardian-title">{entry.title}</span>
        <span class="guardian-verdict">{VERDICT[entry.status]}</span>
        <Time at={entry.at} />
      </header>
      {entry.riskLevel || entry.rationale || entry.decisionSource ? (
        <p class="guardian-why">
          {entry.riskLevel ? <span class="badge">risk: {entry.riskLevel}</span> : null} {entry.rationale ?? ''}
          {entry.decisionSource ? <span class="meta"> ({entry.decisionSource})</span> : null}
        </p>
      ) : null}
      {entry.status === 'denied' ? <p class="meta">Review id: <code>{entry.reviewId}</code></p> : null}
    </section>
  );
});
