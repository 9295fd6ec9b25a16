// KVBackupSchedule (cairn.dev/v1alpha1): KVBackups of a cluster on a cron schedule, in a time zone, with
// retention by count and age. Like a CronJob: each scheduled time makes one KVBackup named after it (so a
// restarted operator never makes two), a missed time is caught up once if within the starting deadline,
// and a cluster never has two backups running at once.
import type { V1ObjectMeta } from '@kubernetes/client-node';
import Type, { type Static } from 'typebox';
import { DeletionPolicySchema, DestinationSchema } from './object-store.js';

export const SCHEDULE_KIND = 'KVBackupSchedule';
export const SCHEDULE_PLURAL = 'kvbackupschedules';

/** A duration such as 90m, 36h, 7d or 2w (days and weeks are ours; Go durations stop at hours). */
export const DURATION_PATTERN = '^([0-9]+(s|m|h|d|w))+$';

export const KVBackupScheduleSpecSchema = Type.Object(
  {
    clusterName: Type.String({ description: 'The KVCluster (same namespace) to back up.', minLength: 1 }),
    schedule: Type.String({
      description:
        'Cron schedule, five fields (minute hour day-of-month month day-of-week) or a macro such as @daily.',
      minLength: 1,
    }),
    timeZone: Type.Optional(
      Type.String({
        description: 'IANA time zone of the schedule, e.g. Europe/Berlin; UTC when empty.',
        minLength: 1,
      }),
    ),
    suspend: Type.Optional(
      Type.Boolean({ description: 'No new backups while true (existing ones finish).', default: false }),
    ),
    startingDeadlineSeconds: Type.Optional(
      Type.Integer({
        description:
          'A scheduled time missed (operator down) is still run if no older than this; later ones are skipped.',
        minimum: 1,
        default: 300,
      }),
    ),
    template: Type.Object(
      {
        destination: DestinationSchema,
        deletionPolicy: Type.Optional(DeletionPolicySchema),
      },
      { description: 'The KVBackups it creates.' },
    ),
    retention: Type.Optional(
      Type.Object(
        {
          keepLast: Type.Optional(
            Type.Integer({ description: 'Keep the newest N successful backups.', minimum: 1 }),
          ),
          maxAge: Type.Optional(
            Type.String({
              description:
                'Delete successful backups older than this (e.g. 168h, 30d) — never the newest one.',
              pattern: DURATION_PATTERN,
            }),
          ),
          failedHistoryLimit: Type.Optional(
            Type.Integer({ description: 'Failed backups kept for inspection.', minimum: 0, default: 3 }),
          ),
        },
        {
          description:
            'Which backups it deletes (with their objects when deletionPolicy is Delete). Failed backups never ' +
            'count against successful ones.',
        },
      ),
    ),
  },
  { description: 'When to back up, where to, and what to keep.' },
);

export const KVBackupScheduleStatusSchema = Type.Object(
  {
    lastScheduleTime: Type.Optional(
      Type.String({ description: 'The last scheduled time a backup was made for.', format: 'date-time' }),
    ),
    lastSuccessfulTime: Type.Optional(
      Type.String({ description: 'When the last successful backup completed.', format: 'date-time' }),
    ),
    nextScheduleTime: Type.Optional(
      Type.String({ description: 'The next scheduled time.', format: 'date-time' }),
    ),
    active: Type.Optional(Type.String({ description: 'The backup running now, if any.' })),
    message: Type.Optional(Type.String({ description: 'Why no backup is scheduled (e.g. a bad cron).' })),
  },
  { description: 'What the operator observed.' },
);

export type KVBackupScheduleSpec = Static<typeof KVBackupScheduleSpecSchema>;
export type KVBackupScheduleStatus = Static<typeof KVBackupScheduleStatusSchema>;

export interface KVBackupSchedule {
  apiVersion: 'cairn.dev/v1alpha1';
  kind: typeof SCHEDULE_KIND;
  metadata: V1ObjectMeta & { name: string; namespace: string };
  spec: KVBackupScheduleSpec;
  status?: KVBackupScheduleStatus;
}
