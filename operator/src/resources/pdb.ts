// The PodDisruptionBudget counts voters only (pods labelled cairn.dev/role=voter): a voluntary disruption
// (a node drain) may take a voter only while the others keep a quorum. Learners are not counted — they
// carry no vote, and a drain should not wait for one.
import type { V1PodDisruptionBudget } from '@kubernetes/client-node';
import type { KVCluster } from '../api/v1alpha1/index.js';
import { LABEL_ROLE, selectorLabels, type ClusterRef } from './names.js';
import { ownedMeta } from './owner.js';

/** Voters that must stay up: a majority of `voters`. */
export function quorum(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

export function podDisruptionBudget(kv: KVCluster, c: ClusterRef, voters: number): V1PodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: ownedMeta(kv, c, c.name),
    spec: {
      minAvailable: quorum(voters),
      selector: { matchLabels: { ...selectorLabels(c), [LABEL_ROLE]: 'voter' } },
    },
  };
}
