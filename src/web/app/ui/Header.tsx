// The top bar: the room and thread, the connection status, and the buttons that open the
// room panel (narrow screens) and the inspector.
import type { LinkStatus } from '../state/types.js';
import { pure } from './hooks.js';

const STATUS_TEXT: Record<LinkStatus, string> = {
  connecting: 'Connecting…',
  online: 'Online',
  offline: 'Offline — reconnecting…',
  reconnecting: 'Reconnecting…',
  failed: 'Disconnected',
};

interface Props {
  room: string | undefined;
  thread: string | undefined;
  status: LinkStatus;
  detail: string | undefined;
  sidebarOpen: boolean;
  onToggleSidebar(): void;
  inspectorAllowed: boolean;
  inspectorOpen: boolean;
  onToggleInspector(): void;
}

export const Header = pure(function Header({ room, thread, status, detail, sidebarOpen, onToggleSidebar, inspectorAllowed, inspectorOpen, onToggleInspector }: Props) {
  return (
    <header class="topbar">
      {/* First in the tab order: a long timeline is many stops before the message box. */}
      <button type="button" class="skip-link" onClick={() => document.getElementById('message')?.focus()}>
        Skip to the message box
      </button>
      <button type="button" class="room-toggle" aria-expanded={sidebarOpen} aria-controls="sidebar" onClick={onToggleSidebar}>
        Room
      </button>
      <h1 class="title">
        <span class="title-room">{room ?? 'Switchboard'}</span>
        {thread ? <span class="title-thread">{thread}</span> : null}
      </h1>
      <div class={`link-status link-${status}`}>
        <span class="dot" aria-hidden="true" />
        <span role="status">{STATUS_TEXT[status]}</span>
        {detail && status !== 'online' ? <span class="link-detail">{detail}</span> : null}
      </div>
      {inspectorAllowed ? (
        <button type="button" class="inspector-toggle" aria-pressed={inspectorOpen} aria-controls="inspector" onClick={onToggleInspector}>
          Inspector
        </button>
      ) : null}
    </header>
  );
});
