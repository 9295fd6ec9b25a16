// spec.maintenance, one pass of it: the CronJobs of scheduled compaction and defragmentation kept as the
// spec says (a bad schedule is reported, not applied), the result of each finished run recorded once in
// status.maintenance with an Event, and a NOSPACE alarm reported — and, with noSpace: Recover, cured by one
// recovery Job (compact, defragment, disarm) per episode. A recovery that ran and did not clear the alarm is
// not repeated: the data needs more room than the quota, which only a person can decide.
import type { V1Job } from '@kubernetes/client-node';
import type { MaintenanceStatus, MemberDefrag, ResolvedSpec } from '../../api/v1alpha1/index.js';
import {
  LABEL_INSTANCE,
  LABEL_MAINTENANCE,
  compactionCronJob,
  compactionCronJobName,
  defragCronJob,
  defragCronJobName,
  noSpaceRecoveryJob,
  noSpaceRecoveryJobName,
  type MaintenanceKind,
} from '../../resources/index.js';
import { kubeTime } from '../../runtime/api-calls.js';
import { jobOutcome, parseDefragResult, type DefragResult } from '../kvbackup/job-result.js';
import { parseSchedule } from '../kvbackupschedule/schedule.js';
import type { KubeOps } from './kube-ops.js';
import type { Observed } from './observed.js';
import type { EventSink } from './reconciler.js';
import type { PassRecord, Problem } from './status.js';

export type MaintenanceKube = Pick<
  KubeOps,
  'apply' | 'listJobs' | 'deleteCronJob' | 'deleteJob' | 'listPods'
>;

export interface MaintenanceContext {
  kube: MaintenanceKube;
  events: EventSink;
  now: () => Date;
}

const NOSPACE = /alarm:NOSPACE/;

