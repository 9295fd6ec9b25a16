// The bootstrap ConfigMap: what a member that starts with an empty data dir uses for --initial-cluster and
// --initial-cluster-state. Only the seed (member 0 of a new cluster) ever starts with `new` and itself alone;
// before every later member is created, the operator has added it to the cluster (as a learner) and writes
// the whole membership with `existing`. A member that restarts with its data ignores both. A cluster
// restored from a snapshot is the exception: every member starts at once from the same snapshot, with the
// whole membership, while `restore-url` is set.
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { KVCluster } from '../api/v1alpha1/index.js';
import { bootstrapConfigMapName, peerURL, type ClusterRef } from './names.js';
import { ownedMeta } from './owner.js';

export const KEY_INITIAL_CLUSTER = 'initial-cluster';
export const KEY_INITIAL_CLUSTER_STATE = 'initial-cluster-state';
/** Present only while the members must start from a snapshot: the restore init step acts on it. */
export const KEY_RESTORE_URL = 'restore-url';

export interface Bootstrap {
  state: 'new' | 'existing';
  /** Member names, in the order --initial-cluster lists them. */
  members: string[];
  /** The snapshot every member with an empty data dir starts from (a restore in progress). */
  restoreURL?: string;
}

export function initialCluster(c: ClusterRef, members: readonly string[]): string {
  return members.map((m) => `${m}=${peerURL(c, m)}`).join(',');
}

export function bootstrapConfigMap(kv: KVCluster, c: ClusterRef, b: Bootstrap): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: ownedMeta(kv, c, bootstrapConfigMapName(c)),
    data: {
      [KEY_INITIAL_CLUSTER]: initialCluster(c, b.members),
      [KEY_INITIAL_CLUSTER_STATE]: b.state,
      ...(b.restoreURL !== undefined ? { [KEY_RESTORE_URL]: b.restoreURL } : {}),
    },
  };
}
