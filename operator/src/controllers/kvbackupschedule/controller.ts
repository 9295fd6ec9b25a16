// Wires the KVBackupSchedule reconciler: schedules, and the KVBackups they made (labelled with the
// schedule's name: a backup finishing updates lastSuccessfulTime at once). The reconciler requeues itself
// for the next scheduled time.
import { BACKUP_PLURAL, SCHEDULE_PLURAL } from '../../api/v1alpha1/index.js';
import { WatchingController } from '../../runtime/watching-controller.js';
import { customWatch, type ControllerOptions } from '../watches.js';
import { LABEL_SCHEDULE, type KVBackupScheduleReconciler } from './reconciler.js';

export function kvBackupScheduleController(
  opts: ControllerOptions<KVBackupScheduleReconciler>,
): WatchingController {
  return new WatchingController({
    ...opts,
    name: 'kvbackupschedule',
    reconcile: (key, log) => opts.reconciler.reconcile(key, log),
    watches: [
      customWatch(opts.config, SCHEDULE_PLURAL),
      customWatch(opts.config, BACKUP_PLURAL, LABEL_SCHEDULE),
    ],
  });
}
