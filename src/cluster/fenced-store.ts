// History writes of a node in a cluster: a conversation this node drives is written under its
// lease (fenced: refused once another node took over), one it drove and lost is not written at
// all, and the rest (e.g. a notice about a post this node refused) is written as before.
import type { ClusterStore, Lease } from '../storage/cluster.js';
import type { HistoryRecord, StoredRecord, ThreadStore } from '../storage/types.js';

export interface LeaseView {
  /** The lease this node holds for `session`, if any. */
  leaseOf(session: string): Lease | undefined;
  /** This node drove `session` and lost it: nothing more of it may be written here. */
  lostDriving(session: string): boolean;
}

export function fencedHistory(store: ThreadStore, cluster: ClusterStore, leases: LeaseView): ThreadStore {
  const append = async (session: string, record: HistoryRecord): Promise<StoredRecord> => {
    const lease = leases.leaseOf(session);
    if (lease) return cluster.append(lease, record);
    if (leases.lostDriving(session)) throw new Error(`not written: node ${cluster.node} no longer drives "${session}"`);
    return store.append(session, record);
  };
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'append') return append;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
