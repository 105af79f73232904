// Room access: who owns a conversation (persisted: the first poster, never replaced), who may
// run the commands that change a session, and which Codex threads belong to which room.
import type { Logger } from 'pino';
import { authorize, whoMay, type Authority, type Role } from '../approvals/authorize.js';
import { roomOfSession, type ThreadRoom, type ThreadStore } from '../storage/types.js';

export interface Poster {
  id: string;
  name?: string | undefined;
  role?: Role | undefined;
}

export class RoomAccess {
  /** session → owner id: a cache of the store, loaded at start, filled by claims. */
  private readonly owners = new Map<string, string>();

  constructor(
    private readonly store: () => ThreadStore,
    private readonly log: Logger,
    private readonly restricted: readonly string[],
  ) {}

  /** Load every persisted owner (resolveContext is synchronous; it reads this cache). */
  async load(): Promise<void> {
    for (const o of await this.store().owners()) this.owners.set(o.session, o.owner);
  }

  /** The conversation's owner: the recorded one, else `from` (recorded durably now). */
  async claim(session: string, from: Poster): Promise<string> {
    const known = this.owners.get(session);
    if (known !== undefined) return known;
    const rec = await this.store().claimOwner(session, { id: from.id, ...(from.name ? { name: from.name } : {}) });
    if (rec.owner === from.id) this.log.info({ session, owner: rec.owner }, 'conversation owner recorded');
    this.owners.set(session, rec.owner);
    return rec.owner;
  }

  ownerOf(session: string): string | undefined {
    return this.owners.get(session);
  }

  authority(session: string, approvers: readonly string[]): Authority {
    return { owner: this.owners.get(session), approvers };
  }

  /** The restricted-command name of a text (`model`, `codex resume`, `guardian approve`), or undefined when free. */
  restrictedName(text: string): string | undefined {
    const words = text.trim().slice(1).split(/\s+/);
    const sub = words[0] === 'codex' ? (words[1] ?? 'status') : words[0] === 'guardian' ? (words[1] ?? 'list') : undefined;
    const name = sub !== undefined ? `${words[0]} ${sub}` : (words[0] ?? '');
    return this.restricted.includes(name) ? name : undefined;
  }

  /** Undefined when `from` may run `text`; otherwise the refusal, saying who may. */
  refusal(session: string, text: string, from: Poster, approvers: readonly string[]): string | undefined {
    const name = this.restrictedName(text);
    if (!name) return undefined;
    const authority = this.authority(session, approvers);
    const v = authorize({ by: from.id, role: from.role }, authority);
    if (v.ok) return undefined;
    this.log.warn({ session, command: name, by: from.id, role: from.role, reason: v.reason }, 'command refused');
    return `/${name} was not run: only ${whoMay(authority)} may run it (${v.reason}).`;
  }

  async recordThread(threadId: string, session: string): Promise<void> {
    await this.store().recordThread(threadId, session);
  }

  threadsOf(session: string, limit?: number): Promise<ThreadRoom[]> {
    return this.store().threadsOfRoom(roomOfSession(session), limit);
  }

  /** True when `threadId` was started or bound by a conversation of `session`'s room. */
  async ownsThread(session: string, threadId: string): Promise<boolean> {
    return (await this.store().roomOfThread(threadId)) === roomOfSession(session);
  }
}
