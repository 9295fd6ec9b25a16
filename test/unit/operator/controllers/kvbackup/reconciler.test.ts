// The KVBackup reconciler on an in-memory API: waiting for the cluster and for another backup of it, the
// Job it creates (image, endpoints, credentials by reference), following the Job through failed attempts
// to Succeeded or Failed, a finished backup that never changes again, and the finalizer that deletes the
// stored snapshot.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Job } from '@kubernetes/client-node';
import type { KVBackup } from '../../../../../operator/src/api/v1alpha1/index.js';
import {
  FINALIZER_DELETE_OBJECT,
  KVBackupReconciler,
} from '../../../../../operator/src/controllers/kvbackup/reconciler.js';
import { newOperatorLogger } from '../../../../../operator/src/runtime/logger.js';
import { FakeBackupKube, kvBackup, kvCluster } from './fakes.js';

const log = newOperatorLogger({ level: 'error' });
const SHA = 'ab'.repeat(32);
const RESULT = JSON.stringify({
  objectURL: 's3://backups/prod/ns/kv/b1.db',
  sizeBytes: 123456,
  sha256: SHA,
  revision: 42,
  member: 'kv-1',
  memberID: '0000000000000002',
  clusterID: '00000000000000c1',
  startTime: '2026-11-21T10:00:00Z',
  completionTime: '2026-11-21T10:00:07Z',
});

function setup(): { kube: FakeBackupKube; reconciler: KVBackupReconciler; events: string[] } {
  const kube = new FakeBackupKube();
  const events: string[] = [];
  const reconciler = new KVBackupReconciler({
    kube,
    events: {
      normal: (_o, reason, message) => events.push(`${reason}: ${message}`),
      warning: (_o, reason, message) => events.push(`${reason}: ${message}`),
    },
    now: () => new Date('2026-11-21T10:00:00Z'),
  });
  return { kube, reconciler, events };
}

function backup(kube: FakeBackupKube, name: string): KVBackup {
  const b = kube.backups.get(`ns/${name}`);
  assert.ok(b !== undefined);
  return b;
}

