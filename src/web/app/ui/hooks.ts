// Small hooks: the room state with its actions batched (at most one render per 5 ms), a
// ticking clock, and `pure` (a component that re-renders only when its props change).
import { Component, type ComponentChildren, type FunctionComponent, type VNode } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { initialState, reduce, type Action } from '../state/reduce.js';
import type { RoomState } from '../state/types.js';

/**
 * At most one render per this many ms. A third of a frame: a delta waits at most this long,
 * plus whatever task is running then (a frame's style, layout and paint take 2-4 ms), so it
 * is in the DOM within one frame of its arrival; a burst still costs at most three renders
 * per frame however fast it arrives.
 */
const MIN_RENDER_INTERVAL_MS = 5;

/**
 * The room state. Actions are queued and applied together: the first after a quiet spell at
 * once (in the next task, with whatever else arrived meanwhile), later ones at most every
 * MIN_RENDER_INTERVAL_MS. An action that arrives when a flush is due applies the queue in its
 * own task: Chromium runs queued WebSocket messages ahead of a due timer, so a timer alone
 * would leave a steady stream unrendered until it paused.
 */
export function useRoomState(home: { channel: string; thread: string }): [RoomState, (a: Action) => void] {
  const [state, setState] = useState(() => initialState(home));
  const queue = useRef<Action[]>([]);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const last = useRef(-Infinity);
  const flush = useCallback(() => {
    clearTimeout(timer.current);
    timer.current = undefined;
    last.current = performance.now();
    const batch = queue.current;
    queue.current = [];
    setState((s) => reduce(s, batch));
  }, []);
  const dispatch = useCallback(
    (a: Action) => {
      queue.current.push(a);
      const wait = last.current + MIN_RENDER_INTERVAL_MS - performance.now();
      // Overdue (its timer starved): apply now; Preact renders at the end of this task.
      if (timer.current !== undefined && wait <= 0) return flush();
      if (timer.current === undefined) timer.current = setTimeout(flush, Math.max(0, wait));
    },
    [flush],
  );
  useEffect(() => () => clearTimeout(timer.current), []);
  return [state, dispatch];
}

/**
 * `value`, or the previous one while `same` says nothing changed: a pure child given it is
 * not drawn again (a streamed delta changes the conversation, not the threads list).
 */
export function useStable<T>(value: T, same: (a: T, b: T) => boolean): T {
  const prev = useRef(value);
  if (prev.current !== value && !same(prev.current, value)) prev.current = value;
  return prev.current;
}

/** The current time, updated every `everyMs` while `active`. */
export function useNow(now: () => number, everyMs: number, active: boolean): number {
  const [t, setT] = useState(now);
  useEffect(() => {
    if (!active) return;
    setT(now());
    const id = setInterval(() => setT(now()), everyMs);
    return () => clearInterval(id);
  }, [active, everyMs, now]);
  return t;
}

/** Wraps a function component so it re-renders only when a prop changes (shallow, by identity). */
export function pure<P extends object>(fn: FunctionComponent<P>): FunctionComponent<P> {
  class Pure extends Component<P> {
    override shouldComponentUpdate(next: P): boolean {
      const prev = this.props as Record<string, unknown>;
      const n = next as Record<string, unknown>;
      for (const k in n) if (prev[k] !== n[k]) return true;
      for (const k in prev) if (!(k in n)) return true;
      return false;
    }
    override render(props: P & { children?: ComponentChildren }): VNode | null {
      return fn(props) as VNode | null;
    }
  }
  (Pure as unknown as { displayName: string }).displayName = fn.displayName ?? fn.name;
  return Pure as unknown as FunctionComponent<P>;
}
