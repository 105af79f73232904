// The room: its threads (from the conversation keys of history and events), a way to open a
// new one, and who is here with their roles.
import { useState } from 'preact/hooks';
import type { Presence } from '../frames.js';
import type { ThreadSummary } from '../state/sessions.js';
import type { Me } from '../state/types.js';
import { pure } from './hooks.js';

interface Props {
  id: string;
  open: boolean;
  room: string | undefined;
  threads: ThreadSummary[];
  selected: string | undefined;
  participants: Presence[];
  me: Me | undefined;
  onSelect(key: string): void;
  onNewThread(name: string): void;
}

const THREAD_NAME = /^[^/\s]{1,200}$/;

function NewThread({ onNewThread }: { onNewThread(name: string): void }) {
  const [name, setName] = useState('');
  const [error, setError] = useState<string | undefined>();
  return (
    <form
      class="new-thread"
      onSubmit={(e) => {
        e.preventDefault();
        const n = name.trim();
        if (!THREAD_NAME.test(n)) return setError('Use letters, digits and dashes; no spaces or slashes');
        setError(undefined);
        setName('');
        onNewThread(n);
      }}
    >
      <label for="new-thread-name" class="sr-only">
        Thread name
      </label>
      <input id="new-thread-name" placeholder="thread name" value={name} maxLength={200} onInput={(e) => setName(e.currentTarget.value)} aria-describedby={error ? 'new-thread-error' : undefined} />
      <button type="submit">New thread</button>
      {error ? (
        <p class="field-error" id="new-thread-error">
          {error}
        </p>
      ) : null}
    </form>
  );
}

export const Sidebar = pure(function Sidebar({ id, open, room, threads, selected, participants, me, onSelect, onNewThread }: Props) {
  const people = participants.length ? participants : me ? [{ id: me.id, name: me.name, role: me.role, connections: 1 }] : [];
  return (
    <aside id={id} class={`sidebar${open ? ' open' : ''}`} aria-label="Room">
      <h2 class="room-name">{room ?? 'Room'}</h2>
      <section aria-labelledby="threads-h">
        <h3 id="threads-h">Threads</h3>
        <ul class="threads">
          {threads.map((c) => (
            <li key={c.key}>
              <button type="button" class="thread" aria-current={c.key === selected ? 'true' : undefined} onClick={() => onSelect(c.key)}>
                <span class="thread-name">{c.label}</span>
                {c.running ? <span class="badge live">running</span> : null}
              </button>
            </li>
          ))}
        </ul>
        <NewThread onNewThread={onNewThread} />
      </section>
      <section aria-labelledby="people-h">
        <h3 id="people-h">Participants</h3>
        <ul class="people">
          {people.map((p) => (
            <li key={p.id} class="person">
              <span class="person-name">{p.name ?? p.id}</span>
              {p.id === me?.id ? <span class="badge">you</span> : null}
              <span class={`role role-${p.role}`}>{p.role}</span>
              {p.connections > 1 ? <span class="meta">×{p.connections}</span> : null}
            </li>
          ))}
        </ul>
      </section>
    </aside>
  );
});
