// A chat message: a person's (plain text, their verified name) or the agent's (markdown,
// sanitized, re-rendered only when its text changed — at most once per animation frame
// while it streams, because the store itself updates once per frame).
import { useLayoutEffect, useRef } from 'preact/hooks';
import type { AssistantEntry, UserEntry } from '../state/types.js';
import { newStreamState, renderStreaming } from '../render/markdown.js';
import { pure } from './hooks.js';
import { useServices } from './services.js';
import { Time } from './Time.js';

function Markdown({ text, streaming }: { text: string; streaming: boolean }) {
  const { markdown } = useServices();
  const ref = useRef<HTMLDivElement>(null);
  const stream = useRef(newStreamState());
  useLayoutEffect(() => {
    if (ref.current) renderStreaming(markdown, ref.current, text, streaming, stream.current);
  }, [text, streaming, markdown]);
  return <div class="md" ref={ref} />;
}

export const UserMessage = pure(function UserMessage({ entry, meId }: { entry: UserEntry; meId: string | undefined }) {
  const mine = entry.author.id === meId;
  return (
    <article class={`msg user${mine ? ' mine' : ''}${entry.local ? ' local' : ''}`} aria-label={`Message from ${entry.author.name ?? entry.author.id}`}>
      <header class="msg-head">
        <span class="author">{entry.author.name ?? entry.author.id}</span>
        {entry.author.name && entry.author.name !== entry.author.id ? <span class="author-id">{entry.author.id}</span> : null}
        {mine ? <span class="badge">you</span> : null}
        <Time at={entry.at} />
      </header>
      <div class="msg-text">{entry.text}</div>
    </article>
  );
});

export const AssistantMessage = pure(function AssistantMessage({ entry, agentName }: { entry: AssistantEntry; agentName: string }) {
  return (
    <article class={`msg assistant${entry.streaming ? ' streaming' : ''}`} data-message-id={entry.itemId ?? entry.id} aria-busy={entry.streaming} aria-label={`Message from ${agentName}`}>
      <header class="msg-head">
        <span class="author">{agentName}</span>
        {entry.streaming ? <span class="badge live">writing…</span> : null}
        {entry.partial ? (
          <span class="badge partial" title="The turn was stopped or failed: this is what had been written by then">
            partial
          </span>
        ) : null}
        <Time at={entry.at} />
      </header>
      <Markdown text={entry.text} streaming={entry.streaming} />
    </article>
  );
});
