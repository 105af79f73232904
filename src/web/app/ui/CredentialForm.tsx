// Shown when the page has no credential (opened without one, or the room refused it).
import { useState } from 'preact/hooks';
import { parsePasted, type Target } from '../credential.js';

export function CredentialForm({ error, onSubmit }: { error: string | undefined; onSubmit(t: Target): void }) {
  const [value, setValue] = useState('');
  const [problem, setProblem] = useState<string | undefined>();
  return (
    <main class="credential-page">
      <form
        class="credential"
        onSubmit={(e) => {
          e.preventDefault();
          const t = parsePasted(value);
          if (!t) return setProblem('That does not look like a room credential.');
          setProblem(undefined);
          onSubmit(t);
        }}
      >
        <h1>Switchboard room</h1>
        <p>Paste your room credential (or the whole room link you were given).</p>
        {error ? (
          <p class="why-not" role="alert">
            {error}
          </p>
        ) : null}
        <label for="credential">Credential</label>
        <input id="credential" type="password" autocomplete="off" spellcheck={false} value={value} onInput={(e) => setValue(e.currentTarget.value)} aria-describedby={problem ? 'credential-problem' : undefined} />
        {problem ? (
          <p class="field-error" id="credential-problem">
            {problem}
          </p>
        ) : null}
        <button type="submit" class="primary">
          Join the room
        </button>
      </form>
    </main>
  );
}
