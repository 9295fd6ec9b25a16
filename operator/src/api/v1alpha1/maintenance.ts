// KVCluster.spec.maintenance: scheduled compaction and defragmentation, run as CronJobs from the cluster's
// own image (cairnctl), and what to do when a member raises NOSPACE. Server-side auto-compaction stays in
// spec.config.autoCompaction (a server flag); this is the operator's side.
import Type, { type Static } from 'typebox';
import { StringEnum } from './schema-helpers.js';

/** A Go duration of whole units, as cairnctl's flags take it: 90s, 5m, 1h30m. */
const GO_DURATION_PATTERN = '^([0-9]+(ms|s|m|h))+$';

const Schedule = {
  schedule: Type.String({
    description:
      'Cron schedule, five fields (minute hour day-of-month month day-of-week) or a macro such as @daily.',
    minLength: 1,
  }),
  timeZone: Type.Optional(
    Type.String({ description: 'IANA time zone of the schedule, e.g. Europe/Berlin; UTC when empty.' }),
  ),
  suspend: Type.Optional(Type.Boolean({ description: 'No new runs while true.', default: false })),
};

export const CompactionScheduleSchema = Type.Object(
  {
    ...Schedule,
    keepRevisions: Type.Integer({
      description: 'Compact to the current revision minus this many: the history kept.',
      minimum: 0,
    }),
    physical: Type.Optional(
      Type.Boolean({ description: 'Wait until the compaction is physically applied (--physical).' }),
    ),
  },
  { description: 'Scheduled compaction: a CronJob running `cairnctl compaction --keep-revisions`.' },
);

export const DefragScheduleSchema = Type.Object(
  {
    ...Schedule,
    rule: Type.Optional(
      Type.String({
        description:
          'Only members for which this is true are defragmented, e.g. "dbSizeFree > 64*1024*1024 || ' +
          'dbQuotaUsage > 0.8" (variables dbSize, dbSizeInUse, dbSizeFree, dbQuota, dbQuotaUsage). Empty: every member.',
      }),
    ),
    memberTimeout: Type.Optional(
      Type.String({
        description: 'How long one member may take (a duration: 90s, 5m).',
        pattern: GO_DURATION_PATTERN,
        default: '5m',
      }),
    ),
    maxLag: Type.Optional(
      Type.Integer({
        description: 'Defragment only while no member trails the leader by more than this many Raft entries.',
        minimum: 0,
        default: 1000,
      }),
    ),
  },
  {
    description:
      'Scheduled defragmentation: a CronJob running `cairnctl defrag --cluster --safe` — only while every member ' +
      'is healthy, one member at a time, followers first, the leader last; a NOSPACE alarm is disarmed once the ' +
      'space is back.',
  },
);

export const MaintenanceSchema = Type.Object(
  {
    compaction: Type.Optional(CompactionScheduleSchema),
    defrag: Type.Optional(DefragScheduleSchema),
    noSpace: Type.Optional(
      StringEnum(['Report', 'Recover'], {
        description:
          'When a member raises the NOSPACE alarm (writes refused): Report it (Degraded), or Recover — the ' +
          'operator also compacts (keeping compaction.keepRevisions, else nothing), defragments and disarms.',
        default: 'Report',
      }),
    ),
  },
  { description: 'Scheduled compaction and defragmentation, and NOSPACE handling.' },
);

const MemberDefragSchema = Type.Object(
  {
    name: Type.String({ description: 'The member.' }),
    leader: Type.Optional(Type.Boolean({ description: 'It led when it was defragmented.' })),
    defragmented: Type.Boolean({ description: 'Whether it was defragmented.' }),
    skipped: Type.Optional(Type.String({ description: 'Why not (the rule was false).' })),
    error: Type.Optional(Type.String({ description: 'Why it failed.' })),
    dbSizeBefore: Type.Optional(Type.Integer({ description: 'Database size before, in bytes.' })),
    dbSizeAfter: Type.Optional(Type.Integer({ description: 'Database size after, in bytes.' })),
    seconds: Type.Optional(Type.Number({ description: 'How long it took.' })),
  },
  { description: 'One member in a defragmentation run, in the order handled.' },
);

const RunSchema = {
  jobName: Type.String({ description: 'The Job that ran it.' }),
  succeeded: Type.Boolean({ description: 'Whether it succeeded.' }),
  completionTime: Type.Optional(Type.String({ description: 'When it ended.', format: 'date-time' })),
  message: Type.Optional(Type.String({ description: 'What it did, or why it failed.' })),
};

export const MaintenanceStatusSchema = Type.Object(
  {
    lastDefrag: Type.Optional(
      Type.Object(
        {
          ...RunSchema,
          startTime: Type.Optional(Type.String({ description: 'When it started.', format: 'date-time' })),
          members: Type.Optional(Type.Array(MemberDefragSchema, { description: 'Each member, in order.' })),
          disarmed: Type.Optional(Type.Array(Type.String(), { description: 'Alarms it disarmed.' })),
        },
        { description: 'The last defragmentation run.' },
      ),
    ),
    lastCompaction: Type.Optional(Type.Object(RunSchema, { description: 'The last scheduled compaction.' })),
    noSpaceRecovery: Type.Optional(
      Type.Object(
        {
          jobName: Type.String({ description: 'The recovery Job.' }),
          phase: StringEnum(['Running', 'Succeeded', 'Failed'], { description: 'Where it is.' }),
          message: Type.Optional(Type.String({ description: 'What it did, or why it failed.' })),
        },
        { description: 'The NOSPACE recovery (spec.maintenance.noSpace: Recover).' },
      ),
    ),
  },
  { description: 'Results of the maintenance runs.' },
);

export type Maintenance = Static<typeof MaintenanceSchema>;
export type MaintenanceStatus = Static<typeof MaintenanceStatusSchema>;
export type MemberDefrag = Static<typeof MemberDefragSchema>;
