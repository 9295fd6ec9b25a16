// An in-memory BackupKubeOps: KVClusters, KVBackups and Jobs in maps; tests finish Jobs by hand (a pod
// with a termination message) and read what the reconciler created, patched and recorded.
import type { KubernetesObject, V1Job, V1Pod } from '@kubernetes/client-node';
import type {
  KVBackup,
  KVBackupSchedule,
  KVBackupScheduleStatus,
  KVBackupStatus,
  KVCluster,
} from '../../../../../operator/src/api/v1alpha1/index.js';
import type { BackupKubeOps } from '../../../../../operator/src/controllers/kvbackup/kube-ops.js';

const key = (namespace: string, name: string): string => `${namespace}/${name}`;

export class FakeBackupKube implements BackupKubeOps {
  clusters = new Map<string, KVCluster>();
  backups = new Map<string, KVBackup>();
  schedules = new Map<string, KVBackupSchedule>();
  jobs = new Map<string, V1Job>();
  pods = new Map<string, V1Pod[]>();
  deletedJobs: string[] = [];
  deletedBackups: string[] = [];
  scheduleStatuses: KVBackupScheduleStatus[] = [];
  private seq = 0;

  async getCluster(namespace: string, name: string): Promise<KVCluster | undefined> {
    return Promise.resolve(this.clusters.get(key(namespace, name)));
  }

  async getBackup(namespace: string, name: string): Promise<KVBackup | undefined> {
    return Promise.resolve(this.backups.get(key(namespace, name)));
  }

  async listBackups(namespace: string): Promise<KVBackup[]> {
    return Promise.resolve([...this.backups.values()].filter((b) => b.metadata.namespace === namespace));
  }

  async getSchedule(namespace: string, name: string): Promise<KVBackupSchedule | undefined> {
    return Promise.resolve(this.schedules.get(key(namespace, name)));
  }

  async createBackup(backup: KVBackup): Promise<boolean> {
    const k = key(backup.metadata.namespace, backup.metadata.name);
    if (this.backups.has(k)) return Promise.resolve(false);
    this.backups.set(k, {
      ...structuredClone(backup),
      metadata: { ...structuredClone(backup.metadata), uid: `uid-${++this.seq}`, resourceVersion: '1' },
    });
    return Promise.resolve(true);
  }

  async deleteBackup(namespace: string, name: string): Promise<void> {
    this.deletedBackups.push(name);
    const b = this.backups.get(key(namespace, name));
    if (b === undefined) return Promise.resolve();
    if ((b.metadata.finalizers ?? []).length === 0) this.backups.delete(key(namespace, name));
    else b.metadata.deletionTimestamp = new Date();
    return Promise.resolve();
  }

  async getJob(namespace: string, name: string): Promise<V1Job | undefined> {
    return Promise.resolve(this.jobs.get(key(namespace, name)));
  }

  async deleteJob(namespace: string, name: string): Promise<void> {
    this.deletedJobs.push(name);
    this.jobs.delete(key(namespace, name));
    return Promise.resolve();
  }

  async listPods(namespace: string, selector: string): Promise<V1Pod[]> {
    const job = /^job-name=(.+)$/.exec(selector)?.[1] ?? '';
    return Promise.resolve(this.pods.get(key(namespace, job)) ?? []);
  }

  /** Set to refuse new objects as the API does in a namespace being deleted. */
  namespaceTerminating = false;

  async apply(obj: KubernetesObject): Promise<void> {
    if (this.namespaceTerminating) {
      const err = Object.assign(new Error('HTTP-Code: 403'), {
        code: 403,
        body: `jobs "${obj.metadata?.name ?? ''}" is forbidden: unable to create new content in namespace ns because it is being terminated`,
      });
      return Promise.reject(err);
    }
    if (obj.kind === 'Job') {
      const k = key(obj.metadata?.namespace ?? '', obj.metadata?.name ?? '');
      if (!this.jobs.has(k)) this.jobs.set(k, { ...structuredClone(obj), status: {} });
    }
    return Promise.resolve();
  }

