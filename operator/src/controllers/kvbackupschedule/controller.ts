// Wires the KVBackupSchedule reconciler: schedules, and the KVBackups they made (labelled with the
// schedule's name: a backup finishing updates lastSuccessfulTime at once). The reconciler requeues itself
// for the next scheduled time.
import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { BACKUP_PLURAL, GROUP, SCHEDULE_PLURAL, VERSION } from '../../api/v1alpha1/index.js';
import { labelKey } from '../../runtime/informer.js';
import type { Logger } from '../../runtime/logger.js';
import type { OperatorMetrics } from '../../runtime/metrics.js';
import { objectKey } from '../../runtime/object-key.js';
import { WatchingController } from '../../runtime/watching-controller.js';
import { LABEL_SCHEDULE, type KVBackupScheduleReconciler } from './reconciler.js';

export function kvBackupScheduleController(opts: {
  config: KubeConfig;
  reconciler: KVBackupScheduleReconciler;
  logger: Logger;
  metrics: OperatorMetrics;
  workers: number;
}): WatchingController {
  const custom = opts.config.makeApiClient(CustomObjectsApi);
  const list =
    (plural: string) =>
    async (labelSelector: string | undefined): Promise<KubernetesListObject<KubernetesObject>> =>
      (await custom.listClusterCustomObject({
        group: GROUP,
        version: VERSION,
        plural,
        ...(labelSelector !== undefined ? { labelSelector } : {}),
      })) as KubernetesListObject<KubernetesObject>;
  return new WatchingController({
    name: 'kvbackupschedule',
    config: opts.config,
    reconcile: (key, log) => opts.reconciler.reconcile(key, log),
    logger: opts.logger,
    metrics: opts.metrics,
    workers: opts.workers,
    watches: [
      {
        path: `/apis/${GROUP}/${VERSION}/${SCHEDULE_PLURAL}`,
        name: SCHEDULE_PLURAL,
        list: list(SCHEDULE_PLURAL),
        keyOf: objectKey,
      },
      {
        path: `/apis/${GROUP}/${VERSION}/${BACKUP_PLURAL}`,
        name: `${BACKUP_PLURAL}-of-schedules`,
        labelSelector: LABEL_SCHEDULE,
        list: list(BACKUP_PLURAL),
        keyOf: (obj) => labelKey(obj, LABEL_SCHEDULE),
      },
    ],
  });
}
