// Wires the KVBackup reconciler: KVBackups, and the Jobs that take and delete their snapshots (labelled
// with the backup's name), reconcile their backup.
import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { BatchV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { BACKUP_PLURAL, GROUP, VERSION } from '../../api/v1alpha1/index.js';
import { LABEL_BACKUP } from '../../resources/index.js';
import { labelKey } from '../../runtime/informer.js';
import type { Logger } from '../../runtime/logger.js';
import type { OperatorMetrics } from '../../runtime/metrics.js';
import { objectKey } from '../../runtime/object-key.js';
import { WatchingController } from '../../runtime/watching-controller.js';
import { MANAGED } from '../kvcluster/controller.js';
import type { KVBackupReconciler } from './reconciler.js';

export function kvBackupController(opts: {
  config: KubeConfig;
  reconciler: KVBackupReconciler;
  logger: Logger;
  metrics: OperatorMetrics;
  workers: number;
}): WatchingController {
  const custom = opts.config.makeApiClient(CustomObjectsApi);
  const batch = opts.config.makeApiClient(BatchV1Api);
  return new WatchingController({
    name: 'kvbackup',
    config: opts.config,
    reconcile: (key, log) => opts.reconciler.reconcile(key, log),
    logger: opts.logger,
    metrics: opts.metrics,
    workers: opts.workers,
    watches: [
      {
        path: `/apis/${GROUP}/${VERSION}/${BACKUP_PLURAL}`,
        name: BACKUP_PLURAL,
        list: async () =>
          (await custom.listClusterCustomObject({
            group: GROUP,
            version: VERSION,
            plural: BACKUP_PLURAL,
          })) as KubernetesListObject<KubernetesObject>,
        keyOf: objectKey,
      },
      {
        path: '/apis/batch/v1/jobs',
        name: 'jobs',
        labelSelector: `${MANAGED},${LABEL_BACKUP}`,
        list: (s) => batch.listJobForAllNamespaces({ labelSelector: s }),
        keyOf: (obj) => labelKey(obj, LABEL_BACKUP),
      },
    ],
  });
}
