// IO of the turn machine, as XState actors. Tests replace them with
// `turnMachine.provide({ actors: ... })` or run them over a fake connection.
import { RpcError } from '../connection/errors.js';
import { fromCallback, fromPromise } from 'xstate';
import type { UserInput } from '../protocol/common.js';
import { turnRuntimes } from './runtime.js';
import { TurnTranslator, type StreamSignal } from './translate.js';

export interface StreamInput {
  runtimeId: string;
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

/**
 * Subscribes to the thread (before turn/start is sent: Codex may notify before it
 * answers), runs the translator, and watches the connection. Deltas go from the
 * connection's router straight to the room sink; only lifecycle facts reach the machine.
 */
export const streamActor = fromCallback<StreamCommand, StreamInput, StreamEvent>(({ input, sendBack, receive }) => {
  const rt = turnRuntimes.get(input.runtimeId);
  let closed = false;
  const translator = new TurnTranslator({
    session: input.session,
    sink: rt.sink,
    signal: (s) => {
      if (!closed) sendBack(s);
    },
    activityThrottleMs: input.activityThrottleMs,
    onDropped: (method, why) => rt.log.debug({ method, why, threadId: input.threadId }, 'notification not for this turn'),
  });
  const unsubscribe = rt.conn.subscribe(input.threadId, translator.handle);
  const offLifecycle = rt.conn.onLifecycle((e) => {
    if (closed) return;
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

export interface StartTurnInput {
  runtimeId: string;
  threadId: string;
  input: UserInput[];
  model: string | undefined;
}

export const startTurnActor = fromPromise<{ turnId: string }, StartTurnInput>(async ({ input, signal }) => {
  const rt = turnRuntimes.get(input.runtimeId);
  const res = await rt.conn.request(
    'turn/start',
    { threadId: input.threadId, input: input.input, ...(input.model ? { model: input.model } : {}) },
    { signal },
  );
  return { turnId: res.turn.id };
});

export interface InterruptInput {
  runtimeId: string;
  threadId: string;
  turnId: string;
  timeoutMs: number;
}

/** Pause between interrupt attempts while Codex has not registered the turn yet. */
export const INTERRUPT_RETRY_MS = 100;

/**
 * `turn/interrupt`, retried while Codex answers "no active turn to interrupt": right after
 * `turn/start` is answered, the turn may not be active in Codex yet (seen with 0.169.0). The
 * machine stops this actor when `turn/completed` arrives, and bounds the whole wait.
 */
export const interruptTurnActor = fromPromise<void, InterruptInput>(async ({ input, signal }) => {
  const rt = turnRuntimes.get(input.runtimeId);
  const deadline = Date.now() + input.timeoutMs;
  for (;;) {
    try {
      await rt.conn.request('turn/interrupt', { threadId: input.threadId, turnId: input.turnId }, { signal, timeoutMs: input.timeoutMs });
      return;
    } catch (err) {
      const notYetActive = err instanceof RpcError && /no active turn/i.test(err.message);
      if (!notYetActive || signal.aborted || Date.now() + INTERRUPT_RETRY_MS >= deadline) throw err;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, INTERRUPT_RETRY_MS);
        signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
      });
      if (signal.aborted) throw err;
    }
  }
});
