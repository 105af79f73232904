// The live machine inspector (room owners and approvers): the actor tree — supervisor,
// connections, sessions, turns, approvals — and, for the selected actor, its machine's
// diagram with the current state highlighted and its recent events.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { InspectActor } from '../frames.js';
import { activeStateIds, actorTree, type ActorNode } from '../state/inspector.js';
import type { InspectState } from '../state/types.js';
import { highlightStates } from '../render/viz.js';
import { useServices } from './services.js';
import { Time } from './Time.js';

function stateText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    return Object.entries(value)
      .map(([k, v]) => (typeof v === 'string' || (v && typeof v === 'object') ? `${k}.${stateText(v)}` : k))
      .join(', ');
  }
  return '';
}

const shortId = (a: InspectActor): string => (a.parent && a.id.startsWith(`${a.parent}/`) ? a.id.slice(a.parent.length + 1) : a.id);

function Tree({ nodes, selected, onSelect }: { nodes: ActorNode[]; selected: string | undefined; onSelect(id: string): void }) {
  return (
    <ul class="actors">
      {nodes.map(({ actor: a, children }) => (
        <li key={a.id} data-actor-id={a.id} data-status={a.status} data-machine={a.machine}>
          <button type="button" class="actor" title={a.id} aria-pressed={a.id === selected} onClick={() => onSelect(a.id)}>
            <span class="actor-name">{shortId(a)}</span>
            <span class={`actor-status status-${a.status}`}>{a.status}</span>
            {a.value !== undefined ? <span class="actor-state">{stateText(a.value)}</span> : null}
          </button>
          {children.length ? <Tree nodes={children} selected={selected} onSelect={onSelect} /> : null}
        </li>
      ))}
    </ul>
  );
}

function Diagram({ machine, value }: { machine: string; value: unknown }) {
  const { viz } = useServices();
  const box = useRef<HTMLDivElement>(null);
  const [svg, setSvg] = useState<SVGSVGElement | undefined | null>(null);
  useEffect(() => {
    let live = true;
    setSvg(null);
    void viz.load(machine).then((s) => live && setSvg(s));
    return () => {
      live = false;
    };
  }, [machine, viz]);
  useLayoutEffect(() => {
    const el = box.current;
    if (!el || !svg) return;
    if (svg.parentNode !== el) el.replaceChildren(svg);
    highlightStates(svg, activeStateIds(machine, value));
    // Bring the deepest active state into view inside the diagram's own scroll box.
    const active = [...svg.querySelectorAll('g.node.viz-active')].pop();
    if (active) {
      const box = el.getBoundingClientRect();
      const r = active.getBoundingClientRect();
      el.scrollLeft += r.left - box.left - (box.width - r.width) / 2;
      el.scrollTop += r.top - box.top - (box.height - r.height) / 2;
    }
  }, [svg, machine, value]);
  if (svg === undefined) return <p class="meta">The {machine} diagram could not be loaded.</p>;
  return <div class="viz" ref={box} aria-busy={svg === null} />;
}

interface Props {
  state: InspectState;
  onSelect(id: string | undefined): void;
  onClose(): void;
}

export function Inspector({ state, onSelect, onClose }: Props) {
  const tree = actorTree(state.actors);
  const sel = state.selected !== undefined ? state.actors[state.selected] : undefined;
  const events = sel ? (state.events[sel.id] ?? []) : [];
  return (
    <section id="inspector" class="inspector" role="region" aria-label="Inspector">
      <header class="inspector-head">
        <h2>Inspector</h2>
        <button type="button" onClick={onClose} aria-label="Close inspector">
          Close
        </button>
      </header>
      {state.error ? (
        <p class="why-not" role="alert">
          {state.error}
        </p>
      ) : null}
      {state.dropped ? <p class="meta">{state.dropped} events were dropped by the server to keep up.</p> : null}
      <div class="inspector-body">
        <nav class="actor-tree" aria-label="Actors">
          {tree.length ? <Tree nodes={tree} selected={state.selected} onSelect={onSelect} /> : <p class="meta">{state.error ? '' : 'Waiting for the actors…'}</p>}
        </nav>
        <div class="actor-detail">
          {sel ? (
            <>
              <h3 class="actor-title">{sel.id}</h3>
              <p class="meta">
                {sel.machine ? `${sel.machine} machine` : (sel.src ?? 'actor')} · {sel.status}
                {sel.value !== undefined ? ` · ${stateText(sel.value)}` : ''}
              </p>
              {sel.machine ? <Diagram machine={sel.machine} value={sel.value} /> : null}
              <h4>Recent events</h4>
              {events.length ? (
                <ol class="events">
                  {[...events].reverse().map((e, i) => (
                    <li key={`${e.at}:${i}`}>
                      <Time at={e.at} seconds /> <code>{e.type}</code>
                      {e.summary ? <span class="meta"> {e.summary}</span> : null}
                    </li>
                  ))}
                </ol>
              ) : (
                <p class="meta">No events yet.</p>
              )}
            </>
          ) : (
            <p class="meta">Select an actor to see its diagram and recent events.</p>
          )}
        </div>
      </div>
    </section>
  );
}
