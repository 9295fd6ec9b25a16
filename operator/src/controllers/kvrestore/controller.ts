// Wires the KVRestore reconciler: KVRestores, and the Jobs that verify their snapshots (labelled with the
// restore's name), reconcile their restore. While a restore runs in its KVCluster, the reconciler looks
// again every few seconds (it follows the cluster's status.restore).
import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { BatchV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { GROUP, RESTORE_PLURAL, VERSION } from '../../api/v1alpha1/index.js';
import { LABEL_RESTORE } from '../../resources/index.js';
import { labelKey } from '../../runtime/informer.js';
import type { Logger } from '../../runtime/logger.js';
import type { OperatorMetrics } from '../../runtime/metrics.js';
import { objectKey } from '../../runtime/object-key.js';
import { WatchingController } from '../../runtime/watching-controller.js';
import { MANAGED } from '../kvcluster/controller.js';
import type { KVRestoreReconciler } from './reconciler.js';

export function kvRestoreController(opts: {
  config: KubeConfig;
  reconciler: KVRestoreReconciler;
  logger: Logger;
  metrics: OperatorMetrics;
  workers: number;
}): WatchingController {
  const custom = opts.config.makeApiClient(CustomObjectsApi);
  const batch = opts.config.makeApiClient(BatchV1Api);
  return new WatchingController({
    name: 'kvrestore',
    config: opts.config,
    reconcile: (key, log) => opts.reconciler.reconcile(key, log),
    logger: opts.logger,
    metrics: opts.metrics,
    workers: opts.workers,
    watches: [
      {
        path: `/apis/${GROUP}/${VERSION}/${RESTORE_PLURAL}`,
        name: RESTORE_PLURAL,
        list: async () =>
          (await custom.listClusterCustomObject({
            group: GROUP,
            version: VERSION,
            plural: RESTORE_PLURAL,
          })) as KubernetesListObject<KubernetesObject>,
        keyOf: objectKey,
      },
      {
        path: '/apis/batch/v1/jobs',
        name: 'restore-jobs',
        labelSelector: `${MANAGED},${LABEL_RESTORE}`,
        list: (s) => batch.listJobForAllNamespaces({ labelSelector: s }),
        keyOf: (obj) => labelKey(obj, LABEL_RESTORE),
      },
    ],
  });
}