describe('KVBackup reconciler', () => {
  it('waits while the cluster is missing or not Available, saying why', async () => {
    const { kube, reconciler } = setup();
    await kube.createBackup(kvBackup('b1', 'kv'));
    await reconciler.reconcile('ns/b1', log);
    assert.equal(backup(kube, 'b1').status?.phase, 'Pending');
    assert.equal(backup(kube, 'b1').status?.message, 'KVCluster kv not found');
    kube.clusters.set('ns/kv', kvCluster('kv', false));
    const r = await reconciler.reconcile('ns/b1', log);
    assert.match(backup(kube, 'b1').status?.message ?? '', /to be Available \(1\/3 voting members healthy\)/);
    assert.ok((r.requeueAfterMs ?? 0) > 0);
    assert.equal(kube.jobs.size, 0);
  });

  it('starts a Job from the cluster image with every voter endpoint and credentials by reference only', async () => {
    const { kube, reconciler, events } = setup();
    kube.clusters.set('ns/kv', kvCluster('kv', true));
    await kube.createBackup(kvBackup('b1', 'kv'));
    await reconciler.reconcile('ns/b1', log);
    const b = backup(kube, 'b1');
    assert.equal(b.status?.phase, 'Running');
    assert.equal(b.status?.jobName, 'b1-backup');
    assert.equal(b.status?.image, 'ghcr.io/cairn-dev/cairn:0.1.0');
    const job = kube.jobs.get('ns/b1-backup') as V1Job;
    const c = job.spec?.template.spec?.containers[0];
    assert.equal(c?.image, 'ghcr.io/cairn-dev/cairn:0.1.0');
    assert.deepEqual(c?.args, [
      '--endpoints=http://kv-0.kv.ns.svc.cluster.local:2379,http://kv-1.kv.ns.svc.cluster.local:2379,http://kv-2.kv.ns.svc.cluster.local:2379',
      'backup',
      'save',
      's3://backups/prod/ns/kv/b1.db',
      '--result-file=/dev/termination-log',
      '--s3-endpoint=http://s3:9000',
      '--s3-region=us-east-1',
      '--s3-force-path-style',
    ]);
    assert.deepEqual(
      c?.env?.map((e) => [e.name, e.valueFrom?.secretKeyRef?.name, e.valueFrom?.secretKeyRef?.key, e.value]),
      [
        ['AWS_ACCESS_KEY_ID', 's3', 'accessKeyID', undefined],
        ['AWS_SECRET_ACCESS_KEY', 's3', 'secretAccessKey', undefined],
        ['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', undefined, undefined, 'true'],
      ],
    );
    assert.equal(job.spec?.backoffLimit, 3);
    assert.equal(job.metadata?.ownerReferences?.[0]?.kind, 'KVBackup');
    assert.ok(events.some((e) => e.startsWith('BackupStarted: Job b1-backup')));
  });

  it('runs one backup of a cluster at a time', async () => {
    const { kube, reconciler } = setup();
    kube.clusters.set('ns/kv', kvCluster('kv', true));
    kube.clusters.set('ns/other', kvCluster('other', true));
    await kube.createBackup(kvBackup('b1', 'kv'));
    await kube.createBackup(kvBackup('b2', 'kv'));
    await kube.createBackup(kvBackup('c1', 'other'));
    await Promise.all(['ns/b1', 'ns/b2', 'ns/c1'].map((k) => reconciler.reconcile(k, log)));
    assert.equal(backup(kube, 'b1').status?.phase, 'Running');
    assert.equal(backup(kube, 'b2').status?.phase, 'Pending');
    assert.equal(backup(kube, 'b2').status?.message, 'waiting for backup b1 of the same cluster to finish');
    assert.equal(backup(kube, 'c1').status?.phase, 'Running', 'another cluster is not held up');
    kube.finishJob('ns', 'b1-backup', { failures: [], success: RESULT });
    await reconciler.reconcile('ns/b1', log);
    await reconciler.reconcile('ns/b2', log);
    assert.equal(backup(kube, 'b2').status?.phase, 'Running');
  });

  it('reports failed attempts while the Job retries, then the result of the one that worked', async () => {
    const { kube, reconciler, events } = setup();
    kube.clusters.set('ns/kv', kvCluster('kv', true));
    await kube.createBackup(kvBackup('b1', 'kv'));
    await reconciler.reconcile('ns/b1', log);
    kube.failAttempts('ns', 'b1-backup', ['connect ECONNREFUSED 10.0.0.1:9000']);
    await reconciler.reconcile('ns/b1', log);
    assert.equal(backup(kube, 'b1').status?.phase, 'Running');
    assert.equal(backup(kube, 'b1').status?.attempts, 1);
    assert.match(backup(kube, 'b1').status?.message ?? '', /attempt 1 failed \(connect ECONNREFUSED/);
    kube.finishJob('ns', 'b1-backup', { failures: ['connect ECONNREFUSED 10.0.0.1:9000'], success: RESULT });
    await reconciler.reconcile('ns/b1', log);
    const s = backup(kube, 'b1').status;
    assert.equal(s?.phase, 'Succeeded');
    assert.equal(s?.objectURL, 's3://backups/prod/ns/kv/b1.db');
    assert.equal(s?.sizeBytes, 123456);
    assert.equal(s?.sha256, SHA);
    assert.equal(s?.revision, 42);
    assert.equal(s?.member, 'kv-1');
    assert.equal(s?.completionTime, '2026-11-21T10:00:07Z');
    assert.ok(events.some((e) => /^BackupSucceeded: 123456 bytes at revision 42 from kv-1 in 7 s/.test(e)));
  });

  it('fails with the last reason once the Job gives up, and a finished backup never changes again', async () => {
    const { kube, reconciler, events } = setup();
    kube.clusters.set('ns/kv', kvCluster('kv', true));
    await kube.createBackup(kvBackup('b1', 'kv', { backoffLimit: 1 }));
    await reconciler.reconcile('ns/b1', log);
    kube.finishJob('ns', 'b1-backup', {
      failures: ['AccessDenied: Access Denied', 'snapshot checksum mismatch'],
    });
    await reconciler.reconcile('ns/b1', log);
    const s = backup(kube, 'b1').status;
    assert.equal(s?.phase, 'Failed');
    assert.equal(s?.message, 'backup failed after 2 attempt(s): snapshot checksum mismatch');
    assert.ok(events.some((e) => e.startsWith('BackupFailed:')));
    kube.jobs.clear();
    await reconciler.reconcile('ns/b1', log);
    assert.equal(backup(kube, 'b1').status?.phase, 'Failed');
    assert.equal(kube.jobs.size, 0, 'no new Job for a failed backup');
  });

  it('fails a Job that succeeded without a result', async () => {
    const { kube, reconciler } = setup();
    kube.clusters.set('ns/kv', kvCluster('kv', true));
    await kube.createBackup(kvBackup('b1', 'kv'));
    await reconciler.reconcile('ns/b1', log);
    kube.finishJob('ns', 'b1-backup', { failures: [], success: 'Snapshot saved' });
    await reconciler.reconcile('ns/b1', log);
    assert.equal(backup(kube, 'b1').status?.phase, 'Failed');
    assert.match(backup(kube, 'b1').status?.message ?? '', /left no result/);
  });

  it('keeps the finalizer with deletionPolicy Delete and deletes the object through a Job before letting go', async () => {
    const { kube, reconciler, events } = setup();
    kube.clusters.set('ns/kv', kvCluster('kv', true));
    await kube.createBackup(kvBackup('b1', 'kv', { deletionPolicy: 'Delete' }));
    await reconciler.reconcile('ns/b1', log);
    assert.deepEqual(backup(kube, 'b1').metadata.finalizers, [FINALIZER_DELETE_OBJECT]);
    kube.finishJob('ns', 'b1-backup', { failures: [], success: RESULT });
    await reconciler.reconcile('ns/b1', log);
    await kube.deleteBackup('ns', 'b1');
    await reconciler.reconcile('ns/b1', log);
    const del = kube.jobs.get('ns/b1-delete');
    assert.deepEqual(del?.spec?.template.spec?.containers[0]?.args?.slice(0, 3), [
      'backup',
      'delete',
      's3://backups/prod/ns/kv/b1.db',
    ]);
    assert.ok(kube.backups.has('ns/b1'), 'held while the object is deleted');
    kube.finishJob('ns', 'b1-delete', { failures: [], success: '' });
    await reconciler.reconcile('ns/b1', log);
    assert.ok(!kube.backups.has('ns/b1'), 'released');
    assert.ok(events.includes('BackupObjectDeleted: deleted s3://backups/prod/ns/kv/b1.db'));
  });

  it('stops a running save before deleting its object, and lets a never-started backup go at once', async () => {
    const { kube, reconciler } = setup();
    kube.clusters.set('ns/kv', kvCluster('kv', true));
    await kube.createBackup(kvBackup('b1', 'kv', { deletionPolicy: 'Delete' }));
    await reconciler.reconcile('ns/b1', log);
    await kube.deleteBackup('ns', 'b1');
    await reconciler.reconcile('ns/b1', log);
    assert.deepEqual(kube.deletedJobs, ['b1-backup']);
    assert.ok(!kube.jobs.has('ns/b1-delete'), 'the delete waits for the save to be gone');
    await reconciler.reconcile('ns/b1', log);
    assert.ok(kube.jobs.has('ns/b1-delete'));

    await kube.createBackup(kvBackup('b2', 'nothing', { deletionPolicy: 'Delete' }));
    await reconciler.reconcile('ns/b2', log);
    await kube.deleteBackup('ns', 'b2');
    await reconciler.reconcile('ns/b2', log);
    assert.ok(!kube.backups.has('ns/b2'));
  });

  it('lets go in a namespace being deleted (no Job can run there), saying the object is kept', async () => {
    const { kube, reconciler, events } = setup();
    kube.clusters.set('ns/kv', kvCluster('kv', true));
    await kube.createBackup(kvBackup('b1', 'kv', { deletionPolicy: 'Delete' }));
    await reconciler.reconcile('ns/b1', log);
    kube.finishJob('ns', 'b1-backup', { failures: [], success: RESULT });
    await reconciler.reconcile('ns/b1', log);
    kube.namespaceTerminating = true;
    await kube.deleteBackup('ns', 'b1');
    await reconciler.reconcile('ns/b1', log);
    assert.ok(!kube.backups.has('ns/b1'), 'released');
    assert.ok(events.some((e) => e.startsWith('BackupObjectKept: the namespace is being deleted')));
  });

  it('drops the finalizer with deletionPolicy Retain: the object stays', async () => {
    const { kube, reconciler } = setup();
    kube.clusters.set('ns/kv', kvCluster('kv', true));
    const b = kvBackup('b1', 'kv');
    b.metadata.finalizers = [FINALIZER_DELETE_OBJECT];
    await kube.createBackup(b);
    await reconciler.reconcile('ns/b1', log);
    assert.deepEqual(backup(kube, 'b1').metadata.finalizers, []);
  });
});
