// The KVBackupSchedule reconciler. Each pass: follow the active backup (its success sets
// lastSuccessfulTime), create the KVBackup of a due scheduled time (skipped while the previous one still
// runs: never two at once for one cluster, never a pile-up), apply retention, and requeue for the next
// scheduled time. Backups are labelled with their schedule but not owned by it: deleting a schedule must
// not delete backups (nor, through their deletionPolicy, the snapshots).
import type { KVBackup, KVBackupSchedule, KVBackupScheduleStatus } from '../../api/v1alpha1/index.js';
import { API_VERSION, BACKUP_KIND } from '../../api/v1alpha1/index.js';
import { LABEL_INSTANCE, LABEL_MANAGED_BY, OPERATOR_NAME } from '../../resources/index.js';
import { kubeTime } from '../../runtime/api-calls.js';
import type { ReconcileResult } from '../../runtime/controller.js';
import type { Logger } from '../../runtime/logger.js';
import { splitKey } from '../../runtime/object-key.js';
import type { BackupKubeOps } from '../kvbackup/kube-ops.js';
import type { EventSink } from '../kvcluster/reconciler.js';
import { dueTime, parseSchedule, retentionVictims, scheduledBackupName } from './schedule.js';

export const LABEL_SCHEDULE = 'cairn.dev/schedule';
/** Look again at least this often, whatever the schedule says (clock changes, a missed watch event). */
const REQUEUE_MAX_MS = 300_000;
const REQUEUE_MIN_MS = 1_000;

export interface ScheduleReconcilerDeps {
  kube: BackupKubeOps;
  events: EventSink<KVBackupSchedule>;
  now?: () => Date;
}

export class KVBackupScheduleReconciler {
  constructor(private readonly deps: ScheduleReconcilerDeps) {}

  async reconcile(key: string, log: Logger): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const { kube } = this.deps;
    const schedule = await kube.getSchedule(namespace, name);
    if (schedule === undefined || schedule.metadata.deletionTimestamp !== undefined) return {};
    const now = this.deps.now?.() ?? new Date();
    const spec = schedule.spec;
    const before = schedule.status ?? {};
    const status: KVBackupScheduleStatus = { ...before };
    delete status.message;

    const parsed = parseSchedule(spec.schedule, spec.timeZone);
    if (!parsed.ok) {
      status.message = parsed.error;
      delete status.nextScheduleTime;
      if (before.message !== parsed.error)
        this.deps.events.warning(schedule, 'InvalidSchedule', parsed.error);
      await this.writeStatus(schedule, before, status);
      return {};
    }

    const mine = (await kube.listBackups(namespace)).filter(
      (b) => b.metadata.labels?.[LABEL_SCHEDULE] === name,
    );
    const active = mine.find((b) => b.metadata.name === before.active);
    if (active !== undefined && (active.status?.phase === 'Succeeded' || active.status?.phase === 'Failed')) {
      if (active.status.phase === 'Succeeded' && active.status.completionTime !== undefined)
        status.lastSuccessfulTime = active.status.completionTime;
      delete status.active;
    } else if (active === undefined) delete status.active;

    const last = new Date(before.lastScheduleTime ?? String(schedule.metadata.creationTimestamp ?? now));
    const due =
      spec.suspend === true
        ? { kind: 'none' as const }
        : dueTime(parsed, last, now, spec.startingDeadlineSeconds ?? 300);
    if (due.kind === 'missed') {
      status.lastScheduleTime = kubeTime(due.at);
      const message = `missed the backup of ${kubeTime(due.at)} by ${Math.round(due.lateSeconds)} s (startingDeadlineSeconds ${spec.startingDeadlineSeconds ?? 300})`;
      status.message = message;
      this.deps.events.warning(schedule, 'MissedSchedule', message);
    } else if (due.kind === 'run') {
      status.lastScheduleTime = kubeTime(due.at);
      if (status.active !== undefined) {
        const message = `skipped the backup of ${kubeTime(due.at)}: ${status.active} is still running`;
        status.message = message;
        this.deps.events.warning(schedule, 'BackupSkipped', message);
      } else {
        const backupName = scheduledBackupName(name, due.at);
        const created = await kube.createBackup(this.backupFor(schedule, backupName));
        status.active = backupName;
        if (created) {
          log.info('scheduled backup created', { backup: backupName });
          this.deps.events.normal(schedule, 'BackupCreated', `created ${backupName} for ${kubeTime(due.at)}`);
        }
      }
    }

    for (const victim of retentionVictims(mine, spec.retention, now)) {
      if (victim.metadata.deletionTimestamp !== undefined || victim.metadata.name === status.active) continue;
      await kube.deleteBackup(namespace, victim.metadata.name);
      this.deps.events.normal(
        schedule,
        'BackupPruned',
        `deleted ${victim.metadata.name} (${victim.status?.phase ?? ''}, completed ${victim.status?.completionTime ?? '?'}) per retention`,
      );
    }

    const next = parsed.next(now);
    status.nextScheduleTime = kubeTime(next);
    await this.writeStatus(schedule, before, status);
    const wait = Math.min(Math.max(next.getTime() - now.getTime(), REQUEUE_MIN_MS), REQUEUE_MAX_MS);
    return { requeueAfterMs: status.active !== undefined ? Math.min(wait, 5_000) : wait };
  }

  private async writeStatus(
    s: KVBackupSchedule,
    before: KVBackupScheduleStatus,
    status: KVBackupScheduleStatus,
  ): Promise<void> {
    if (JSON.stringify(before) === JSON.stringify(status)) return;
    await this.deps.kube.patchScheduleStatus(s, status);
  }

  private backupFor(s: KVBackupSchedule, name: string): KVBackup {
    return {
      apiVersion: API_VERSION,
      kind: BACKUP_KIND,
      metadata: {
        name,
        namespace: s.metadata.namespace,
        labels: {
          [LABEL_SCHEDULE]: s.metadata.name,
          [LABEL_INSTANCE]: s.spec.clusterName,
          [LABEL_MANAGED_BY]: OPERATOR_NAME,
        },
      },
      spec: {
        clusterName: s.spec.clusterName,
        destination: s.spec.template.destination,
        ...(s.spec.template.deletionPolicy !== undefined
          ? { deletionPolicy: s.spec.template.deletionPolicy }
          : {}),
      },
    };
  }
}
