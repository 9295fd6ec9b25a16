// Wires the KVBackup reconciler: KVBackups, and the Jobs that take and delete their snapshots (labelled
// with the backup's name), reconcile their backup.
import { BACKUP_PLURAL } from '../../api/v1alpha1/index.js';
import { LABEL_BACKUP } from '../../resources/index.js';
import { WatchingController } from '../../runtime/watching-controller.js';
import { customWatch, labelledJobsWatch, type ControllerOptions } from '../watches.js';
import type { KVBackupReconciler } from './reconciler.js';

export function kvBackupController(opts: ControllerOptions<KVBackupReconciler>): WatchingController {
  return new WatchingController({
    ...opts,
    name: 'kvbackup',
    reconcile: (key, log) => opts.reconciler.reconcile(key, log),
    watches: [customWatch(opts.config, BACKUP_PLURAL), labelledJobsWatch(opts.config, LABEL_BACKUP)],
  });
}
