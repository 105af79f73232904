// The current turn of the open conversation: its state and, while it runs, "Stop" (which
// posts `/stop`, the room's own command, so the same permission rules apply).
import type { Conversation, Me } from '../state/types.js';

export function TurnBar({ conv, me, online, onStop }: { conv: Conversation | undefined; me: Me | undefined; online: boolean; onStop(): void }) {
  const i = conv?.lastTurn !== undefined ? conv.index[`turn:${conv.lastTurn}`] : undefined;
  const turn = i !== undefined ? conv?.entries[i] : undefined;
  const status = turn?.kind === 'turn' ? turn.status : undefined;
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
      {conv?.model ? <span class="meta">model {conv.model}</span> : null}
      {status === 'running' && canPost ? (
        <button type="button" class="danger" onClick={onStop} disabled={!online}>
          Stop
        </button>
      ) : null}
    </div>
  );
}
