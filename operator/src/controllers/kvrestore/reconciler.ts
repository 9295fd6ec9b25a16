// The KVRestore reconciler. A restore moves Pending → Verifying → Restoring → Succeeded | Failed, and a
// finished one never changes again:
//
//   Pending    waits until the target can be restored into (inPlace: the KVCluster exists; newCluster: none
//              of that name exists — an existing cluster fails the restore, it is never touched), no other
//              restore of that cluster is under way, and the source is there (a KVBackup must have
//              Succeeded; a Failed one fails the restore). Then the verify Job.
//   Verifying  the Job (`cairnctl backup fetch`) reads the whole object and checks its SHA-256 and the
//              snapshot's trailer. A corrupted or unreadable object fails the restore here, before any
//              cluster is touched.
//   Restoring  newCluster: the KVCluster is created with spec.bootstrap.restore (the verified SHA-256
//              pinned); inPlace: the KVCluster is annotated with the request, and its reconciler stops the
//              members and restores them with a new cluster id. Either way the KVCluster's status.restore
//              is followed until Restored: the restored revision and the new cluster id go into the status.
//
// The KVCluster reconciler owns the cluster's objects; this one only creates or annotates the KVCluster.
import {
  API_VERSION,
  KIND,
  resolveSpec,
  type KVCluster,
  type KVRestore,
  type KVRestoreStatus,
  type RestorePhase,
} from '../../api/v1alpha1/index.js';
import {
  ANNOTATION_RESTORE_IN_PLACE,
  ANNOTATION_RESTORE_UID,
  LABEL_RESTORE,
  inPlaceToken,
  memberImage,
  verifyJob,
} from '../../resources/index.js';
import { kubeTime } from '../../runtime/api-calls.js';
import type { ReconcileResult } from '../../runtime/controller.js';
import { OneAtATime } from '../../runtime/one-at-a-time.js';
import type { Logger } from '../../runtime/logger.js';
import type { OperatorMetrics } from '../../runtime/metrics.js';
import { splitKey } from '../../runtime/object-key.js';
import { jobOutcome, parseFetchResult } from '../kvbackup/job-result.js';
import { resolveRestorePlan, type RestorePlan } from '../kvcluster/restore.js';
import type { EventSink } from '../kvcluster/reconciler.js';
import type { RestoreKubeOps } from './kube-ops.js';

const WAIT_REQUEUE_MS = 10_000;
const FOLLOW_REQUEUE_MS = 5_000;

export interface RestoreReconcilerDeps {
  kube: RestoreKubeOps;
  events: EventSink<KVRestore>;
  metrics?: Pick<OperatorMetrics, 'restoresTotal'>;
  now?: () => Date;
}

/** The KVCluster a restore goes into. */
export function targetCluster(r: KVRestore): string {
  return r.spec.target.newCluster?.name ?? r.spec.target.inPlace?.clusterName ?? '';
}

const active = (phase: RestorePhase | undefined): boolean => phase === 'Verifying' || phase === 'Restoring';

/** Whether this KVRestore created the KVCluster (a later KVRestore of the same name did not). */
function createdBy(kv: KVCluster, r: KVRestore): boolean {
  return (
    kv.metadata.labels?.[LABEL_RESTORE] === r.metadata.name &&
    kv.metadata.annotations?.[ANNOTATION_RESTORE_UID] === r.metadata.uid
  );
}

export class KVRestoreReconciler {
  /**
   * Starting a restore is decided one at a time in this process (the leading operator), so two restores
   * of one cluster can never both see "none under way" and start together.
   */
  private readonly starting = new OneAtATime();

