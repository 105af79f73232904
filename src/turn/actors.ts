// IO of the turn machine, as XState actors closing over the turn's live handles.
// `provideTurnMachine` (./provide.ts) plugs them into the chart; tests swap any of them with
// `.provide({ actors: ... })` or run them over a fake connection.
import { fromCallback, fromPromise } from 'xstate';
import type { UserInput } from '../protocol/common.js';
import { startCompaction, type TurnAction } from './action.js';
import { concernsThread, type TurnDeps } from './runtime.js';
import { TurnTranslator, type StreamSignal } from './translate.js';

export interface StreamInput {
  session: string;
  threadId: string;
  activityThrottleMs: number;
}

/** Commands the turn machine sends to its stream actor. */
export type StreamCommand =
  | { type: 'BIND'; turnId: string }
  /** The turn is over without `turn/completed` (escalation): close open tools, confirm. */
  | { type: 'ABANDON'; status: string; reason: string };

/** What the stream actor reports, besides the translator's signals. */
export type StreamEvent =
  | StreamSignal
  | { type: 'STREAM.READY' }
  | { type: 'STREAM.CLOSED' }
  | { type: 'CONNECTION.LOST'; reason: string };

export interface StartTurnInput {
  session: string;
  threadId: string;
  input: UserInput[];
  model: string | undefined;
  /** The thread's own model (when `model` is undefined): reported with the input. */
  threadModel?: string | undefined;
  /** A review or compaction instead of `turn/start` with `input`. */
  action?: TurnAction | undefined;
  /** Sent as `clientUserMessageId`. */
  clientMessageId?: string | undefined;
}

export interface InterruptInput {
  threadId: string;
  turnId: string;
  timeoutMs: number;
}

export function createTurnActors(deps: TurnDeps) {
  /**
   * Subscribes to the thread (before turn/start is sent: Codex may notify before it
   * answers), runs the translator, and watches the connection. Deltas go from the
   * connection's router straight to the room sink; only lifecycle facts reach the machine.
   */
  const stream = fromCallback<StreamCommand, StreamInput, StreamEvent>(({ input, sendBack, receive }) => {
    let closed = false;
    const translator = new TurnTranslator({
      session: input.session,
      sink: deps.sink,
      signal: (s) => {
        if (!closed) sendBack(s);
      },
      activityThrottleMs: input.activityThrottleMs,
      ...(deps.now ? { now: deps.now } : {}),
      onDropped: (method, why) => deps.log.debug({ method, why, threadId: input.threadId }, 'notification not for this turn'),
    });
    const unsubscribe = deps.conn.subscribe(input.threadId, translator.handle);
    const offLifecycle = deps.conn.onLifecycle((e) => {
      // In a pool, another member's process coming or going is none of this turn's business.
      if (closed || !concernsThread(e, input.threadId)) return;
      // 'lost' fires the moment the app-server dies; 'ready' means a new process took over
      // (e.g. someone forced a restart), so this turn is gone either way.
      if (e.type !== 'lost' && e.type !== 'ready' && e.type !== 'failed' && e.type !== 'stopped') return;
      const reason =
        e.type === 'lost'
          ? `connection to the app-server lost: ${e.exit.reason}`
          : e.type === 'ready'
            ? 'the app-server was restarted'
            : e.type === 'failed'
              ? `connection failed: ${e.error}`
              : 'connection stopped';
      translator.finish('failed', reason);
      closed = true;
      sendBack({ type: 'CONNECTION.LOST', reason });
    });
    receive((cmd) => {
      if (cmd.type === 'BIND') translator.bind(cmd.turnId);
      else if (cmd.type === 'ABANDON') {
        translator.finish(cmd.status, cmd.reason);
        closed = true;
        sendBack({ type: 'STREAM.CLOSED' });
      }
    });
    sendBack({ type: 'STREAM.READY' });
    return () => {
      closed = true;
      unsubscribe();
      offLifecycle();
    };
  });

  const startTurn = fromPromise<{ turnId: string }, StartTurnInput>(async ({ input, signal }) => {
    const { action } = input;
    if (action?.type === 'review') {
      const res = await deps.conn.request('review/start', { threadId: input.threadId, target: action.target, delivery: 'inline' }, { signal });
      return { turnId: res.turn.id };
    }
    if (action?.type === 'compact') return { turnId: await startCompaction(deps.conn, input.threadId, signal) };
    const effort = deps.turnOptions?.(input.session).effort;
    const res = await deps.conn.request(
      'turn/start',
      {
        threadId: input.threadId,
        input: input.input,
        ...(input.model ? { model: input.model } : {}),
        ...(effort ? { effort } : {}),
        ...(input.clientMessageId ? { clientUserMessageId: input.clientMessageId } : {}),
      },
      { signal },
    );
    deps.onModelInput?.({
      session: input.session,
      threadId: input.threadId,
      turnId: res.turn.id,
      model: input.model ?? input.threadModel,
      input: input.input,
      steered: false,
    });
    return { turnId: res.turn.id };
  });

  /** One `turn/interrupt`; the chart retries it while Codex answers "no active turn". */
  const interruptTurn = fromPromise<void, InterruptInput>(async ({ input, signal }) => {
    await deps.conn.request('turn/interrupt', { threadId: input.threadId, turnId: input.turnId }, { signal, timeoutMs: input.timeoutMs });
  });

  return { stream, startTurn, interruptTurn };
}
