// The message box ("Message"): Enter sends, Shift+Enter starts a new line. The model picker
// is fed by the `models` frame and switches with `/model NAME`, the room's own command.
import { useState } from 'preact/hooks';
import type { Me, ModelsState } from '../state/types.js';
import { pure } from './hooks.js';

interface Props {
  me: Me | undefined;
  online: boolean;
  models: ModelsState;
  currentModel: string | undefined;
  target: string;
  onSend(text: string): boolean;
}

const MAX_MESSAGE = 100_000;

export const Composer = pure(function Composer({ me, online, models, currentModel, target, onSend }: Props) {
  const [text, setText] = useState('');
  const [problem, setProblem] = useState<string | undefined>();
  const observer = me?.role === 'observer' || me?.role === 'agent';

  const send = () => {
    const t = text.trim();
    if (!t || observer) return;
    if (t.length > MAX_MESSAGE) return setProblem(`Messages are limited to ${MAX_MESSAGE.toLocaleString()} characters`);
    if (!onSend(t)) return setProblem('Offline — the message was not sent; it is kept here.');
    setProblem(undefined);
    setText('');
  };

  const pickModel = (name: string) => {
    if (name && name !== currentModel && !onSend(`/model ${name}`)) setProblem('Offline — the model was not changed.');
  };

  if (observer) {
    return (
      <div class="composer composer-off">
        <p class="meta">You are an observer in this room: you can read but not post.</p>
      </div>
    );
  }
  const visible = models.list;
  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      <label for="message" class="sr-only">
        Message
      </label>
      <textarea
        id="message"
        rows={2}
        placeholder={`Message ${target}  (Enter to send, Shift+Enter for a new line)`}
        value={text}
        maxLength={MAX_MESSAGE}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            send();
          }
        }}
      />
      <div class="composer-row">
        {models.state === 'ready' && visible.length ? (
          <label class="model-pick">
            <span class="meta">Model</span>
            <select value={currentModel ?? ''} disabled={!online} onChange={(e) => pickModel(e.currentTarget.value)}>
              {currentModel && !visible.some((m) => m.model === currentModel) ? <option value={currentModel}>{currentModel}</option> : null}
              {!currentModel ? <option value="">Default</option> : null}
              {visible.map((m) => (
                <option value={m.model} key={m.model}>
                  {m.displayName ?? m.model}
                  {m.alias ? ` · ${m.alias}` : ''}
                  {m.isDefault ? ' (default)' : ''}
                </option>
              ))}
            </select>
          </label>
        ) : models.state === 'unavailable' ? (
          <span class="meta" title={models.note}>
            No model list here
          </span>
        ) : null}
        {problem ? (
          <span class="composer-problem" role="alert">
            {problem}
          </span>
        ) : null}
        <button type="submit" class="primary" disabled={!online || !text.trim()}>
          Send
        </button>
      </div>
    </form>
  );
});
