// The room side of a scenario's dispatch, with production's rules: the conversation's owner
// is the persisted first poster (RoomAccess over a store, claimed before the message runs),
// and restricted commands are refused to anyone but the owner and approvers. A scenario's
// `approvals.owner` is an owner persisted before the run (like `bindings`), not a fallback.
import type { Logger } from 'pino';
import { DEFAULT_RESTRICTED_COMMANDS } from '../config/schema.js';
import type { RoomEventSink } from '../events/room-events.js';
import { MemoryStore } from '../storage/memory.js';
import { RoomAccess, type Poster } from '../supervisor/access.js';
import type { AgentSpec } from '../supervisor/harness.js';
import type { CodexStack } from '../stack/codex-stack.js';

export class SimAccess {
  readonly access: RoomAccess;
  private readonly store: MemoryStore;

  constructor(
    log: Logger,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.store = new MemoryStore('none', { now });
    this.access = new RoomAccess(() => this.store, log, DEFAULT_RESTRICTED_COMMANDS);
  }

  /** An owner recorded before the run. */
  async seed(session: string, owner: string): Promise<void> {
    await this.access.claim(session, { id: owner });
  }

  ownerOf(session: string): string | undefined {
    return this.access.ownerOf(session);
  }

  /**
   * Production's order: the first poster claims the conversation, a restricted command from
   * someone who may not run it becomes a warning notice, anything else goes to the session.
   */
  async post(stack: CodexStack, agent: AgentSpec, sink: RoomEventSink, msg: { room: string; channel: string; thread: string; from: Poster & { name: string }; text: string }): Promise<void> {
    const session = stack.keyOf(msg);
    await this.access.claim(session, msg.from);
    const text = msg.text.trim();
    if (text.startsWith('/')) {
      const refused = this.access.refusal(session, text, msg.from, agent.approvers);
      if (refused) {
        sink({ type: 'notice', session, at: this.now(), level: 'warning', text: refused });
        return;
      }
    }
    stack.post(agent, { room: msg.room, channel: msg.channel, thread: msg.thread, from: { id: msg.from.id, name: msg.from.name }, text: msg.text });
  }
}
