// Prometheus metrics of one Switchboard host (prom-client): counters fed by the room event
// stream, gauges read from a probe at scrape time. One registry per instance (no global
// registry), so two hosts in one process or two tests never share series.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Observable, Subscription } from 'rxjs';
import type { RoomEvent } from '../events/room-events.js';
import { registerClusterMetrics, type ClusterProbe } from './cluster-metrics.js';

/** One app-server a harness talks to (a pool member, or the single connection). */
export interface MemberSample {
  harness: string;
  member: string;
  /** Total restarts of this member's connection since the host started. */
  restarts: number;
  loadedThreads?: number | undefined;
  rssBytes?: number | undefined;
}

/** What the gauges read at scrape time. */
export interface MetricsProbe {
  members(): Promise<MemberSample[]>;
  roomClients(): number;
  inboxDepth(): Promise<number> | number;
  /** Only on a cluster node: its series exist only then. */
  cluster?: ClusterProbe | undefined;
}

const TURN_BUCKETS = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900];
/** Turns whose end never arrives (a crash) must not pin memory. */
const MAX_OPEN_TURNS = 10_000;
const MAX_OPEN_APPROVALS = 10_000;

export class SwitchboardMetrics {
  readonly registry = new Registry();
  private readonly turns: Counter<'status'>;
  private readonly turnSeconds: Histogram<'status'>;
  private readonly approvals: Counter<'kind' | 'outcome'>;
  private readonly restarts: Counter<'harness' | 'member'>;
  private readonly started = new Map<string, number>();
  private readonly approvalKinds = new Map<string, string>();
  private readonly restartsSeen = new Map<string, number>();
  private sub: Subscription | undefined;

  constructor(
    private readonly probe: MetricsProbe,
    opts: { defaultMetrics?: boolean } = {},
  ) {
    const registers = [this.registry];
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'switchboard_' });
    this.turns = new Counter({ name: 'switchboard_turns_total', help: 'Turns that ended, by status', labelNames: ['status'], registers });
    this.turnSeconds = new Histogram({
      name: 'switchboard_turn_duration_seconds',
      help: 'Turn duration from turn.started to its end, by status',
      labelNames: ['status'],
      buckets: TURN_BUCKETS,
      registers,
    });
    this.approvals = new Counter({ name: 'switchboard_approvals_total', help: 'Approval requests that were resolved, by kind and outcome', labelNames: ['kind', 'outcome'], registers });
    const self = this;
    let members: Promise<MemberSample[]> | undefined;
    // The series of one scrape share one probe call.
    const sample = (): Promise<MemberSample[]> => (members ??= this.probe.members().finally(() => setTimeout(() => (members = undefined), 0).unref()));
    this.restarts = new Counter({
      name: 'switchboard_app_server_restarts_total',
      help: 'App-server connection restarts, by harness and member',
      labelNames: ['harness', 'member'],
      registers,
      async collect() {
        self.countRestarts(await sample());
      },
    });
    new Gauge({
      name: 'switchboard_app_server_loaded_threads',
      help: 'Codex threads loaded in each app-server (thread/loaded/list)',
      labelNames: ['harness', 'member'],
      registers,
      async collect() {
        this.reset();
        for (const m of await sample()) if (m.loadedThreads !== undefined) this.set({ harness: m.harness, member: m.member }, m.loadedThreads);
      },
    });
    new Gauge({
      name: 'switchboard_app_server_rss_bytes',
      help: 'Resident memory of each spawned app-server process',
      labelNames: ['harness', 'member'],
      registers,
      async collect() {
        this.reset();
        for (const m of await sample()) if (m.rssBytes !== undefined) this.set({ harness: m.harness, member: m.member }, m.rssBytes);
      },
    });
    new Gauge({
      name: 'switchboard_room_clients',
      help: 'WebSocket clients joined to rooms on this host',
      registers,
      collect() {
        this.set(self.probe.roomClients());
      },
    });
    new Gauge({
      name: 'switchboard_inbox_depth',
      help: 'Accepted messages no turn has finished yet (the durable inbox)',
      registers,
      async collect() {
        this.set(await self.probe.inboxDepth());
      },
    });
    if (probe.cluster) registerClusterMetrics(this.registry, probe.cluster);
  }

  /** Counts turns and approvals from the host's room events. */
  observe(events$: Observable<RoomEvent>): this {
    this.sub?.unsubscribe();
    this.sub = events$.subscribe((e) => this.onEvent(e));
    return this;
  }

  onEvent(e: RoomEvent): void {
    switch (e.type) {
      case 'turn.started':
        if (this.started.size >= MAX_OPEN_TURNS) this.started.delete(this.started.keys().next().value!);
        this.started.set(e.turnId, e.at);
        return;
      case 'turn.completed':
        return this.endTurn(e.turnId, 'completed', e.at);
      case 'turn.failed':
        return this.endTurn(e.turnId, 'failed', e.at);
      case 'turn.interrupted':
        return this.endTurn(e.turnId, 'interrupted', e.at);
      case 'approval.requested':
        if (this.approvalKinds.size >= MAX_OPEN_APPROVALS) this.approvalKinds.delete(this.approvalKinds.keys().next().value!);
        this.approvalKinds.set(e.approvalId, e.kind);
        return;
      case 'approval.resolved': {
        const kind = this.approvalKinds.get(e.approvalId) ?? 'unknown';
        this.approvalKinds.delete(e.approvalId);
        this.approvals.inc({ kind, outcome: e.outcome });
        return;
      }
      default:
        return;
    }
  }

  private endTurn(turnId: string | undefined, status: string, at: number): void {
    this.turns.inc({ status });
    const t0 = turnId ? this.started.get(turnId) : undefined;
    if (turnId) this.started.delete(turnId);
    if (t0 !== undefined) this.turnSeconds.observe({ status }, Math.max(0, at - t0) / 1000);
  }

  private countRestarts(list: MemberSample[]): void {
    for (const m of list) {
      const key = `${m.harness}\0${m.member}`;
      const seen = this.restartsSeen.get(key) ?? 0;
      if (m.restarts > seen) this.restarts.inc({ harness: m.harness, member: m.member }, m.restarts - seen);
      else this.restarts.inc({ harness: m.harness, member: m.member }, 0);
      this.restartsSeen.set(key, Math.max(seen, m.restarts));
    }
  }

  /** The Prometheus text exposition. */
  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  dispose(): void {
    this.sub?.unsubscribe();
    this.registry.clear();
  }
}