  async patchBackupStatus(backup: KVBackup, status: KVBackupStatus): Promise<void> {
    const stored = this.backups.get(key(backup.metadata.namespace, backup.metadata.name));
    if (stored !== undefined) stored.status = structuredClone(status);
    return Promise.resolve();
  }

  async patchScheduleStatus(schedule: KVBackupSchedule, status: KVBackupScheduleStatus): Promise<void> {
    // The status becomes exactly this one (the real call sends the merge patch that does so).
    const stored = this.schedules.get(key(schedule.metadata.namespace, schedule.metadata.name));
    this.scheduleStatuses.push(structuredClone(status));
    if (stored !== undefined) stored.status = structuredClone(status);
    return Promise.resolve();
  }

  async setFinalizers(backup: KVBackup, finalizers: string[]): Promise<void> {
    const k = key(backup.metadata.namespace, backup.metadata.name);
    const stored = this.backups.get(k);
    if (stored === undefined) return Promise.resolve();
    stored.metadata.finalizers = [...finalizers];
    if (finalizers.length === 0 && stored.metadata.deletionTimestamp !== undefined) this.backups.delete(k);
    return Promise.resolve();
  }

  /** Ends a Job: one pod per attempt (the failures first), the last one `succeeded` or not. */
  finishJob(namespace: string, name: string, outcome: { failures: string[]; success?: string }): void {
    const job = this.jobs.get(key(namespace, name));
    if (job === undefined) throw new Error(`no job ${name}`);
    const pods: V1Pod[] = [];
    let t = Date.parse('2026-11-21T10:00:00Z');
    const pod = (exitCode: number, message: string): V1Pod => ({
      metadata: { name: `${name}-${pods.length}` },
      status: {
        containerStatuses: [
          {
            name: 'backup',
            image: '',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode, message, finishedAt: new Date((t += 1000)) } },
          },
        ],
      },
    });
    for (const f of outcome.failures) pods.push(pod(1, f));
    if (outcome.success !== undefined) pods.push(pod(0, outcome.success));
    this.pods.set(key(namespace, name), pods);
    job.status = {
      failed: outcome.failures.length,
      ...(outcome.success !== undefined
        ? { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] }
        : { conditions: [{ type: 'Failed', status: 'True', message: 'BackoffLimitExceeded' }] }),
    };
  }

  /** A Job still running after `failures` failed attempts. */
  failAttempts(namespace: string, name: string, failures: string[]): void {
    this.finishJob(namespace, name, { failures });
    const job = this.jobs.get(key(namespace, name));
    if (job?.status !== undefined) job.status.conditions = [];
  }
}

export function kvCluster(name: string, available: boolean): KVCluster {
  return {
    apiVersion: 'cairn.dev/v1alpha1',
    kind: 'KVCluster',
    metadata: { name, namespace: 'ns', uid: `uid-${name}` },
    spec: { version: '0.1.0', replicas: 3 },
    status: {
      conditions: [
        {
          type: 'Available',
          status: available ? 'True' : 'False',
          reason: available ? 'QuorumHealthy' : 'QuorumLost',
          message: available ? '3/3 voting members healthy' : '1/3 voting members healthy',
          lastTransitionTime: '2026-11-21T09:00:00Z',
        },
      ],
      members: [0, 1, 2].map((i) => ({
        name: `${name}-${i}`,
        id: `000000000000000${i + 1}`,
        clientURL: `http://${name}-${i}.${name}.ns.svc.cluster.local:2379`,
        isLearner: false,
        isLeader: i === 0,
        healthy: available || i === 0,
      })),
    },
  };
}

export function kvBackup(name: string, cluster: string, extra: Partial<KVBackup['spec']> = {}): KVBackup {
  return {
    apiVersion: 'cairn.dev/v1alpha1',
    kind: 'KVBackup',
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, resourceVersion: '1' },
    spec: {
      clusterName: cluster,
      destination: {
        s3: {
          bucket: 'backups',
          prefix: 'prod',
          endpoint: 'http://s3:9000',
          forcePathStyle: true,
          credentialsSecret: { name: 's3' },
        },
      },
      ...extra,
    },
  };
}
