// The maintenance a KVCluster's spec.maintenance asks for, as Kubernetes runs it: CronJobs for scheduled
// compaction and defragmentation, and a Job for a NOSPACE recovery. Each runs cairnctl from the cluster's
// own image against the client Service; `defrag --cluster --safe` finds every member from the member list,
// checks the cluster's health, and goes one member at a time, followers first and the leader last. Their
// pods are labelled cairn-maintenance (not cairn: the StatefulSet's selector must never match them).
import type { V1Container, V1CronJob, V1Job, V1ObjectMeta } from '@kubernetes/client-node';
import type { ResolvedSpec } from '../api/v1alpha1/index.js';
import { snapshotJob } from './backup-job.js';
import { LABEL_INSTANCE, LABEL_MANAGED_BY, LABEL_NAME, OPERATOR_NAME, serviceClientURL } from './names.js';
import type { ClusterRef } from './names.js';
import { ownerReference } from './owner.js';
import { memberImage } from './statefulset.js';
import type { KVCluster } from '../api/v1alpha1/index.js';

/** On maintenance CronJobs, their Jobs and pods: what they do. */
export const LABEL_MAINTENANCE = 'cairn.dev/maintenance';
export type MaintenanceKind = 'defrag' | 'compaction' | 'nospace-recovery';

export const defragCronJobName = (c: ClusterRef): string => `${c.name}-defrag`;
export const compactionCronJobName = (c: ClusterRef): string => `${c.name}-compaction`;
export const noSpaceRecoveryJobName = (c: ClusterRef): string => `${c.name}-nospace-recovery`;

/** A run that failed is not retried by Kubernetes: the next scheduled time is the retry. */
const SCHEDULED_BACKOFF_LIMIT = 0;
/** A recovery is retried a few times (a member restarting fails the health gate once). */
const RECOVERY_BACKOFF_LIMIT = 3;
const HISTORY = 3;

function meta(kv: KVCluster, c: ClusterRef, name: string, kind: MaintenanceKind): V1ObjectMeta {
  return {
    name,
    namespace: c.namespace,
    labels: {
      [LABEL_NAME]: 'cairn-maintenance',
      [LABEL_INSTANCE]: c.name,
      [LABEL_MANAGED_BY]: OPERATOR_NAME,
      [LABEL_MAINTENANCE]: kind,
    },
    ownerReferences: [ownerReference(kv)],
  };
}

function cairnctl(c: ClusterRef, name: string, args: string[]): V1Container {
  return { name, command: ['cairnctl'], args: [`--endpoints=${serviceClientURL(c)}`, ...args] };
}

/** `defrag --cluster --safe` with the spec's rule and bounds; the result JSON to the termination log. */
function defragArgs(
  spec: ResolvedSpec,
  opts: { rule?: string; memberTimeout?: string; maxLag?: number },
): string[] {
  return [
    'defrag',
    '--cluster',
    '--safe',
    ...(opts.rule !== undefined && opts.rule !== '' ? [`--defrag-rule=${opts.rule}`] : []),
    `--member-timeout=${opts.memberTimeout ?? '5m'}`,
    `--max-lag=${opts.maxLag ?? 1000}`,
    `--quota-backend-bytes=${spec.config.quotaBackendBytes}`,
    '--disarm-nospace',
    '--result-file=/dev/termination-log',
  ];
}

function cronJob(
  kv: KVCluster,
  c: ClusterRef,
  spec: ResolvedSpec,
  name: string,
  kind: MaintenanceKind,
  schedule: { schedule: string; timeZone?: string; suspend?: boolean },
  container: V1Container,
): V1CronJob {
  const m = meta(kv, c, name, kind);
  const job = snapshotJob(m, memberImage(spec), container, SCHEDULED_BACKOFF_LIMIT, undefined);
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: m,
    spec: {
      schedule: schedule.schedule,
      ...(schedule.timeZone !== undefined && schedule.timeZone !== '' ? { timeZone: schedule.timeZone } : {}),
      suspend: schedule.suspend ?? false,
      // Two runs at once would defragment two members at once.
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: 300,
      successfulJobsHistoryLimit: HISTORY,
      failedJobsHistoryLimit: HISTORY,
      jobTemplate: { metadata: { labels: m.labels }, spec: job.spec },
    },
  };
}

/** The scheduled defragmentation, or undefined when spec.maintenance.defrag is not set. */
export function defragCronJob(kv: KVCluster, c: ClusterRef, spec: ResolvedSpec): V1CronJob | undefined {
  const d = spec.maintenance?.defrag;
  if (d === undefined) return undefined;
  return cronJob(kv, c, spec, defragCronJobName(c), 'defrag', d, cairnctl(c, 'defrag', defragArgs(spec, d)));
}

/** The scheduled compaction, or undefined when spec.maintenance.compaction is not set. */
export function compactionCronJob(kv: KVCluster, c: ClusterRef, spec: ResolvedSpec): V1CronJob | undefined {
  const k = spec.maintenance?.compaction;
  if (k === undefined) return undefined;
  const args = [
    'compaction',
    `--keep-revisions=${k.keepRevisions}`,
    ...(k.physical === true ? ['--physical'] : []),
  ];
  return cronJob(kv, c, spec, compactionCronJobName(c), 'compaction', k, cairnctl(c, 'compaction', args));
}

/**
 * NOSPACE recovery, as etcd's maintenance guide does it: compact (keeping compaction.keepRevisions, else
 * everything up to now), defragment every member (safely, the leader last), and disarm the alarm once the
 * space is back.
 */
export function noSpaceRecoveryJob(kv: KVCluster, c: ClusterRef, spec: ResolvedSpec): V1Job {
  const keep = spec.maintenance?.compaction?.keepRevisions ?? 0;
  const endpoints = `--endpoints=${serviceClientURL(c)}`;
  const defrag = defragArgs(spec, { memberTimeout: spec.maintenance?.defrag?.memberTimeout ?? '5m' });
  const container: V1Container = {
    name: 'recover',
    command: [
      'sh',
      '-c',
      // $0 the endpoints, $1 the revisions to keep, then the defrag arguments.
      'cairnctl "$0" compaction --keep-revisions="$1" --physical && shift && exec cairnctl "$0" "$@"',
      endpoints,
      String(keep),
      ...defrag,
    ],
  };
  return snapshotJob(
    meta(kv, c, noSpaceRecoveryJobName(c), 'nospace-recovery'),
    memberImage(spec),
    container,
    RECOVERY_BACKOFF_LIMIT,
    undefined,
  );
}
