// The joined room: one Link (the socket), the batched state, and the layout — header,
// room panel, conversation with turn bar and message box, inspector.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { Target } from '../credential.js';
import { Link } from '../link.js';
import { agentNameOf, sameSummaries, threadLabel, threadSummaries, turnStatus } from '../state/sessions.js';
import { Composer } from './Composer.js';
import { Header } from './Header.js';
import { useRoomState, useStable } from './hooks.js';
import { Inspector } from './Inspector.js';
import { useServices } from './services.js';
import { Sidebar } from './Sidebar.js';
import { Timeline } from './Timeline.js';
import { TurnBar } from './TurnBar.js';

const wsUrl = (loc: Location): string => `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}/`;

export function Room({ target, onRejected }: { target: Target & { token: string }; onRejected(reason: string): void }) {
  const { now } = useServices();
  const [home] = useState(() => ({ channel: target.channel ?? 'chat', thread: target.thread ?? 'main' }));
  const [state, dispatch] = useRoomState(home);
  const stateRef = useRef(state);
  stateRef.current = state;
  const linkRef = useRef<Link | undefined>(undefined);
  const [sidebarOpen, setSidebarOpen] = useState(false);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const link: Link = new Link({
      url: wsUrl(window.location),
      token: target.token,
      room: target.room,
      // A thread is always in a channel: name the default one, so history is filtered to
      // `room/chat/thread` rather than to a `room/thread` prefix that matches nothing.
      channel: target.channel ?? (target.thread ? home.channel : undefined),
      thread: target.thread,
      onFrame: (f) => {
        dispatch({ type: 'frame', frame: f });
        if (f.type !== 'joined') return;
        if (link.send({ type: 'models' })) dispatch({ type: 'models.requested' });
        // The inspector was open before a reconnect: subscribe again.
        if (stateRef.current.inspect.open && f.inspector && link.send({ type: 'inspect', on: true })) dispatch({ type: 'inspect.toggle', open: true });
      },
      onStatus: (status, detail) => dispatch({ type: 'status', status, detail }),
      onRejected,
    });
    linkRef.current = link;
    link.start();
    const online = () => link.nudge();
    window.addEventListener('online', online);
    return () => {
      window.removeEventListener('online', online);
      link.stop();
    };
  }, [attempt]); // eslint-disable-line react-hooks/exhaustive-deps

  const post = useCallback((text: string, echo: boolean): boolean => {
    const s = stateRef.current;
    const c = s.selected ? s.conversations[s.selected] : undefined;
    const ok = linkRef.current?.send({ type: 'message', channel: c?.channel ?? home.channel, thread: c?.thread ?? home.thread, text }) ?? false;
    if (ok && echo) dispatch({ type: 'sent', text, at: now() });
    return ok;
  }, []); // eslint-disable-line react-hooks/exhaustive-deps

  const onSend = useCallback((text: string) => post(text, !text.startsWith('/model ')), [post]);
  const onStop = useCallback(() => void post('/stop', false), [post]);

  const onDecide = useCallback((approvalId: string, decision: string, content?: unknown): boolean => {
    const ok = linkRef.current?.send({ type: 'approval.decide', approvalId, decision, ...(content !== undefined ? { content } : {}) }) ?? false;
    if (ok) dispatch({ type: 'deciding', approvalId, decision });
    return ok;
  }, []); // eslint-disable-line react-hooks/exhaustive-deps

  const setInspector = useCallback((open: boolean) => {
    linkRef.current?.send({ type: 'inspect', on: open });
    dispatch({ type: 'inspect.toggle', open });
    if (!open) document.querySelector<HTMLElement>('.inspector-toggle')?.focus();
  }, []); // eslint-disable-line react-hooks/exhaustive-deps

  const loadOlder = useCallback(() => {
    const before = stateRef.current.historyBefore;
    if (before !== undefined && linkRef.current?.send({ type: 'history', before })) dispatch({ type: 'older.requested' });
  }, []); // eslint-disable-line react-hooks/exhaustive-deps

  // Escape closes the inspector, then the room panel.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      if (stateRef.current.inspect.open) setInspector(false);
      else if (sidebarOpen) {
        setSidebarOpen(false);
        document.querySelector<HTMLElement>('.room-toggle')?.focus();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [sidebarOpen, setInspector]);

  const toggleSidebar = useCallback(() => setSidebarOpen((o) => !o), []);
  const toggleInspector = useCallback(() => setInspector(!stateRef.current.inspect.open), [setInspector]);
  const onSelect = useCallback((key: string) => {
    dispatch({ type: 'select', key });
    setSidebarOpen(false);
  }, []); // eslint-disable-line react-hooks/exhaustive-deps
  const onNewThread = useCallback((thread: string) => {
    dispatch({ type: 'thread.new', thread });
    setSidebarOpen(false);
  }, []); // eslint-disable-line react-hooks/exhaustive-deps
  // Drawn again only when a thread's label or running state changes, not on every delta.
  const threads = useStable(threadSummaries(state.conversations), sameSummaries);

  const conv = state.selected ? state.conversations[state.selected] : undefined;
  const online = state.status === 'online';
  return (
    <div class={`app${state.inspect.open ? ' with-inspector' : ''}${sidebarOpen ? ' sidebar-open' : ''}`}>
      <Header
        room={state.room}
        thread={conv ? threadLabel(conv) : undefined}
        status={state.status}
        detail={state.statusDetail}
        sidebarOpen={sidebarOpen}
        onToggleSidebar={toggleSidebar}
        inspectorAllowed={state.inspector}
        inspectorOpen={state.inspect.open}
        onToggleInspector={toggleInspector}
      />
      {state.status === 'failed' ? (
        <div class="banner" role="alert">
          {state.statusDetail ?? 'Disconnected.'}{' '}
          <button type="button" onClick={() => setAttempt((n) => n + 1)}>
            Try again
          </button>
        </div>
      ) : null}
      {state.errors.length ? (
        <ul class="toasts" aria-label="Messages from the room server">
          {state.errors.map((e) => (
            <li key={e.id} role="alert">
              {e.text}{' '}
              <button type="button" onClick={() => dispatch({ type: 'error.dismiss', id: e.id })} aria-label="Dismiss">
                ×
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      <Sidebar
        id="sidebar"
        open={sidebarOpen}
        room={state.room}
        threads={threads}
        selected={state.selected}
        participants={state.participants}
        me={state.me}
        onSelect={onSelect}
        onNewThread={onNewThread}
      />
      <main class="chat">
        <Timeline
          conv={conv}
          agentName={agentNameOf(state.participants)}
          me={state.me}
          online={online}
          onDecide={onDecide}
          older={{ available: state.historyBefore !== undefined, loading: state.loadingOlder, load: loadOlder }}
        />
        <TurnBar status={turnStatus(conv)} model={conv?.model} me={state.me} online={online} onStop={onStop} />
        <Composer me={state.me} online={online} models={state.models} currentModel={conv?.model} target={conv ? threadLabel(conv) : ''} onSend={onSend} />
      </main>
      {state.inspect.open ? <Inspector state={state.inspect} onSelect={(actor) => dispatch({ type: 'inspect.select', actor })} onClose={() => setInspector(false)} /> : null}
    </div>
  );
}
