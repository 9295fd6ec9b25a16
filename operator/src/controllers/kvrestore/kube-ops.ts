// What the KVRestore reconciler asks of the Kubernetes API: the backup side's reads and Jobs, plus its
// own objects and the two writes it makes to a KVCluster (creating one, or annotating one with an
// in-place restore request). Reads go to the API server, not a cache: whether another restore of the
// same cluster is under way must be seen at once.
import type { KubeConfig } from '@kubernetes/client-node';
import {
  GROUP,
  PLURAL,
  RESTORE_PLURAL,
  VERSION,
  type KVCluster,
  type KVRestore,
  type KVRestoreStatus,
} from '../../api/v1alpha1/index.js';
import { getCustomObject, patchCustomObject, patchCustomStatus } from '../../runtime/api-calls.js';
import { ClientNodeBackupKubeOps, type BackupKubeOps } from '../kvbackup/kube-ops.js';

export interface RestoreKubeOps extends Pick<
  BackupKubeOps,
  'getCluster' | 'getBackup' | 'getJob' | 'listPods' | 'apply'
> {
  getRestore(namespace: string, name: string): Promise<KVRestore | undefined>;
  listRestores(namespace: string): Promise<KVRestore[]>;
  patchRestoreStatus(restore: KVRestore, status: KVRestoreStatus): Promise<void>;
  /** Creates a KVCluster; false when one of that name exists already. */
  createCluster(cluster: KVCluster): Promise<boolean>;
  annotateCluster(namespace: string, name: string, annotations: Record<string, string>): Promise<void>;
}

export class ClientNodeRestoreKubeOps extends ClientNodeBackupKubeOps implements RestoreKubeOps {
  private readonly api = { group: GROUP, version: VERSION };

  constructor(config: KubeConfig) {
    super(config);
  }

  getRestore(namespace: string, name: string): Promise<KVRestore | undefined> {
    return getCustomObject<KVRestore>(this.custom, { ...this.api, plural: RESTORE_PLURAL }, namespace, name);
  }

  async listRestores(namespace: string): Promise<KVRestore[]> {
    const list = (await this.custom.listNamespacedCustomObject({
      ...this.api,
      namespace,
      plural: RESTORE_PLURAL,
    })) as { items: KVRestore[] };
    return list.items;
  }

  async patchRestoreStatus(restore: KVRestore, status: KVRestoreStatus): Promise<void> {
    await patchCustomStatus(this.custom, { ...this.api, plural: RESTORE_PLURAL }, restore, status);
  }

  async createCluster(cluster: KVCluster): Promise<boolean> {
    try {
      await this.custom.createNamespacedCustomObject({
        ...this.api,
        namespace: cluster.metadata.namespace,
        plural: PLURAL,
        body: cluster,
      });
      return true;
    } catch (err) {
      if ((err as { code?: unknown }).code === 409) return false;
      throw err;
    }
  }

  annotateCluster(namespace: string, name: string, annotations: Record<string, string>): Promise<void> {
    return patchCustomObject(this.custom, { ...this.api, plural: PLURAL }, namespace, name, {
      metadata: { annotations },
    });
  }
}
