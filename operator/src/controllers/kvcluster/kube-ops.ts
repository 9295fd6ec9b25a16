// Everything the KVCluster reconciler asks of the Kubernetes API, behind one interface: the unit tests
// drive the reconciler through an in-memory fake of it, the operator through client-node.
//
// Owned objects are written with server-side apply (field manager cairn-operator, forced): one call
// creates or updates, and fields other managers own (the StatefulSet controller's, users' labels) are
// left alone.
import {
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  type KubeConfig,
  type KubernetesObject,
  type V1Job,
  type V1PersistentVolumeClaim,
  type V1Pod,
  type V1StatefulSet,
} from '@kubernetes/client-node';
import {
  BACKUP_PLURAL,
  GROUP,
  PLURAL,
  RESTORE_PLURAL,
  VERSION,
  type KVBackup,
  type KVCluster,
  type KVClusterStatus,
  type KVRestore,
} from '../../api/v1alpha1/index.js';
import { OPERATOR_NAME } from '../../resources/index.js';
import {
  getCustomObject,
  ignoreNotFound,
  mergePatch,
  orUndefined,
  patchCustomObject,
  patchCustomStatus,
  serverSideApply,
} from '../../runtime/api-calls.js';

export interface KubeOps {
  getCluster(namespace: string, name: string): Promise<KVCluster | undefined>;
  /** The KVBackup a restore starts from. */
  getBackup(namespace: string, name: string): Promise<KVBackup | undefined>;
  /** The KVRestore restoring a cluster in place. */
  getRestore(namespace: string, name: string): Promise<KVRestore | undefined>;
  /** Removes one annotation from the KVCluster. */
  removeAnnotation(cluster: KVCluster, key: string): Promise<void>;
  /** Create or update an owned object (server-side apply). */
  apply(obj: KubernetesObject): Promise<void>;
  getStatefulSet(namespace: string, name: string): Promise<V1StatefulSet | undefined>;
  listPods(namespace: string, selector: string): Promise<V1Pod[]>;
  listClaims(namespace: string, selector: string): Promise<V1PersistentVolumeClaim[]>;
  /** Deletes a pod if it is still the one with this uid. */
  deletePod(namespace: string, name: string, uid: string): Promise<void>;
  deleteClaim(namespace: string, name: string): Promise<void>;
  patchPodLabels(namespace: string, name: string, labels: Record<string, string>): Promise<void>;
  annotateClaim(namespace: string, name: string, annotations: Record<string, string>): Promise<void>;
  /** Asks for a larger volume (the API server refuses it when the storage class cannot expand). */
  resizeClaim(namespace: string, name: string, storage: string): Promise<void>;
  patchStatus(cluster: KVCluster, status: KVClusterStatus): Promise<void>;
  /** Maintenance Jobs (by label). */
  listJobs(namespace: string, selector: string): Promise<V1Job[]>;
  deleteJob(namespace: string, name: string): Promise<void>;
  deleteCronJob(namespace: string, name: string): Promise<void>;
}

export class ClientNodeKubeOps implements KubeOps {
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;
  private readonly batch: BatchV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly objects: KubernetesObjectApi;

  constructor(config: KubeConfig) {
    this.core = config.makeApiClient(CoreV1Api);
    this.apps = config.makeApiClient(AppsV1Api);
    this.batch = config.makeApiClient(BatchV1Api);
    this.custom = config.makeApiClient(CustomObjectsApi);
    this.objects = KubernetesObjectApi.makeApiClient(config);
  }

  getCluster(namespace: string, name: string): Promise<KVCluster | undefined> {
    return getCustomObject(this.custom, { group: GROUP, version: VERSION, plural: PLURAL }, namespace, name);
  }

  getBackup(namespace: string, name: string): Promise<KVBackup | undefined> {
    return getCustomObject(
      this.custom,
      { group: GROUP, version: VERSION, plural: BACKUP_PLURAL },
      namespace,
      name,
    );
  }

  getRestore(namespace: string, name: string): Promise<KVRestore | undefined> {
    return getCustomObject(
      this.custom,
      { group: GROUP, version: VERSION, plural: RESTORE_PLURAL },
      namespace,
      name,
    );
  }

  removeAnnotation(cluster: KVCluster, key: string): Promise<void> {
    return patchCustomObject(
      this.custom,
      { group: GROUP, version: VERSION, plural: PLURAL },
      cluster.metadata.namespace,
      cluster.metadata.name,
      { metadata: { annotations: { [key]: null } } },
    );
  }

  async apply(obj: KubernetesObject): Promise<void> {
    await serverSideApply(this.objects, obj, OPERATOR_NAME);
  }

  getStatefulSet(namespace: string, name: string): Promise<V1StatefulSet | undefined> {
    return orUndefined(this.apps.readNamespacedStatefulSet({ namespace, name }));
  }

  async listPods(namespace: string, selector: string): Promise<V1Pod[]> {
    return (await this.core.listNamespacedPod({ namespace, labelSelector: selector })).items;
  }

  async listClaims(namespace: string, selector: string): Promise<V1PersistentVolumeClaim[]> {
    return (await this.core.listNamespacedPersistentVolumeClaim({ namespace, labelSelector: selector }))
      .items;
  }

  deletePod(namespace: string, name: string, uid: string): Promise<void> {
    return ignoreNotFound(
      this.core.deleteNamespacedPod({ namespace, name, body: { preconditions: { uid } } }),
    );
  }

  deleteClaim(namespace: string, name: string): Promise<void> {
    return ignoreNotFound(this.core.deleteNamespacedPersistentVolumeClaim({ namespace, name }));
  }

  async patchPodLabels(namespace: string, name: string, labels: Record<string, string>): Promise<void> {
    await ignoreNotFound(
      this.core.patchNamespacedPod({ namespace, name, body: { metadata: { labels } } }, mergePatch),
    );
  }

  async annotateClaim(namespace: string, name: string, annotations: Record<string, string>): Promise<void> {
    await this.patchClaim(namespace, name, { metadata: { annotations } });
  }

  async resizeClaim(namespace: string, name: string, storage: string): Promise<void> {
    await this.patchClaim(namespace, name, { spec: { resources: { requests: { storage } } } });
  }

  private async patchClaim(namespace: string, name: string, body: V1PersistentVolumeClaim): Promise<void> {
    await ignoreNotFound(
      this.core.patchNamespacedPersistentVolumeClaim({ namespace, name, body }, mergePatch),
    );
  }

  async listJobs(namespace: string, selector: string): Promise<V1Job[]> {
    return (await this.batch.listNamespacedJob({ namespace, labelSelector: selector })).items;
  }

  deleteJob(namespace: string, name: string): Promise<void> {
    return ignoreNotFound(
      this.batch.deleteNamespacedJob({ namespace, name, body: { propagationPolicy: 'Background' } }),
    );
  }

  deleteCronJob(namespace: string, name: string): Promise<void> {
    return ignoreNotFound(
      this.batch.deleteNamespacedCronJob({ namespace, name, body: { propagationPolicy: 'Background' } }),
    );
  }

  async patchStatus(cluster: KVCluster, status: KVClusterStatus): Promise<void> {
    await patchCustomStatus(this.custom, { group: GROUP, version: VERSION, plural: PLURAL }, cluster, status);
  }
}
