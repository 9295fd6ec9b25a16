// The backup fake with KVRestores, KVCluster creation and annotation: tests finish the verify Job by hand
// and play the KVCluster reconciler's part by setting the cluster's status.restore.
import type {
  KVCluster,
  KVRestore,
  KVRestoreStatus,
} from '../../../../../operator/src/api/v1alpha1/index.js';
import type { RestoreKubeOps } from '../../../../../operator/src/controllers/kvrestore/kube-ops.js';
import { FakeBackupKube } from '../kvbackup/fakes.js';

const key = (namespace: string, name: string): string => `${namespace}/${name}`;

export class FakeRestoreKube extends FakeBackupKube implements RestoreKubeOps {
  restores = new Map<string, KVRestore>();
  created: string[] = [];

  async getRestore(namespace: string, name: string): Promise<KVRestore | undefined> {
    return Promise.resolve(this.restores.get(key(namespace, name)));
  }

  async listRestores(namespace: string): Promise<KVRestore[]> {
    return Promise.resolve([...this.restores.values()].filter((r) => r.metadata.namespace === namespace));
  }

  async patchRestoreStatus(restore: KVRestore, status: KVRestoreStatus): Promise<void> {
    const stored = this.restores.get(key(restore.metadata.namespace, restore.metadata.name));
    if (stored !== undefined) stored.status = structuredClone(status);
    return Promise.resolve();
  }

  async createCluster(cluster: KVCluster): Promise<boolean> {
    const k = key(cluster.metadata.namespace, cluster.metadata.name);
    if (this.clusters.has(k)) return Promise.resolve(false);
    this.created.push(cluster.metadata.name);
    this.clusters.set(k, structuredClone(cluster));
    return Promise.resolve(true);
  }

  async annotateCluster(namespace: string, name: string, annotations: Record<string, string>): Promise<void> {
    const kv = this.clusters.get(key(namespace, name));
    if (kv !== undefined) kv.metadata.annotations = { ...kv.metadata.annotations, ...annotations };
    return Promise.resolve();
  }

  restore(name: string): KVRestore {
    const r = this.restores.get(key('ns', name));
    if (r === undefined) throw new Error(`no KVRestore ${name}`);
    return r;
  }
}

export function kvRestore(name: string, target: KVRestore['spec']['target']): KVRestore {
  return {
    apiVersion: 'cairn.dev/v1alpha1',
    kind: 'KVRestore',
    metadata: { name, namespace: 'ns', uid: `${name}-uid-0001` },
    spec: { source: { backupName: 'b1' }, target },
  };
}
