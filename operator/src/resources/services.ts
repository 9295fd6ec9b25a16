// The two Services of a cluster. The headless peer Service gives every member a stable DNS name and
// publishes addresses of pods that are not ready yet — a member must be reachable by its peers before it
// can become healthy. The client Service balances over ready (healthy) members only.
import type { V1Service } from '@kubernetes/client-node';
import type { KVCluster } from '../api/v1alpha1/index.js';
import {
  CLIENT_PORT,
  METRICS_PORT,
  PEER_PORT,
  clientServiceName,
  peerServiceName,
  selectorLabels,
  type ClusterRef,
} from './names.js';
import { ownedMeta } from './owner.js';

export function peerService(kv: KVCluster, c: ClusterRef): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: ownedMeta(kv, c, peerServiceName(c)),
    spec: {
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      selector: selectorLabels(c),
      ports: [
        { name: 'peer', port: PEER_PORT, targetPort: 'peer' },
        { name: 'client', port: CLIENT_PORT, targetPort: 'client' },
        { name: 'metrics', port: METRICS_PORT, targetPort: 'metrics' },
      ],
    },
  };
}

export function clientService(kv: KVCluster, c: ClusterRef): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: ownedMeta(kv, c, clientServiceName(c)),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(c),
      ports: [{ name: 'client', port: CLIENT_PORT, targetPort: 'client' }],
    },
  };
}