/** 1536 → "1.5 KiB": sizes in Events and messages. */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u] ?? ''}`;
}

/** When a finished Job ended (its completion, else its last condition), for picking the newest. */
function endedAt(job: V1Job): number {
  const t =
    job.status?.completionTime ??
    job.status?.conditions?.map((c) => c.lastTransitionTime).find((x) => x !== undefined) ??
    job.metadata?.creationTimestamp;
  return t === undefined ? 0 : new Date(t).getTime();
}

/** "kv-1 40.0 MiB → 1.2 MiB, kv-2 skipped (rule false), kv-0 (leader) …": a defrag run in one line. */
export function describeDefrag(r: DefragResult): string {
  const parts = r.members.map((m) => {
    const who = `${m.name}${m.leader === true ? ' (leader)' : ''}`;
    if (m.error !== undefined) return `${who} failed: ${m.error}`;
    if (!m.defragmented) return `${who} skipped (${m.skipped ?? 'not selected'})`;
    const sizes =
      m.dbSizeBefore !== undefined && m.dbSizeAfter !== undefined
        ? ` ${bytes(m.dbSizeBefore)} → ${bytes(m.dbSizeAfter)}`
        : '';
    return `${who}${sizes}`;
  });
  const disarmed = (r.disarmed ?? []).length > 0 ? `; disarmed ${(r.disarmed ?? []).join(', ')}` : '';
  return `${parts.join(', ')}${disarmed}`;
}

function memberRecords(r: DefragResult): MemberDefrag[] {
  return r.members.map((m) => ({
    name: m.name,
    defragmented: m.defragmented,
    ...(m.leader !== undefined ? { leader: m.leader } : {}),
    ...(m.skipped !== undefined ? { skipped: m.skipped } : {}),
    ...(m.error !== undefined ? { error: m.error } : {}),
    ...(m.dbSizeBefore !== undefined ? { dbSizeBefore: m.dbSizeBefore } : {}),
    ...(m.dbSizeAfter !== undefined ? { dbSizeAfter: m.dbSizeAfter } : {}),
    ...(m.seconds !== undefined ? { seconds: m.seconds } : {}),
  }));
}

export async function reconcileMaintenance(
  ctx: MaintenanceContext,
  o: Observed,
  spec: ResolvedSpec,
  problems: Problem[],
  pass: PassRecord,
): Promise<void> {
  if (!spec.paused) await keepSchedules(ctx, o, spec, problems);
  // A cluster that never had maintenance has no runs to read: no extra API call on its every pass.
  const runs = spec.maintenance !== undefined || o.kv.status?.maintenance !== undefined;
  const selector = `${LABEL_INSTANCE}=${o.ref.name},${LABEL_MAINTENANCE}`;
  const jobs = runs ? await ctx.kube.listJobs(o.ref.namespace, selector) : [];
  const status: MaintenanceStatus = { ...(o.kv.status?.maintenance ?? {}) };
  await recordDefrag(ctx, o, jobs, status);
  await recordCompaction(ctx, o, jobs, status);
  await handleNoSpace(ctx, o, spec, jobs, status, problems, pass);
  pass.maintenance = status;
}

/**
 * The CronJobs as the spec says: applied, or deleted when their section is gone. A section can only go
 * with a spec change, so the deletes are sent only on the first pass over a new generation (a delete of
 * one that is not there is a 404, ignored) instead of a list on every pass.
 */
async function keepSchedules(
  ctx: MaintenanceContext,
  o: Observed,
  spec: ResolvedSpec,
  problems: Problem[],
): Promise<void> {
  const specChanged = o.kv.status?.observedGeneration !== o.kv.metadata.generation;
  const wanted = [
    { name: defragCronJobName(o.ref), cron: defragCronJob(o.kv, o.ref, spec), field: 'defrag' },
    { name: compactionCronJobName(o.ref), cron: compactionCronJob(o.kv, o.ref, spec), field: 'compaction' },
  ];
  for (const w of wanted) {
    if (w.cron === undefined) {
      if (specChanged) await ctx.kube.deleteCronJob(o.ref.namespace, w.name);
      continue;
    }
    const s = w.cron.spec;
    const parsed = parseSchedule(s?.schedule ?? '', s?.timeZone);
    if (!parsed.ok) {
      const message = `spec.maintenance.${w.field}: ${parsed.error}`;
      problems.push({ reason: 'InvalidMaintenanceSchedule', message });
      ctx.events.warning(o.kv, 'InvalidMaintenanceSchedule', message);
      continue;
    }
    await ctx.kube.apply(w.cron);
  }
}

/** The newest finished Job of a kind not recorded yet, with its pods' verdict. */
async function newlyFinished(
  ctx: MaintenanceContext,
  o: Observed,
  jobs: readonly V1Job[],
  kind: MaintenanceKind,
  recorded: string | undefined,
): Promise<{ job: V1Job; outcome: ReturnType<typeof jobOutcome> } | undefined> {
  const finished = jobs
    .filter((j) => j.metadata?.labels?.[LABEL_MAINTENANCE] === kind)
    .map((job) => ({ job, outcome: jobOutcome(job, []) }))
    .filter((x) => x.outcome.state !== 'running')
    .sort((a, b) => endedAt(b.job) - endedAt(a.job));
  const newest = finished[0];
  const name = newest?.job.metadata?.name;
  if (newest === undefined || name === undefined || name === recorded) return undefined;
  const pods = await ctx.kube.listPods(o.ref.namespace, `job-name=${name}`);
  return { job: newest.job, outcome: jobOutcome(newest.job, pods) };
}

async function recordDefrag(
  ctx: MaintenanceContext,
  o: Observed,
  jobs: readonly V1Job[],
  status: MaintenanceStatus,
): Promise<void> {
  const done = await newlyFinished(ctx, o, jobs, 'defrag', status.lastDefrag?.jobName);
  if (done === undefined) return;
  const jobName = done.job.metadata?.name ?? '';
  const completionTime = kubeTime(new Date(endedAt(done.job) || ctx.now().getTime()));
  const result = parseDefragResult(done.outcome.state !== 'running' ? done.outcome.message : undefined);
  if (done.outcome.state === 'succeeded' && result !== undefined) {
    const message = describeDefrag(result);
    status.lastDefrag = {
      jobName,
      succeeded: true,
      startTime: result.startTime,
      completionTime: result.completionTime,
      message,
      members: memberRecords(result),
      ...(result.disarmed !== undefined ? { disarmed: result.disarmed } : {}),
    };
    ctx.events.normal(o.kv, 'Defragmented', `Job ${jobName}: ${message}`);
    return;
  }
  // A run that stopped part way still says what it did before it stopped.
  const why =
    done.outcome.state !== 'failed'
      ? 'it left no result in its termination message'
      : result !== undefined
        ? `${result.error ?? 'a member failed'}; ${describeDefrag(result)}`
        : (done.outcome.lastError ?? 'no reason given');
  const message = `defragmentation failed: ${why}`;
  status.lastDefrag = {
    jobName,
    succeeded: false,
    completionTime,
    message,
    ...(result !== undefined ? { startTime: result.startTime, members: memberRecords(result) } : {}),
  };
  ctx.events.warning(o.kv, 'DefragFailed', `Job ${jobName}: ${message}`);
}

async function recordCompaction(
  ctx: MaintenanceContext,
  o: Observed,
  jobs: readonly V1Job[],
  status: MaintenanceStatus,
): Promise<void> {
  const done = await newlyFinished(ctx, o, jobs, 'compaction', status.lastCompaction?.jobName);
  if (done === undefined) return;
  const jobName = done.job.metadata?.name ?? '';
  const completionTime = kubeTime(new Date(endedAt(done.job) || ctx.now().getTime()));
  if (done.outcome.state === 'succeeded') {
    status.lastCompaction = { jobName, succeeded: true, completionTime, message: 'compacted' };
    ctx.events.normal(o.kv, 'Compacted', `Job ${jobName} compacted the history`);
    return;
  }
  const message = `compaction failed: ${done.outcome.state === 'failed' ? (done.outcome.lastError ?? 'no reason given') : ''}`;
  status.lastCompaction = { jobName, succeeded: false, completionTime, message };
  ctx.events.warning(o.kv, 'CompactionFailed', `Job ${jobName}: ${message}`);
}

/**
 * A NOSPACE alarm: Degraded with the members and their sizes. With noSpace: Recover, one recovery Job per
 * episode; once the alarm is gone the finished Job is deleted, so the next episode gets a fresh one.
 */
async function handleNoSpace(
  ctx: MaintenanceContext,
  o: Observed,
  spec: ResolvedSpec,
  jobs: readonly V1Job[],
  status: MaintenanceStatus,
  problems: Problem[],
  pass: PassRecord,
): Promise<void> {
  const members = o.membership?.members;
  if (members === undefined) return;
  const alarmed = members.filter((m) => m.status?.errors.some((e) => NOSPACE.test(e)) === true);
  const recover = spec.maintenance?.noSpace === 'Recover';
  const name = noSpaceRecoveryJobName(o.ref);
  const job = jobs.find((j) => j.metadata?.name === name);
  const outcome =
    job === undefined
      ? undefined
      : jobOutcome(job, await ctx.kube.listPods(o.ref.namespace, `job-name=${name}`));
  if (alarmed.length === 0) {
    if (job !== undefined && outcome?.state !== 'running') {
      await ctx.kube.deleteJob(o.ref.namespace, name);
      if (status.noSpaceRecovery !== undefined && status.noSpaceRecovery.phase !== 'Succeeded') {
        const result = parseDefragResult(outcome?.state === 'succeeded' ? outcome.message : undefined);
        const message = result !== undefined ? describeDefrag(result) : 'the alarm is disarmed';
        status.noSpaceRecovery = { jobName: name, phase: 'Succeeded', message };
        ctx.events.normal(o.kv, 'NoSpaceRecovered', message);
      }
    }
    return;
  }
  const sizes = alarmed
    .map((m) => `${m.podName ?? m.member.name} (${bytes(m.status?.dbSize ?? 0)})`)
    .join(', ');
  const quota = bytes(spec.config.quotaBackendBytes);
  const base = `NOSPACE alarm raised by ${sizes}, quota ${quota}: writes are refused`;
  if (!recover) {
    problems.push({
      reason: 'NoSpace',
      message: `${base}; compact, defragment and disarm (spec.maintenance.noSpace: Recover does it)`,
    });
    return;
  }
  const restoring = pass.restore !== undefined && pass.restore.phase !== 'Restored';
  if (job === undefined) {
    if (spec.paused || restoring) {
      problems.push({ reason: 'NoSpace', message: `${base}; recovery waits (paused or restoring)` });
      return;
    }
    await ctx.kube.apply(noSpaceRecoveryJob(o.kv, o.ref, spec));
    status.noSpaceRecovery = { jobName: name, phase: 'Running', message: 'compacting, then defragmenting' };
    ctx.events.warning(o.kv, 'NoSpaceRecovering', `${base}; Job ${name} compacts, defragments and disarms`);
    problems.push({ reason: 'NoSpace', message: `${base}; recovering (Job ${name})` });
    return;
  }
  if (outcome?.state === 'running') {
    problems.push({ reason: 'NoSpace', message: `${base}; recovering (Job ${name})` });
    return;
  }
  // The recovery ran to its end and the alarm is still there.
  const why =
    outcome?.state === 'failed'
      ? `the recovery failed: ${outcome.lastError ?? 'no reason given'}`
      : 'compaction and defragmentation did not bring the database under the quota';
  const message = `${base}; ${why}. Raise spec.config.quotaBackendBytes or delete data, then delete Job ${name} to try again`;
  if (status.noSpaceRecovery?.phase !== 'Failed') ctx.events.warning(o.kv, 'NoSpaceRecoveryFailed', message);
  status.noSpaceRecovery = { jobName: name, phase: 'Failed', message };
  problems.push({ reason: 'NoSpace', message });
}
