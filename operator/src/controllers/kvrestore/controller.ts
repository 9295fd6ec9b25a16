// Wires the KVRestore reconciler: KVRestores, and the Jobs that verify their snapshots (labelled with the
// restore's name), reconcile their restore. While a restore runs in its KVCluster, the reconciler looks
// again every few seconds (it follows the cluster's status.restore).
import { RESTORE_PLURAL } from '../../api/v1alpha1/index.js';
import { LABEL_RESTORE } from '../../resources/index.js';
import { WatchingController } from '../../runtime/watching-controller.js';
import { customWatch, labelledJobsWatch, type ControllerOptions } from '../watches.js';
import type { KVRestoreReconciler } from './reconciler.js';

export function kvRestoreController(opts: ControllerOptions<KVRestoreReconciler>): WatchingController {
  return new WatchingController({
    ...opts,
    name: 'kvrestore',
    reconcile: (key, log) => opts.reconciler.reconcile(key, log),
    watches: [customWatch(opts.config, RESTORE_PLURAL), labelledJobsWatch(opts.config, LABEL_RESTORE)],
  });
}
