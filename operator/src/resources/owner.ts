// Every object the operator creates is controlled by its KVCluster, so deleting the KVCluster lets the
// garbage collector remove it (PVCs are the exception: the StatefulSet's retention policy decides).
import type { V1ObjectMeta, V1OwnerReference } from '@kubernetes/client-node';
import { API_VERSION, KIND, type KVCluster } from '../api/v1alpha1/index.js';
import { clusterLabels, type ClusterRef } from './names.js';

export function ownerReference(kv: Pick<KVCluster, 'metadata'>): V1OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: kv.metadata.name,
    uid: kv.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function ownedMeta(kv: Pick<KVCluster, 'metadata'>, c: ClusterRef, name: string): V1ObjectMeta {
  return { name, namespace: c.namespace, labels: clusterLabels(c), ownerReferences: [ownerReference(kv)] };
}
