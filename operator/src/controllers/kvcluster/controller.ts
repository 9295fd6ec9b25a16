// Wires the KVCluster reconciler to the cluster: informers on KVClusters and on what the operator owns
// (StatefulSets, pods, claims, Services, PodDisruptionBudgets) feed one de-duplicating work queue of
// KVCluster keys (a change to an owned object reconciles its cluster), and a Controller drains it. Level-triggered: the event type never matters,
// only which cluster to look at again.
import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, PolicyV1Api } from '@kubernetes/client-node';
import { GROUP, KIND, PLURAL, VERSION } from '../../api/v1alpha1/index.js';
import { LABEL_INSTANCE, LABEL_MANAGED_BY, OPERATOR_NAME } from '../../resources/index.js';
import { Controller } from '../../runtime/controller.js';
import { labelKey, newResourceInformer, ownerKey, type ResourceInformer } from '../../runtime/informer.js';
import type { Logger } from '../../runtime/logger.js';
import { componentLogger } from '../../runtime/logger.js';
import type { OperatorMetrics } from '../../runtime/metrics.js';
import { objectKey } from '../../runtime/object-key.js';
import { WorkQueue } from '../../runtime/work-queue.js';
import type { KVClusterReconciler } from './reconciler.js';

export interface KVClusterControllerOptions {
  config: KubeConfig;
  reconciler: KVClusterReconciler;
  logger: Logger;
  metrics: OperatorMetrics;
  workers: number;
}

export class KVClusterController {
  private readonly queue: WorkQueue;
  private readonly controller: Controller;
  private readonly informers: ResourceInformer<KubernetesObject>[];

  constructor(opts: KVClusterControllerOptions) {
    const logger = componentLogger(opts.logger, 'kvcluster-controller');
    this.queue = new WorkQueue({ name: 'kvcluster', metrics: opts.metrics });
    this.controller = new Controller({
      name: 'kvcluster',
      queue: this.queue,
      workers: opts.workers,
      reconcile: (key, log) => opts.reconciler.reconcile(key, log),
      logger,
      metrics: opts.metrics,
    });
    const custom = opts.config.makeApiClient(CustomObjectsApi);
    const apps = opts.config.makeApiClient(AppsV1Api);
    const core = opts.config.makeApiClient(CoreV1Api);
    const enqueue = (key: string | undefined): void => {
      if (key !== undefined) this.queue.add(key);
    };
    const policy = opts.config.makeApiClient(PolicyV1Api);
    // Every owned object carries the managed-by label; only those are watched and cached.
    const managed = `${LABEL_MANAGED_BY}=${OPERATOR_NAME}`;
    const owned = (
      path: string,
      name: string,
      list: (labelSelector: string) => Promise<KubernetesListObject<KubernetesObject>>,
      keyOf: (obj: KubernetesObject) => string | undefined,
    ): ResourceInformer<KubernetesObject> =>
      newResourceInformer<KubernetesObject>(opts.config, path, () => list(managed), {
        name,
        logger,
        labelSelector: managed,
        handler: (obj) => enqueue(keyOf(obj)),
      });
    const byOwner = (obj: KubernetesObject): string | undefined => ownerKey(obj, KIND);
    const byInstance = (obj: KubernetesObject): string | undefined => labelKey(obj, LABEL_INSTANCE);
    this.informers = [
      newResourceInformer<KubernetesObject>(
        opts.config,
        `/apis/${GROUP}/${VERSION}/${PLURAL}`,
        async () =>
          (await custom.listClusterCustomObject({
            group: GROUP,
            version: VERSION,
            plural: PLURAL,
          })) as KubernetesListObject<KubernetesObject>,
        { name: PLURAL, logger, handler: (obj) => enqueue(objectKey(obj)) },
      ),
      owned(
        '/apis/apps/v1/statefulsets',
        'statefulsets',
        (s) => apps.listStatefulSetForAllNamespaces({ labelSelector: s }),
        byOwner,
      ),
      owned('/api/v1/pods', 'pods', (s) => core.listPodForAllNamespaces({ labelSelector: s }), byInstance),
      // A claim deleted or resized, a Service or PDB edited or deleted: look again at once.
      owned(
        '/api/v1/persistentvolumeclaims',
        'persistentvolumeclaims',
        (s) => core.listPersistentVolumeClaimForAllNamespaces({ labelSelector: s }),
        byInstance,
      ),
      owned(
        '/api/v1/services',
        'services',
        (s) => core.listServiceForAllNamespaces({ labelSelector: s }),
        byOwner,
      ),
      owned(
        '/apis/policy/v1/poddisruptionbudgets',
        'poddisruptionbudgets',
        (s) => policy.listPodDisruptionBudgetForAllNamespaces({ labelSelector: s }),
        byOwner,
      ),
    ];
  }

  /** True once every informer has listed (readiness). */
  synced(): boolean {
    return this.informers.every((i) => i.hasSynced());
  }

  async start(): Promise<void> {
    for (const informer of this.informers) informer.start();
    await Promise.all(this.informers.map((i) => i.synced));
    this.controller.start();
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await this.controller.stop();
    await Promise.all(this.informers.map((i) => i.stop()));
  }
}
