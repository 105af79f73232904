// The current turn of the open conversation: its state and, while it runs, "Stop" (which
// posts `/stop`, the room's own command, so the same permission rules apply).
import type { Me } from '../state/types.js';
import { pure } from './hooks.js';

interface Props {
  /** The newest turn's status (undefined: no turn yet). */
  status: string | undefined;
  model: string | undefined;
  me: Me | undefined;
  online: boolean;
  onStop(): void;
}

export const TurnBar = pure(function TurnBar({ status, model, me, online, onStop }: Props) {
  const canPost = me !== undefined && me.role !== 'observer' && me.role !== 'agent';
  return (
    <div class={`turnbar turnbar-${status ?? 'idle'}`} data-current-turn={status ?? 'idle'}>
      <span class="turnbar-state">
        {status === 'running' ? (
          <>
            <span class="spinner" aria-hidden="true" /> The agent is working
          </>
        ) : status ? (
          `Last turn ${status}`
        ) : (
          'No turn yet'
        )}
      </span>
      {model ? <span class="meta">model {model}</span> : null}
      {status === 'running' && canPost ? (
        <button type="button" class="danger" onClick={onStop} disabled={!online}>
          Stop
        </button>
      ) : null}
    </div>
  );
});
