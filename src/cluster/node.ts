// A supervisor as one node of several (`cluster` config, `postgres` storage): its posts go into
// the shared queue, and its ClusterDriver runs the messages of the conversations it holds.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { SwitchboardConfig } from '../config/schema.js';
import type { RoomEvent } from '../events/room-events.js';
import type { InboxMessage, ThreadStore } from '../storage/types.js';
import type { QueuedMessage } from '../storage/cluster.js';
import { PostgresStore } from '../storage/postgres/store.js';
import type { CodexHarness } from '../supervisor/codex-harness.js';
import type { StackClock } from '../stack/codex-stack.js';
import type { ResolvedAgent } from '../supervisor/sessions.js';
import { ANSWERS_CHANNEL, DECISIONS_CHANNEL, PostgresApprovalStore, type DecisionAnswer } from '../storage/postgres/approvals.js';
import type { DecideInput } from '../supervisor/post.js';
import type { ClusterProbe } from '../metrics/cluster-metrics.js';
import { ClusterApprovals } from './approvals.js';
import { clusterProbe } from './cluster-probe.js';
import { candidateSessions } from './candidates.js';
import { ClusterDriver } from './driver.js';
import { EventFeed } from './event-feed.js';
import { fencedHistory } from './fenced-store.js';
import { StopForwarding } from './stop-forwarding.js';
import { sentAlready } from './thread-check.js';

export interface ClusterNodeHost {
  config: SwitchboardConfig;
  store: ThreadStore;
  codex: CodexHarness;
  /** The agent of a queued message (`undefined`: the default agent). */
  agentFor: (id: string | undefined) => ResolvedAgent;
  dispatch: (session: string, entry: QueuedMessage) => Promise<'turn' | 'none'>;
  /** Run a message now, outside the queue (a `/stop` for a turn this node drives), with the same checks as a local post. */
  runNow: (session: string, msg: InboxMessage, id: string) => Promise<unknown>;
  clock?: StackClock;
  emit: (e: RoomEvent) => void;
  /** A room event another node published: to this node's room clients only. */
  deliver: (e: RoomEvent) => void;
  /** This node's own decide path, for decisions forwarded from other nodes. */
  decide: (d: DecideInput) => { ok: true } | { ok: false; reason: string };
  log: Logger;
}

export class ClusterNode {
  readonly driver: ClusterDriver;
  readonly feed: EventFeed;
  readonly approvals: ClusterApprovals;
  /** What this node's metrics read at scrape time. */
  readonly probe: ClusterProbe;
  private readonly store: PostgresStore;
  private readonly stops: StopForwarding;
  private readonly log: Logger;

