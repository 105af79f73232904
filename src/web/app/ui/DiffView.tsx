// A unified diff rendered by diff2html (sanitized fragment), re-rendered in place when the
// diff changes; plain text when diff2html cannot make sense of it or it is very large.
import { useLayoutEffect, useRef } from 'preact/hooks';
import { useServices } from './services.js';

export function DiffView({ diff, label }: { diff: string; label?: string }) {
  const { diff: renderer } = useServices();
  const ref = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const frag = renderer.render(diff);
    if (frag) {
      el.replaceChildren(frag);
    } else {
      const pre = document.createElement('pre');
      pre.className = 'diff-raw';
      pre.textContent = diff;
      el.replaceChildren(pre);
    }
  }, [diff, renderer]);
  return <div class="diff" ref={ref} role="group" aria-label={label ?? 'Diff'} />;
}
