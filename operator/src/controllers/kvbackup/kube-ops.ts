// Everything the KVBackup and KVBackupSchedule reconcilers ask of the Kubernetes API, behind one
// interface (the unit tests use an in-memory fake). Reads go to the API server, not a cache: whether
// another backup of the same cluster is running must be seen at once.
import {
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  type KubeConfig,
  type KubernetesObject,
  type V1Job,
  type V1Pod,
} from '@kubernetes/client-node';
import {
  BACKUP_PLURAL,
  GROUP,
  PLURAL,
  SCHEDULE_PLURAL,
  VERSION,
  type KVBackup,
  type KVBackupSchedule,
  type KVBackupScheduleStatus,
  type KVBackupStatus,
  type KVCluster,
} from '../../api/v1alpha1/index.js';
import { OPERATOR_NAME } from '../../resources/index.js';
import {
  getCustomObject,
  ignoreNotFound,
  orUndefined,
  patchCustomObject,
  patchCustomStatus,
  serverSideApply,
} from '../../runtime/api-calls.js';

export interface BackupKubeOps {
  getCluster(namespace: string, name: string): Promise<KVCluster | undefined>;
  getBackup(namespace: string, name: string): Promise<KVBackup | undefined>;
  listBackups(namespace: string): Promise<KVBackup[]>;
  getSchedule(namespace: string, name: string): Promise<KVBackupSchedule | undefined>;
  /** Creates a KVBackup; false when one of that name exists already. */
  createBackup(backup: KVBackup): Promise<boolean>;
  deleteBackup(namespace: string, name: string): Promise<void>;
  getJob(namespace: string, name: string): Promise<V1Job | undefined>;
  /** Deletes a Job and its pods (background propagation). */
  deleteJob(namespace: string, name: string): Promise<void>;
  listPods(namespace: string, selector: string): Promise<V1Pod[]>;
  /** Create or update an owned object (server-side apply). */
  apply(obj: KubernetesObject): Promise<void>;
  patchBackupStatus(backup: KVBackup, status: KVBackupStatus): Promise<void>;
  patchScheduleStatus(schedule: KVBackupSchedule, status: KVBackupScheduleStatus): Promise<void>;
  setFinalizers(backup: KVBackup, finalizers: string[]): Promise<void>;
}

export class ClientNodeBackupKubeOps implements BackupKubeOps {
  private readonly core: CoreV1Api;
  private readonly batch: BatchV1Api;
  protected readonly custom: CustomObjectsApi;
  private readonly objects: KubernetesObjectApi;

  constructor(config: KubeConfig) {
    this.core = config.makeApiClient(CoreV1Api);
    this.batch = config.makeApiClient(BatchV1Api);
    this.custom = config.makeApiClient(CustomObjectsApi);
    this.objects = KubernetesObjectApi.makeApiClient(config);
  }

  private getCustom<T>(namespace: string, plural: string, name: string): Promise<T | undefined> {
    return getCustomObject<T>(this.custom, { group: GROUP, version: VERSION, plural }, namespace, name);
  }

  getCluster(namespace: string, name: string): Promise<KVCluster | undefined> {
    return this.getCustom<KVCluster>(namespace, PLURAL, name);
  }

  getBackup(namespace: string, name: string): Promise<KVBackup | undefined> {
    return this.getCustom<KVBackup>(namespace, BACKUP_PLURAL, name);
  }

  getSchedule(namespace: string, name: string): Promise<KVBackupSchedule | undefined> {
    return this.getCustom<KVBackupSchedule>(namespace, SCHEDULE_PLURAL, name);
  }

  async listBackups(namespace: string): Promise<KVBackup[]> {
    const list = (await this.custom.listNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: BACKUP_PLURAL,
    })) as { items: KVBackup[] };
    return list.items;
  }

  async createBackup(backup: KVBackup): Promise<boolean> {
    try {
      await this.custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: backup.metadata.namespace,
        plural: BACKUP_PLURAL,
        body: backup,
      });
      return true;
    } catch (err) {
      if ((err as { code?: unknown }).code === 409) return false;
      throw err;
    }
  }

  deleteBackup(namespace: string, name: string): Promise<void> {
    return ignoreNotFound(
      this.custom.deleteNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: BACKUP_PLURAL,
        name,
      }),
    );
  }

  getJob(namespace: string, name: string): Promise<V1Job | undefined> {
    return orUndefined(this.batch.readNamespacedJob({ namespace, name }));
  }

  deleteJob(namespace: string, name: string): Promise<void> {
    return ignoreNotFound(
      this.batch.deleteNamespacedJob({ namespace, name, body: { propagationPolicy: 'Background' } }),
    );
  }

  async listPods(namespace: string, selector: string): Promise<V1Pod[]> {
    return (await this.core.listNamespacedPod({ namespace, labelSelector: selector })).items;
  }

  async apply(obj: KubernetesObject): Promise<void> {
    await serverSideApply(this.objects, obj, OPERATOR_NAME);
  }

  async patchBackupStatus(backup: KVBackup, status: KVBackupStatus): Promise<void> {
    await patchCustomStatus(
      this.custom,
      { group: GROUP, version: VERSION, plural: BACKUP_PLURAL },
      backup,
      status,
    );
  }

  async patchScheduleStatus(schedule: KVBackupSchedule, status: KVBackupScheduleStatus): Promise<void> {
    await patchCustomStatus(
      this.custom,
      { group: GROUP, version: VERSION, plural: SCHEDULE_PLURAL },
      schedule,
      status,
    );
  }

  async setFinalizers(backup: KVBackup, finalizers: string[]): Promise<void> {
    // The resourceVersion makes it an optimistic-lock update: a finalizer list changed meanwhile is
    // never overwritten (the pass fails with a conflict and runs again).
    await patchCustomObject(
      this.custom,
      { group: GROUP, version: VERSION, plural: BACKUP_PLURAL },
      backup.metadata.namespace,
      backup.metadata.name,
      { metadata: { finalizers, resourceVersion: backup.metadata.resourceVersion } },
    );
  }
}
