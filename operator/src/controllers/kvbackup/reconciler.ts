// The KVBackup reconciler. A backup moves Pending → Running → Succeeded | Failed, and a finished one never
// changes again:
//
//   Pending    waits until its KVCluster exists and is Available and no other backup of that cluster is
//              running (one at a time per cluster), then creates the Job (`cairnctl backup save`).
//   Running    follows the Job: the Job's own back-off retries failed attempts (spec.backoffLimit), each
//              failure's reason is reported; success → the result the Job wrote (URL, size, SHA-256,
//              revision, member) goes into the status.
//   deletion   with deletionPolicy Delete a finalizer holds the resource until a second Job has deleted
//              the stored snapshot; with Retain the snapshot stays.
//
// Nothing here ever deletes another backup or its object: a failed backup leaves older good ones alone.
import type { BackupPhase, KVBackup, KVBackupStatus, KVCluster } from '../../api/v1alpha1/index.js';
import { backupJob, backupObjectURL, deleteObjectJob, jobName, memberImage } from '../../resources/index.js';
import { resolveSpec } from '../../api/v1alpha1/index.js';
import { kubeTime, statusCode } from '../../runtime/api-calls.js';
import type { ReconcileResult } from '../../runtime/controller.js';
import { OneAtATime } from '../../runtime/one-at-a-time.js';
import type { Logger } from '../../runtime/logger.js';
import type { OperatorMetrics } from '../../runtime/metrics.js';
import { splitKey } from '../../runtime/object-key.js';
import type { EventSink } from '../kvcluster/reconciler.js';
import { jobOutcome, parseSaveResult } from './job-result.js';
import type { BackupKubeOps } from './kube-ops.js';

/** Holds a KVBackup with deletionPolicy Delete until its stored snapshot is deleted. */
export const FINALIZER_DELETE_OBJECT = 'cairn.dev/delete-backup-object';
const WAIT_REQUEUE_MS = 10_000;
const RUNNING_REQUEUE_MS = 5_000;

export interface BackupReconcilerDeps {
  kube: BackupKubeOps;
  events: EventSink<KVBackup>;
  metrics?: Pick<
    OperatorMetrics,
    'backupsTotal' | 'backupLastSuccess' | 'backupLastDuration' | 'backupLastSize'
  >;
  now?: () => Date;
}

/** The API's refusal to create anything in a namespace that is being deleted. */
function namespaceTerminating(err: unknown): boolean {
  const body = (err as { body?: unknown }).body;
  const text = `${typeof body === 'string' ? body : JSON.stringify(body ?? '')} ${err instanceof Error ? err.message : ''}`;
  return statusCode(err) === 403 && text.includes('because it is being terminated');
}

function available(kv: KVCluster): boolean {
  return kv.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True') ?? false;
}

export class KVBackupReconciler {
  /**
   * Starting a backup is decided one at a time in this process (the leading operator), so two backups of
   * one cluster can never both see "none running" and start together.
   */
  private readonly starting = new OneAtATime();