  constructor(h: ClusterNodeHost) {
    const c = h.config.cluster;
    if (!c) throw new Error('ClusterNode needs a cluster config');
    if (!(h.store instanceof PostgresStore)) throw new Error('several nodes need "postgres" storage');
    this.store = h.store;
    const cluster = h.store.cluster(c.node);
    const log = (this.log = h.log.child({ node: c.node }));
    // Queued on a node whose agents differ: not run (a retry could not help), the room told.
    const agentOf = (entry: QueuedMessage): ResolvedAgent | undefined => {
      try {
        return h.agentFor(entry.message.agent);
      } catch {
        return undefined;
      }
    };
    this.driver = new ClusterDriver({
      cluster,
      candidates: candidateSessions(h.store.pool, c.node),
      ttlMs: c.leaseTtlMs,
      maxSessions: c.maxSessions,
      turnStartTimeoutMs: c.turnStartTimeoutMs,
      dispatch: async (session, entry) => {
        if (agentOf(entry)) return h.dispatch(session, entry);
        const text = `Agent ${JSON.stringify(entry.message.agent).slice(0, 100)} is not configured on node ${c.node}: "${entry.message.text.slice(0, 80)}" was not run. Configure the same agents on every node.`;
        h.emit({ type: 'notice', session, at: Date.now(), level: 'error', text });
        return 'none';
      },
      drop: (session) => {
        // A node that lost the conversation decides nothing more of it: its open approvals are withdrawn (denied).
        for (const p of h.codex.router.pending()) {
          if (p.threadId && h.codex.sessionOfThread(p.threadId) === session) h.codex.router.withdrawTurn(p.threadId, p.turnId ?? '', 'this node no longer drives the conversation');
        }
        for (const m of h.codex.stack.managers().values()) m.drop(session);
      },
      sentAlready: async (session, entry) => {
        const agent = agentOf(entry);
        if (!agent) return undefined;
        const threadId = entry.threadId ?? (await h.codex.sessionManager(agent).boundThread(session));
        if (!threadId) return undefined;
        const read = (id: string) => h.codex.clientFor(agent.id).request('thread/read', { threadId: id, includeTurns: true });
        return (await sentAlready(read, threadId, entry)) ? { threadId } : undefined;
      },
      emit: h.emit,
      acquired: (lease) => this.approvals.tookOver(lease),
      log,
      ...(h.clock ? { clock: h.clock } : {}),
    });
    this.feed = new EventFeed({ pool: h.store.pool, url: h.config.storage.url!, node: c.node, deliver: h.deliver, log });
    this.stops = new StopForwarding({ pool: h.store.pool, node: c.node, feed: this.feed, drives: (s) => this.driver.drives(s), runNow: h.runNow, enqueue: (s, m) => this.enqueue(s, m), log });
    const approvalStore = new PostgresApprovalStore(h.store.pool, cluster);
    this.approvals = new ClusterApprovals({ store: approvalStore, node: c.node, leaseOf: (s) => this.driver.leaseOf(s), decideHere: h.decide, emit: h.emit, log });
    this.probe = clusterProbe({ counts: () => this.driver.counts(), queueDepth: () => cluster.queueDepth(), cluster, store: h.store, log });
    this.feed.listen(DECISIONS_CHANNEL, (node) => this.approvals.onDecisionsNotice(node));
    this.feed.listen(ANSWERS_CHANNEL, (id) => this.approvals.onAnswerNotice(id));
  }

  async start(): Promise<void> {
    await this.feed.start();
    await this.driver.start();
  }

  /** Any node accepts a post: it goes into the shared queue, and the driver of its conversation runs it. */
  async post(session: string, msg: InboxMessage): Promise<void> {
    if (!(await this.stops.forward(session, msg, randomUUID()))) await this.enqueue(session, msg);
  }

  private async enqueue(session: string, msg: InboxMessage): Promise<void> {
    await this.store.cluster(this.driver.node).enqueue(session, msg);
    this.driver.wake();
  }

  /** A decision of an approval this node asked: refused when its lease moved on (see ClusterApprovals.stillDriving). */
  stillDriving(approvalId: string): Promise<DecisionAnswer | undefined> | undefined {
    return this.approvals.stillDriving(approvalId);
  }

  /** A decision for an approval this node does not hold: forwarded to the node that asked (see ClusterApprovals). */
  decide(d: DecideInput): Promise<{ ok: true } | { ok: false; reason: string }> {
    return this.approvals.decide(d).catch((err: unknown) => {
      this.log.warn({ err: (err as Error).message, approvalId: d.approvalId }, 'a decision could not be forwarded');
      return { ok: false as const, reason: `approval ${d.approvalId} not decided: the shared database could not be asked (${(err as Error).message.slice(0, 200)})` };
    });
  }

  /** `store` with this node's history writes fenced by its leases. */
  fence(store: ThreadStore): ThreadStore {
    return fencedHistory(store, this.store.cluster(this.driver.node), this.driver);
  }

  /** Every room event of this node: the driver's bookkeeping, and those of conversations it drives go to the other nodes. */
  onEvent(e: RoomEvent): void {
    this.driver.onEvent(e);
    // An approval's row is written before the other nodes' clients see it, so they can decide it.
    const written = this.approvals.onEvent(e);
    if (this.driver.drives(e.session)) this.feed.publish(e, written);
  }

  async stop(): Promise<void> {
    await this.driver.stop();
    await this.feed.stop();
  }
}
