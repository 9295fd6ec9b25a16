// Wires the KVCluster reconciler to the cluster: informers on KVClusters and on the StatefulSets and pods
// the operator owns feed one de-duplicating work queue of KVCluster keys (a pod or StatefulSet change
// reconciles its cluster), and a Controller drains it. Level-triggered: the event type never matters,
// only which cluster to look at again.
import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { AppsV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { GROUP, KIND, PLURAL, VERSION } from '../../api/v1alpha1/index.js';
import { LABEL_INSTANCE, LABEL_MANAGED_BY, LABEL_NAME, OPERATOR_NAME } from '../../resources/index.js';
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
      newResourceInformer<KubernetesObject>(
        opts.config,
        '/apis/apps/v1/statefulsets',
        () => apps.listStatefulSetForAllNamespaces({ labelSelector: `${LABEL_MANAGED_BY}=${OPERATOR_NAME}` }),
        {
          name: 'statefulsets',
          logger,
          labelSelector: `${LABEL_MANAGED_BY}=${OPERATOR_NAME}`,
          handler: (obj) => enqueue(ownerKey(obj, KIND)),
        },
      ),
      newResourceInformer<KubernetesObject>(
        opts.config,
        '/api/v1/pods',
        () =>
          core.listPodForAllNamespaces({
            labelSelector: `${LABEL_NAME}=cairn,${LABEL_MANAGED_BY}=${OPERATOR_NAME}`,
          }),
        {
          name: 'pods',
          logger,
          labelSelector: `${LABEL_NAME}=cairn,${LABEL_MANAGED_BY}=${OPERATOR_NAME}`,
          handler: (obj) => enqueue(labelKey(obj, LABEL_INSTANCE)),
        },
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
