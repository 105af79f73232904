// What several nodes sharing one database need beyond the ThreadStore contract: node
// heartbeats, one lease per conversation with a fencing epoch, writes fenced by that epoch, and
// the inbox as a queue. Single-node code keeps using ThreadStore only (SQLite or memory).
import type { HistoryRecord, InboxEntry, InboxMessage, StoredRecord } from './types.js';

/** The right of `node` to drive `session`; `epoch` grows each time the lease changes hands. */
export interface Lease {
  session: string;
  node: string;
  epoch: number;
  /** Milliseconds since the epoch, by the database's clock (nodes' clocks are never compared). */
  expiresAt: number;
  /** As acquired: whether the conversation had approvals open (an earlier driver's, to close). Unknown when absent. */
  openApprovals?: boolean;
}

export interface NodeInfo {
  node: string;
  startedAt: number;
  heartbeatAt: number;
}

/** A queued message as a driver claims it. */
export interface QueuedMessage extends InboxEntry {
  clientUserMessageId: string;
  /**
   * An earlier driver (an older epoch) had claimed it and may have sent it: look for
   * `clientUserMessageId` in the Codex thread before sending it again.
   */
  reclaimed: boolean;
}

/** A write under a lease that is no longer current: the node must stop driving the session. */
export class FencedWriteError extends Error {
  constructor(
    readonly lease: Lease,
    readonly current: { node: string; epoch: number } | undefined,
  ) {
    super(
      `write to session "${lease.session}" rejected: node ${lease.node} holds epoch ${lease.epoch}, but ` +
        (current ? `the lease is now epoch ${current.epoch} of node ${current.node}` : 'the session has no lease') +
        '; this node no longer drives the session',
    );
    this.name = 'FencedWriteError';
  }
}

export interface ClusterStore {
  readonly node: string;
  /** Records this node as alive (now). */
  heartbeat(): Promise<void>;
  /** Nodes whose last heartbeat is at most `withinMs` old. */
  liveNodes(withinMs: number): Promise<NodeInfo[]>;
  /** The lease of `session`, always under a new epoch, when it is free, expired or this node id's (e.g. before a restart); undefined while another node holds it. */
  acquire(session: string, ttlMs: number): Promise<Lease | undefined>;
  /** Extends a lease; FencedWriteError when it changed hands. */
  renew(lease: Lease, ttlMs: number): Promise<Lease>;
  /** Gives the lease up now (another node may take it at once, with the next epoch). */
  release(lease: Lease): Promise<void>;
  leaseOf(session: string): Promise<Lease | undefined>;
  /** Any node accepts a post; `clientUserMessageId` (default: a new uuid) makes a re-post of the same message a no-op. */
  enqueue(session: string, message: InboxMessage, clientUserMessageId?: string): Promise<QueuedMessage>;
  /** The oldest message of the lease's session no driver of this epoch has claimed, if any. Fenced. */
  claim(lease: Lease): Promise<QueuedMessage | undefined>;
  /** Fenced writes: each rejected with FencedWriteError once `lease` is not current. */
  append(lease: Lease, record: HistoryRecord): Promise<StoredRecord>;
  take(lease: Lease, id: string, turnId: string, threadId: string | undefined): Promise<void>;
  ack(lease: Lease, id: string): Promise<void>;
}
