// Wires the KVCluster reconciler to the cluster: KVClusters and everything the operator owns for them
// (StatefulSets, pods, claims, Services, PodDisruptionBudgets, maintenance Jobs and CronJobs — by the
// managed-by label) are watched, and a change to any of them reconciles its cluster.
import type { KubernetesObject } from '@kubernetes/client-node';
import { AppsV1Api, BatchV1Api, CoreV1Api, PolicyV1Api } from '@kubernetes/client-node';
import { KIND, PLURAL } from '../../api/v1alpha1/index.js';
import { LABEL_INSTANCE, LABEL_MAINTENANCE } from '../../resources/index.js';
import { labelKey, ownerKey } from '../../runtime/informer.js';
import { WatchingController } from '../../runtime/watching-controller.js';
import { customWatch, MANAGED, type ControllerOptions } from '../watches.js';
import type { KVClusterReconciler } from './reconciler.js';

export function kvClusterController(opts: ControllerOptions<KVClusterReconciler>): WatchingController {
  const apps = opts.config.makeApiClient(AppsV1Api);
  const core = opts.config.makeApiClient(CoreV1Api);
  const policy = opts.config.makeApiClient(PolicyV1Api);
  const batch = opts.config.makeApiClient(BatchV1Api);
  const byOwner = (obj: KubernetesObject): string | undefined => ownerKey(obj, KIND);
  const byInstance = (obj: KubernetesObject): string | undefined => labelKey(obj, LABEL_INSTANCE);
  return new WatchingController({
    ...opts,
    name: 'kvcluster',
    reconcile: (key, log) => opts.reconciler.reconcile(key, log),
    watches: [
      customWatch(opts.config, PLURAL),
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
      // A maintenance run finishing (its result goes into the status), a CronJob edited or deleted.
      {
        path: '/apis/batch/v1/jobs',
        name: 'maintenance-jobs',
        labelSelector: `${MANAGED},${LABEL_MAINTENANCE}`,
        list: (s) => batch.listJobForAllNamespaces({ labelSelector: s }),
        keyOf: byInstance,
      },
      {
        path: '/apis/batch/v1/cronjobs',
        name: 'cronjobs',
        labelSelector: `${MANAGED},${LABEL_MAINTENANCE}`,
        list: (s) => batch.listCronJobForAllNamespaces({ labelSelector: s }),
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
