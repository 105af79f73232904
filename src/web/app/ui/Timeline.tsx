// The conversation: messages, tool cards, approval cards, notices and turn markers in
// order. Follows new content while the reader is at the bottom (CSS scroll anchoring on an
// empty element at the end, JS where that is missing); once they scroll up it stays put and
// offers a "Jump to latest" button instead of fighting them.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Conversation, Entry, Me, NoticeEntry, TurnEntry } from '../state/types.js';
import { ApprovalCard, type Decide } from './ApprovalCard.js';
import { GuardianCard } from './GuardianCard.js';
import { pure } from './hooks.js';
import { AssistantMessage, UserMessage } from './MessageView.js';
import { Time } from './Time.js';
import { ToolCard } from './ToolCard.js';

/** Within this many pixels of the bottom counts as "at the bottom". */
const STICK_PX = 48;
/** The browser pins the view to the `.anchor` at the end while the reader is there. */
const ANCHORING = typeof CSS !== 'undefined' && CSS.supports('overflow-anchor', 'auto');

const Notice = pure(function Notice({ entry }: { entry: NoticeEntry }) {
  return (
    <p class={`notice notice-${entry.level}`} role="note">
      <span class="sr-only">{entry.level}: </span>
      {entry.text} <Time at={entry.at} />
    </p>
  );
});

const tokens = (n: number): string => (n >= 10_000 ? `${(n / 1000).toFixed(1)}k` : String(n));

const TurnMarker = pure(function TurnMarker({ entry }: { entry: TurnEntry }) {
  const u = entry.usage;
  return (
    <div class={`turn turn-${entry.status ?? 'unknown'}`} data-turn-id={entry.turnId} data-turn-status={entry.status ?? 'unknown'}>
      <span class="turn-label">Turn</span>
      {entry.status ? <span class="turn-status">{entry.status}</span> : null}
      {entry.model ? <span class="meta">{entry.model}</span> : null}
      {entry.error ? <span class="turn-error">{entry.error}</span> : null}
      {u ? (
        <span class="meta turn-usage" title={`${u.inputTokens} input (${u.cachedInputTokens} cached), ${u.outputTokens} output (${u.reasoningOutputTokens} reasoning)`}>
          {tokens(u.totalTokens)} tokens: {tokens(u.inputTokens)} in, {tokens(u.outputTokens)} out
        </span>
      ) : null}
      <Time at={entry.at} />
    </div>
  );
});

interface Props {
  conv: Conversation | undefined;
  /** The agent's name in this room (its participant entry), for its messages. */
  agentName: string;
  me: Me | undefined;
  online: boolean;
  onDecide: Decide;
  older: { available: boolean; loading: boolean; load(): void };
}

function EntryView({ e, me, agentName, online, onDecide }: { e: Entry; me: Me | undefined; agentName: string; online: boolean; onDecide: Decide }) {
  switch (e.kind) {
    case 'user':
      return <UserMessage entry={e} meId={me?.id} />;
    case 'assistant':
      return <AssistantMessage entry={e} agentName={agentName} />;
    case 'tool':
      return <ToolCard entry={e} />;
    case 'approval':
      return <ApprovalCard entry={e} me={me} online={online} onDecide={onDecide} />;
    case 'notice':
      return <Notice entry={e} />;
    case 'turn':
      return <TurnMarker entry={e} />;
    case 'guardian':
      return <GuardianCard entry={e} />;
  }
}

export function Timeline({ conv, agentName, me, online, onDecide, older }: Props) {
  const ref = useRef<HTMLDivElement>(null);
  const anchor = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const [behind, setBehind] = useState(false);
  const entries = conv?.entries;

  // "At the bottom" is the end anchor being in view, observed off the main path: reading
  // scroll geometry in a scroll handler would force a layout on every streamed update.
  useEffect(() => {
    const root = ref.current;
    const end = anchor.current;
    if (!root || !end) return;
    const io = new IntersectionObserver(
      ([e]) => {
        stick.current = e?.isIntersecting ?? true;
        if (stick.current) setBehind(false);
      },
      { root, rootMargin: `0px 0px ${STICK_PX}px 0px` },
    );
    io.observe(end);
    return () => io.disconnect();
  }, []);

  // A conversation switch starts at its newest entry.
  useLayoutEffect(() => {
    stick.current = true;
    setBehind(false);
    const el = ref.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [conv?.key]);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (!stick.current) setBehind(true);
    // Where CSS scroll anchoring keeps the end in view (the anchor below), nothing to do:
    // setting scrollTop here would force a layout on every streamed update.
    else if (!ANCHORING) el.scrollTop = el.scrollHeight;
  }, [entries]);

  const jump = () => {
    const el = ref.current;
    if (!el) return;
    stick.current = true;
    setBehind(false);
    el.scrollTop = el.scrollHeight;
  };

  return (
    <div class="timeline-wrap">
      <div class="timeline" ref={ref} role="log" aria-live="polite" aria-label="Conversation" tabIndex={0}>
        {older.available ? (
          <button type="button" class="older" onClick={older.load} disabled={older.loading}>
            {older.loading ? 'Loading…' : 'Load older messages'}
          </button>
        ) : null}
        {entries?.length ? entries.map((e) => <EntryView key={e.id} e={e} me={me} agentName={agentName} online={online} onDecide={onDecide} />) : <p class="empty">No messages here yet.</p>}
        <div class="anchor" ref={anchor} aria-hidden="true" />
      </div>
      {behind ? (
        <button type="button" class="jump" onClick={jump}>
          Jump to latest ↓
        </button>
      ) : null}
    </div>
  );
}