  constructor(private readonly deps: BackupReconcilerDeps) {}

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  async reconcile(key: string, log: Logger): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const backup = await this.deps.kube.getBackup(namespace, name);
    if (backup === undefined) return {};
    if (backup.metadata.deletionTimestamp !== undefined) return this.finalize(backup, log);
    await this.keepFinalizer(backup);
    const phase: BackupPhase = backup.status?.phase ?? 'Pending';
    if (phase === 'Succeeded' || phase === 'Failed') return {};
    if (phase === 'Running' && backup.status?.jobName !== undefined) return this.follow(backup);
    return this.starting.run(() => this.maybeStart(backup, log));
  }

  /** The finalizer is there exactly when the stored snapshot must be deleted with the resource. */
  private async keepFinalizer(b: KVBackup): Promise<void> {
    const finalizers = b.metadata.finalizers ?? [];
    const want = (b.spec.deletionPolicy ?? 'Retain') === 'Delete';
    const has = finalizers.includes(FINALIZER_DELETE_OBJECT);
    if (want && !has) await this.deps.kube.setFinalizers(b, [...finalizers, FINALIZER_DELETE_OBJECT]);
    if (!want && has)
      await this.deps.kube.setFinalizers(
        b,
        finalizers.filter((f) => f !== FINALIZER_DELETE_OBJECT),
      );
  }

  private async setStatus(b: KVBackup, patch: KVBackupStatus): Promise<void> {
    const status = { ...b.status, ...patch };
    await this.deps.kube.patchBackupStatus(b, status);
    b.status = status;
  }

  private async wait(b: KVBackup, message: string): Promise<ReconcileResult> {
    if (b.status?.phase !== 'Pending' || b.status.message !== message)
      await this.setStatus(b, { phase: 'Pending', message });
    return { requeueAfterMs: WAIT_REQUEUE_MS };
  }

  private async maybeStart(b: KVBackup, log: Logger): Promise<ReconcileResult> {
    const { kube } = this.deps;
    const ns = b.metadata.namespace;
    const cluster = await kube.getCluster(ns, b.spec.clusterName);
    if (cluster === undefined) return this.wait(b, `KVCluster ${b.spec.clusterName} not found`);
    if (!available(cluster)) {
      const why = cluster.status?.conditions?.find((c) => c.type === 'Available')?.message ?? 'no status yet';
      return this.wait(b, `waiting for KVCluster ${b.spec.clusterName} to be Available (${why})`);
    }
    const running = (await kube.listBackups(ns)).find(
      (o) =>
        o.metadata.name !== b.metadata.name &&
        o.spec.clusterName === b.spec.clusterName &&
        o.status?.phase === 'Running',
    );
    if (running !== undefined) {
      return this.wait(b, `waiting for backup ${running.metadata.name} of the same cluster to finish`);
    }
    const endpoints = (cluster.status?.members ?? [])
      .filter((m) => !m.isLearner && m.clientURL !== undefined)
      .map((m) => m.clientURL ?? '');
    if (endpoints.length === 0) return this.wait(b, `KVCluster ${b.spec.clusterName} reports no client URLs`);
    const image = memberImage(resolveSpec(cluster.spec));
    const job = backupJob(b, image, endpoints);
    await kube.apply(job);
    const jobName = job.metadata?.name ?? '';
    await this.setStatus(b, {
      phase: 'Running',
      startTime: kubeTime(this.now()),
      jobName,
      image,
      attempts: 0,
      message: `Job ${jobName} is taking the snapshot`,
    });
    log.info('backup started', { job: jobName, cluster: b.spec.clusterName });
    this.deps.events.normal(b, 'BackupStarted', `Job ${jobName} snapshots ${b.spec.clusterName}`);
    return { requeueAfterMs: RUNNING_REQUEUE_MS };
  }

  private async follow(b: KVBackup): Promise<ReconcileResult> {
    const { kube } = this.deps;
    const ns = b.metadata.namespace;
    const name = b.status?.jobName ?? '';
    const job = await kube.getJob(ns, name);
    if (job === undefined) {
      // Deleted by hand before it finished: start over (the same object URL is overwritten).
      await this.setStatus(b, { phase: 'Pending', message: `Job ${name} disappeared; starting again` });
      return { requeueAfterMs: 0 };
    }
    const pods = await kube.listPods(ns, `job-name=${name}`);
    const outcome = jobOutcome(job, pods);
    const cluster = b.spec.clusterName;
    if (outcome.state === 'running') {
      const attempts = outcome.failedAttempts;
      if (attempts !== (b.status?.attempts ?? 0)) {
        const message = `attempt ${attempts} failed (${outcome.lastError ?? 'no reason given'}); retrying with back-off`;
        await this.setStatus(b, { attempts, message });
        this.deps.events.warning(b, 'BackupAttemptFailed', message);
      }
      return { requeueAfterMs: RUNNING_REQUEUE_MS };
    }
    const completionTime = kubeTime(this.now());
    if (outcome.state === 'failed') {
      const message = `backup failed after ${outcome.failedAttempts} attempt(s): ${outcome.lastError ?? 'no reason given'}`;
      await this.setStatus(b, { phase: 'Failed', completionTime, attempts: outcome.failedAttempts, message });
      this.deps.events.warning(b, 'BackupFailed', message);
      this.deps.metrics?.backupsTotal.inc({ namespace: ns, cluster, result: 'failed' });
      return {};
    }
    const result = parseSaveResult(outcome.message);
    if (result === undefined) {
      const message = `Job ${name} succeeded but left no result in its termination message`;
      await this.setStatus(b, { phase: 'Failed', completionTime, message });
      this.deps.events.warning(b, 'BackupFailed', message);
      this.deps.metrics?.backupsTotal.inc({ namespace: ns, cluster, result: 'failed' });
      return {};
    }
    await this.setStatus(b, {
      phase: 'Succeeded',
      startTime: result.startTime,
      completionTime: result.completionTime,
      objectURL: result.objectURL,
      sizeBytes: result.sizeBytes,
      sha256: result.sha256,
      revision: result.revision,
      member: result.member,
      clusterID: result.clusterID,
      message: `stored ${result.sizeBytes} bytes at revision ${result.revision} from ${result.member}`,
    });
    const seconds = (Date.parse(result.completionTime) - Date.parse(result.startTime)) / 1000;
    this.deps.events.normal(
      b,
      'BackupSucceeded',
      `${result.sizeBytes} bytes at revision ${result.revision} from ${result.member} in ${seconds.toFixed(0)} s: ${result.objectURL}`,
    );
    const m = this.deps.metrics;
    m?.backupsTotal.inc({ namespace: ns, cluster, result: 'succeeded' });
    m?.backupLastSuccess.set({ namespace: ns, cluster }, Date.parse(result.completionTime) / 1000);
    m?.backupLastDuration.set({ namespace: ns, cluster }, seconds);
    m?.backupLastSize.set({ namespace: ns, cluster }, result.sizeBytes);
    return {};
  }

  /** A KVBackup going away: with deletionPolicy Delete, its stored snapshot goes first. */
  private async finalize(b: KVBackup, log: Logger): Promise<ReconcileResult> {
    const { kube } = this.deps;
    const finalizers = b.metadata.finalizers ?? [];
    if (!finalizers.includes(FINALIZER_DELETE_OBJECT)) return {};
    const release = (): Promise<void> =>
      kube.setFinalizers(
        b,
        finalizers.filter((f) => f !== FINALIZER_DELETE_OBJECT),
      );
    const ns = b.metadata.namespace;
    // Never started: nothing was stored.
    if (b.status?.jobName === undefined) {
      await release();
      return {};
    }
    // A save still running must end before its object is deleted, or it could land afterwards.
    const save = await kube.getJob(ns, b.status.jobName);
    if (save !== undefined && jobOutcome(save, []).state === 'running') {
      await kube.deleteJob(ns, b.status.jobName);
      return { requeueAfterMs: RUNNING_REQUEUE_MS };
    }
    const url = b.status.objectURL ?? backupObjectURL(b);
    const deleteName = jobName(b.metadata.name, 'delete');
    const job = await kube.getJob(ns, deleteName);
    if (job === undefined) {
      // The image that stored it (recorded when the save started) knows how to delete it.
      const cluster = await kube.getCluster(ns, b.spec.clusterName);
      const image =
        b.status.image ?? (cluster === undefined ? undefined : memberImage(resolveSpec(cluster.spec)));
      if (image === undefined) {
        await release();
        return {};
      }
      try {
        await kube.apply(deleteObjectJob(b, image, url));
      } catch (err) {
        if (!namespaceTerminating(err)) throw err;
        // A namespace being deleted takes no new Job, and would wait forever for this finalizer.
        this.deps.events.warning(
          b,
          'BackupObjectKept',
          `the namespace is being deleted, so no Job can delete ${url}; it is kept (cairnctl backup delete ${url} removes it)`,
        );
        await release();
        return {};
      }
      log.info('deleting the stored snapshot', { url });
      return { requeueAfterMs: RUNNING_REQUEUE_MS };
    }
    const outcome = jobOutcome(job, await kube.listPods(ns, `job-name=${deleteName}`));
    if (outcome.state === 'running') return { requeueAfterMs: RUNNING_REQUEUE_MS };
    if (outcome.state === 'failed') {
      const message = `could not delete ${url}: ${outcome.lastError ?? 'no reason given'}; remove the finalizer ${FINALIZER_DELETE_OBJECT} to let the resource go without it`;
      if (b.status.message !== message) {
        await this.setStatus(b, { message });
        this.deps.events.warning(b, 'BackupObjectNotDeleted', message);
      }
      return {};
    }
    this.deps.events.normal(b, 'BackupObjectDeleted', `deleted ${url}`);
    await release();
    return {};
  }
}
