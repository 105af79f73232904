// Small hooks: the room state batched to animation frames, a ticking clock, and `pure`
// (a component that re-renders only when its props change, by identity).
import { Component, type ComponentChildren, type FunctionComponent, type VNode } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { initialState, reduce, type Action } from '../state/reduce.js';
import type { RoomState } from '../state/types.js';

/** Longest an action waits when animation frames do not come (a background tab). */
const FLUSH_FALLBACK_MS = 100;

/**
 * The room state. Actions are queued and applied once per animation frame, so a burst of
 * deltas renders once per frame however fast it arrives.
 */
export function useRoomState(home: { channel: string; thread: string }): [RoomState, (a: Action) => void] {
  const [state, setState] = useState(() => initialState(home));
  const queue = useRef<Action[]>([]);
  const pending = useRef<{ raf: number; timer: ReturnType<typeof setTimeout> } | undefined>(undefined);
  const flush = useCallback(() => {
    const p = pending.current;
    if (!p) return;
    pending.current = undefined;
    cancelAnimationFrame(p.raf);
    clearTimeout(p.timer);
    const batch = queue.current;
    queue.current = [];
    setState((s) => reduce(s, batch));
  }, []);
  const dispatch = useCallback(
    (a: Action) => {
      queue.current.push(a);
      if (!pending.current) pending.current = { raf: requestAnimationFrame(flush), timer: setTimeout(flush, FLUSH_FALLBACK_MS) };
    },
    [flush],
  );
  useEffect(() => () => pending.current && (cancelAnimationFrame(pending.current.raf), clearTimeout(pending.current.timer)), []);
  return [state, dispatch];
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
