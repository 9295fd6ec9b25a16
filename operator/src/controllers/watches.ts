// The watches the controllers share: one of the operator's own kinds (group cairn.dev), all of it or by a
// label, and the Jobs the operator labels with the name of the object they work for.
import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { BatchV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../api/v1alpha1/index.js';
import { LABEL_MANAGED_BY, OPERATOR_NAME } from '../resources/index.js';
import { labelKey } from '../runtime/informer.js';
import type { Logger } from '../runtime/logger.js';
import type { OperatorMetrics } from '../runtime/metrics.js';
import { objectKey } from '../runtime/object-key.js';
import type { Watch } from '../runtime/watching-controller.js';

/** Every object the operator creates carries this label; only those are watched and cached. */
export const MANAGED = `${LABEL_MANAGED_BY}=${OPERATOR_NAME}`;

/** What every controller factory is given. */
export interface ControllerOptions<R> {
  config: KubeConfig;
  reconciler: R;
  logger: Logger;
  metrics: OperatorMetrics;
  workers: number;
}

/**
 * One of the operator's kinds across namespaces. Each object reconciles itself, unless `byLabel` names a
 * label whose value is the key's name (e.g. the schedule a KVBackup belongs to).
 */
export function customWatch(config: KubeConfig, plural: string, byLabel?: string): Watch {
  const custom = config.makeApiClient(CustomObjectsApi);
  return {
    path: `/apis/${GROUP}/${VERSION}/${plural}`,
    name: byLabel === undefined ? plural : `${plural}-by-${byLabel}`,
    ...(byLabel !== undefined ? { labelSelector: byLabel } : {}),
    list: async (labelSelector) =>
      (await custom.listClusterCustomObject({
        group: GROUP,
        version: VERSION,
        plural,
        ...(labelSelector !== undefined ? { labelSelector } : {}),
      })) as KubernetesListObject<KubernetesObject>,
    keyOf: byLabel === undefined ? objectKey : (obj) => labelKey(obj, byLabel),
  };
}

/** The operator's Jobs carrying `label`: a change reconciles the object the label names. */
export function labelledJobsWatch(config: KubeConfig, label: string): Watch {
  const batch = config.makeApiClient(BatchV1Api);
  return {
    path: '/apis/batch/v1/jobs',
    name: `jobs-by-${label}`,
    labelSelector: `${MANAGED},${label}`,
    list: (s) => batch.listJobForAllNamespaces({ labelSelector: s }),
    keyOf: (obj) => labelKey(obj, label),
  };
}