  constructor(private readonly deps: RestoreReconcilerDeps) {}

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  async reconcile(key: string, log: Logger): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const r = await this.deps.kube.getRestore(namespace, name);
    if (r === undefined || r.metadata.deletionTimestamp !== undefined) return {};
    const phase = r.status?.phase ?? 'Pending';
    if (phase === 'Succeeded' || phase === 'Failed') return {};
    if (phase === 'Verifying') return this.verifying(r, log);
    if (phase === 'Restoring') return this.restoring(r);
    return this.starting.run(() => this.pending(r, log));
  }

  private async setStatus(r: KVRestore, patch: KVRestoreStatus): Promise<void> {
    const status: KVRestoreStatus = { ...r.status, ...patch };
    for (const k of Object.keys(status) as (keyof KVRestoreStatus)[])
      if (status[k] === undefined) delete status[k];
    await this.deps.kube.patchRestoreStatus(r, status);
    r.status = status;
  }

  private async wait(r: KVRestore, message: string): Promise<ReconcileResult> {
    if (r.status?.phase !== 'Pending' || r.status.progress !== message)
      await this.setStatus(r, {
        phase: 'Pending',
        progress: message,
        startTime: r.status?.startTime ?? kubeTime(this.now()),
      });
    return { requeueAfterMs: WAIT_REQUEUE_MS };
  }

  private async fail(r: KVRestore, message: string): Promise<ReconcileResult> {
    await this.setStatus(r, {
      phase: 'Failed',
      message,
      progress: undefined,
      startTime: r.status?.startTime ?? kubeTime(this.now()),
      completionTime: kubeTime(this.now()),
    });
    this.deps.events.warning(r, 'RestoreFailed', message);
    this.count(r, 'failed');
    return {};
  }

  private count(r: KVRestore, result: 'succeeded' | 'failed'): void {
    this.deps.metrics?.restoresTotal.inc({
      namespace: r.metadata.namespace,
      cluster: targetCluster(r),
      target: r.spec.target.inPlace !== undefined ? 'inPlace' : 'newCluster',
      result,
    });
  }

  private async pending(r: KVRestore, log: Logger): Promise<ReconcileResult> {
    const { kube } = this.deps;
    const ns = r.metadata.namespace;
    const name = targetCluster(r);
    const kv = await kube.getCluster(ns, name);
    const newCluster = r.spec.target.newCluster;
    if (newCluster !== undefined && kv !== undefined && !createdBy(kv, r)) {
      return this.fail(
        r,
        `KVCluster ${name} already exists; a restore into a new cluster never touches an existing one ` +
          '(target.inPlace restores into it)',
      );
    }
    if (newCluster === undefined && kv === undefined) return this.wait(r, `KVCluster ${name} not found`);
    const other = (await kube.listRestores(ns)).find(
      (o) => o.metadata.name !== r.metadata.name && targetCluster(o) === name && active(o.status?.phase),
    );
    if (other !== undefined)
      return this.wait(r, `waiting for KVRestore ${other.metadata.name} of the same cluster to finish`);
    const backupName = r.spec.source.backupName;
    if (backupName !== undefined) {
      const backup = await kube.getBackup(ns, backupName);
      if (backup?.status?.phase === 'Failed')
        return this.fail(
          r,
          `KVBackup ${backupName} failed: ${backup.status.message ?? 'no snapshot stored'}`,
        );
    }
    const resolved = await resolveRestorePlan(kube, ns, r.spec.source);
    if ('waiting' in resolved) return this.wait(r, resolved.waiting);
    const spec = newCluster?.spec ?? kv?.spec;
    if (spec === undefined) return this.wait(r, `KVCluster ${name} not found`);
    const job = verifyJob(r, name, resolved.plan, memberImage(resolveSpec(spec)));
    await kube.apply(job);
    const jobName = job.metadata?.name ?? '';
    await this.setStatus(r, {
      phase: 'Verifying',
      clusterName: name,
      objectURL: resolved.plan.objectURL,
      jobName,
      startTime: r.status?.startTime ?? kubeTime(this.now()),
      progress: `Job ${jobName} is reading and checking ${resolved.plan.objectURL}`,
    });
    log.info('verifying the snapshot', { job: jobName, url: resolved.plan.objectURL });
    this.deps.events.normal(r, 'RestoreVerifying', `Job ${jobName} checks ${resolved.plan.objectURL}`);
    return { requeueAfterMs: FOLLOW_REQUEUE_MS };
  }

  private async verifying(r: KVRestore, log: Logger): Promise<ReconcileResult> {
    const { kube } = this.deps;
    const ns = r.metadata.namespace;
    const jobName = r.status?.jobName ?? '';
    const job = await kube.getJob(ns, jobName);
    if (job === undefined) {
      await this.setStatus(r, { phase: 'Pending', progress: `Job ${jobName} disappeared; starting again` });
      return { requeueAfterMs: 0 };
    }
    const outcome = jobOutcome(job, await kube.listPods(ns, `job-name=${jobName}`));
    if (outcome.state === 'running') {
      if (outcome.failedAttempts > 0) {
        const progress = `attempt ${outcome.failedAttempts} failed (${outcome.lastError ?? 'no reason given'}); retrying`;
        if (r.status?.progress !== progress) await this.setStatus(r, { progress });
      }
      return { requeueAfterMs: FOLLOW_REQUEUE_MS };
    }
    const url = r.status?.objectURL ?? '';
    if (outcome.state === 'failed') {
      return this.fail(
        r,
        `the snapshot at ${url} cannot be restored: ${outcome.lastError ?? 'no reason given'}; ` +
          `KVCluster ${targetCluster(r)} was not touched`,
      );
    }
    const result = parseFetchResult(outcome.message);
    if (result === undefined)
      return this.fail(r, `Job ${jobName} succeeded but left no result in its termination message`);
    await this.setStatus(r, {
      phase: 'Restoring',
      sha256: result.sha256,
      sizeBytes: result.sizeBytes,
      revision: result.revision,
      progress: `verified ${result.sizeBytes} bytes at revision ${result.revision}`,
    });
    log.info('snapshot verified', { url, sha256: result.sha256, revision: result.revision });
    this.deps.events.normal(
      r,
      'RestoreVerified',
      `${url}: ${result.sizeBytes} bytes at revision ${result.revision}, sha256 ${result.sha256}`,
    );
    return this.restoring(r);
  }

  private async restoring(r: KVRestore): Promise<ReconcileResult> {
    const { kube } = this.deps;
    const ns = r.metadata.namespace;
    const name = targetCluster(r);
    let kv = await kube.getCluster(ns, name);
    const newCluster = r.spec.target.newCluster;
    if (newCluster !== undefined) {
      if (kv === undefined) {
        kv = this.clusterFor(r);
        if (!(await kube.createCluster(kv))) return { requeueAfterMs: 0 };
        this.deps.events.normal(
          r,
          'ClusterCreated',
          `KVCluster ${name} created from ${r.status?.objectURL ?? ''}`,
        );
      } else if (!createdBy(kv, r)) {
        return this.fail(r, `KVCluster ${name} was created by someone else meanwhile; it is left alone`);
      }
    } else {
      if (kv === undefined) return this.fail(r, `KVCluster ${name} was deleted during the restore`);
      const token = inPlaceToken(name, r.metadata.uid ?? '');
      if (kv.status?.restore?.token !== token) {
        if (kv.metadata.annotations?.[ANNOTATION_RESTORE_IN_PLACE] !== r.metadata.name) {
          await kube.annotateCluster(ns, name, { [ANNOTATION_RESTORE_IN_PLACE]: r.metadata.name });
          this.deps.events.warning(
            r,
            'RestoreRequested',
            `KVCluster ${name} will stop every member and restart them from the snapshot`,
          );
        }
        return this.progress(r, `asked KVCluster ${name} to restore in place`);
      }
    }
    return this.follow(r, kv, kv.status?.restore);
  }

  /** The KVCluster's own restore, mirrored: Restored is success; anything else is progress. */
  private async follow(r: KVRestore, kv: KVCluster, plan: RestorePlan | undefined): Promise<ReconcileResult> {
    const name = kv.metadata.name;
    if (plan?.phase !== 'Restored') {
      const progressing = kv.status?.conditions?.find((c) => c.type === 'Progressing')?.message;
      const text =
        plan?.phase === 'Failed'
          ? `the members' restore step fails and is retried: ${plan.message ?? ''}`
          : `KVCluster ${name}: ${progressing ?? plan?.phase ?? 'starting'}`;
      return this.progress(r, text);
    }
    const revision = plan.revision ?? r.status?.revision;
    const clusterID = kv.status?.clusterID;
    await this.setStatus(r, {
      phase: 'Succeeded',
      ...(revision !== undefined ? { restoredRevision: revision } : {}),
      ...(clusterID !== undefined ? { clusterID } : {}),
      progress: undefined,
      completionTime: kubeTime(this.now()),
    });
    this.deps.events.normal(
      r,
      'RestoreSucceeded',
      `KVCluster ${name} runs from ${r.status?.objectURL ?? ''}` +
        (revision !== undefined ? ` at revision ${revision}` : '') +
        (clusterID !== undefined ? `, cluster id ${clusterID}` : ''),
    );
    this.count(r, 'succeeded');
    return {};
  }

  private async progress(r: KVRestore, text: string): Promise<ReconcileResult> {
    if (r.status?.progress !== text) await this.setStatus(r, { progress: text });
    return { requeueAfterMs: FOLLOW_REQUEUE_MS };
  }

  /** The new KVCluster: the target's spec, started from the verified snapshot. */
  private clusterFor(r: KVRestore): KVCluster {
    const target = r.spec.target.newCluster;
    const sha256 = r.status?.sha256;
    return {
      apiVersion: API_VERSION,
      kind: KIND,
      metadata: {
        name: targetCluster(r),
        namespace: r.metadata.namespace,
        labels: { [LABEL_RESTORE]: r.metadata.name },
        annotations: { [ANNOTATION_RESTORE_UID]: r.metadata.uid ?? '' },
      },
      spec: {
        ...(target?.spec ?? { version: '' }),
        bootstrap: { restore: { ...r.spec.source, ...(sha256 !== undefined ? { sha256 } : {}) } },
      },
    };
  }
}
