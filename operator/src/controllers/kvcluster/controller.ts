// Wires the KVCluster reconciler to the cluster: KVClusters and everything the operator owns for them
// (StatefulSets, pods, claims, Services, PodDisruptionBudgets — by the managed-by label) are watched, and
// a change to any of them reconciles its cluster.
import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, PolicyV1Api } from '@kubernetes/client-node';
import { GROUP, KIND, PLURAL, VERSION } from '../../api/v1alpha1/index.js';
import { LABEL_INSTANCE, LABEL_MANAGED_BY, OPERATOR_NAME } from '../../resources/index.js';
import { labelKey, ownerKey } from '../../runtime/informer.js';
import type { Logger } from '../../runtime/logger.js';
import type { OperatorMetrics } from '../../runtime/metrics.js';
import { objectKey } from '../../runtime/object-key.js';
import { WatchingController } from '../../runtime/watching-controller.js';
import type { KVClusterReconciler } from './reconciler.js';

/** Every object the operator creates carries this label; only those are watched and cached. */
export const MANAGED = `${LABEL_MANAGED_BY}=${OPERATOR_NAME}`;

export function kvClusterController(opts: {
  config: KubeConfig;
  reconciler: KVClusterReconciler;
  logger: Logger;
  metrics: OperatorMetrics;
  workers: number;
}): WatchingController {
  const custom = opts.config.makeApiClient(CustomObjectsApi);
  const apps = opts.config.makeApiClient(AppsV1Api);
  const core = opts.config.makeApiClient(CoreV1Api);
  const policy = opts.config.makeApiClient(PolicyV1Api);
  const byOwner = (obj: KubernetesObject): string | undefined => ownerKey(obj, KIND);
  const byInstance = (obj: KubernetesObject): string | undefined => labelKey(obj, LABEL_INSTANCE);
  type List = Promise<KubernetesListObject<KubernetesObject>>;
  return new WatchingController({
    name: 'kvcluster',
    config: opts.config,
    reconcile: (key, log) => opts.reconciler.reconcile(key, log),
    logger: opts.logger,
    metrics: opts.metrics,
    workers: opts.workers,
    watches: [
      {
        path: `/apis/${GROUP}/${VERSION}/${PLURAL}`,
        name: PLURAL,
        list: async () =>
          (await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL })) as List,
        keyOf: objectKey,
      },
      {
        path: '/apis/apps/v1/statefulsets',
        name: 'statefulsets',
        labelSelector: MANAGED,
        list: (s) => apps.listStatefulSetForAllNamespaces({ labelSelector: s }),
        keyOf: byOwner,
      },
      {
        path: '/api/v1/pods',
        name: 'pods',
        labelSelector: MANAGED,
        list: (s) => core.listPodForAllNamespaces({ labelSelector: s }),
        keyOf: byInstance,
      },
      // A claim deleted or resized, a Service or PDB edited or deleted: look again at once.
      {
        path: '/api/v1/persistentvolumeclaims',
        name: 'persistentvolumeclaims',
        labelSelector: MANAGED,
        list: (s) => core.listPersistentVolumeClaimForAllNamespaces({ labelSelector: s }),
        keyOf: byInstance,
      },
      {
        path: '/api/v1/services',
        name: 'services',
        labelSelector: MANAGED,
        list: (s) => core.listServiceForAllNamespaces({ labelSelector: s }),
        keyOf: byOwner,
      },
      {
        path: '/apis/policy/v1/poddisruptionbudgets',
        name: 'poddisruptionbudgets',
        labelSelector: MANAGED,
        list: (s) => policy.listPodDisruptionBudgetForAllNamespaces({ labelSelector: s }),
        keyOf: byOwner,
      },
    ],
  });
}
