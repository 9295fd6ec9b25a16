// The KVRestore reconciler on an in-memory API: the target checks (a new cluster's name must be free, an
// in-place target must exist), one restore per cluster at a time, the verify Job and its verdict (a
// corrupted object fails the restore before any cluster is touched), then creating or annotating the
// KVCluster and following its status.restore to Succeeded.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Job } from '@kubernetes/client-node';
import { KVRestoreReconciler } from '../../../../../operator/src/controllers/kvrestore/reconciler.js';
import { newOperatorLogger } from '../../../../../operator/src/runtime/logger.js';
import { kvBackup, kvCluster } from '../kvbackup/fakes.js';
import { FakeRestoreKube, kvRestore } from './fakes.js';

const log = newOperatorLogger({ level: 'error' });
const SHA = 'ab'.repeat(32);
const URL = 's3://backups/prod/ns/kv/b1.db';
const VERIFIED = JSON.stringify({ objectURL: URL, sizeBytes: 123456, sha256: SHA, revision: 42 });
const NEW = { newCluster: { name: 'kv2', spec: { version: '0.2.0', replicas: 3 } } };
const IN_PLACE = { inPlace: { clusterName: 'kv' } };

function setup(): { kube: FakeRestoreKube; reconciler: KVRestoreReconciler; events: string[] } {
  const kube = new FakeRestoreKube();
  const events: string[] = [];
  const reconciler = new KVRestoreReconciler({
    kube,
    events: {
      normal: (_o, reason, message) => events.push(`${reason}: ${message}`),
      warning: (_o, reason, message) => events.push(`${reason}: ${message}`),
    },
    now: () => new Date('2026-11-22T10:00:00Z'),
  });
  const b = kvBackup('b1', 'kv');
  b.status = { phase: 'Succeeded', objectURL: URL, sha256: SHA, revision: 42 };
  kube.backups.set('ns/b1', b);
  return { kube, reconciler, events };
}

function job(kube: FakeRestoreKube, name: string): V1Job {
  const j = kube.jobs.get(`ns/${name}`);
  assert.ok(j !== undefined, `Job ${name}`);
  return j;
}

describe('KVRestore reconciler', () => {
  it('into a new cluster: verifies, creates the KVCluster from the snapshot, and follows it to Succeeded', async () => {
    const { kube, reconciler, events } = setup();
    kube.restores.set('ns/r1', kvRestore('r1', NEW));
    await reconciler.reconcile('ns/r1', log);
    const r = kube.restore('r1');
    assert.equal(r.status?.phase, 'Verifying');
    assert.equal(r.status?.clusterName, 'kv2');
    // The Job runs the target's image, checks against the backup's SHA-256, gets credentials by reference.
    const c = job(kube, 'r1-verify').spec?.template.spec?.containers[0];
    assert.equal(c?.image, 'ghcr.io/cairn-dev/cairn:0.2.0');
    assert.deepEqual(c?.command?.slice(0, 2), ['sh', '-c']);
    assert.equal(c?.command?.[3], URL);
    assert.deepEqual(c?.args, [
      `--sha256=${SHA}`,
      '--s3-endpoint=http://s3:9000',
      '--s3-region=us-east-1',
      '--s3-force-path-style',
    ]);
    assert.ok(
      c?.env?.some((e) => e.name === 'AWS_SECRET_ACCESS_KEY' && e.valueFrom?.secretKeyRef?.name === 's3'),
    );
    assert.equal(kube.created.length, 0, 'nothing created before the snapshot is verified');

    kube.finishJob('ns', 'r1-verify', { failures: [], success: VERIFIED });
    await reconciler.reconcile('ns/r1', log);
    assert.equal(r.status?.phase, 'Restoring');
    assert.deepEqual(
      { sha256: r.status?.sha256, size: r.status?.sizeBytes, revision: r.status?.revision },
      { sha256: SHA, size: 123456, revision: 42 },
    );
    const kv = kube.clusters.get('ns/kv2');
    assert.ok(kv !== undefined);
    assert.deepEqual(kv.spec, {
      version: '0.2.0',
      replicas: 3,
      bootstrap: { restore: { backupName: 'b1', sha256: SHA } },
    });
    assert.equal(kv.metadata.labels?.['cairn.dev/restore'], 'r1');

    // The KVCluster's own restore under way, then done.
    kv.status = { restore: { phase: 'Restoring', objectURL: URL, revision: 42 } };
    await reconciler.reconcile('ns/r1', log);
    assert.equal(r.status?.phase, 'Restoring');
    kv.status = {
      restore: { phase: 'Restored', objectURL: URL, revision: 42 },
      clusterID: '00000000000000c9',
    };
    await reconciler.reconcile('ns/r1', log);
    assert.equal(r.status?.phase, 'Succeeded');
    assert.equal(r.status?.restoredRevision, 42);
    assert.equal(r.status?.clusterID, '00000000000000c9');
    assert.equal(r.status?.progress, undefined);
    assert.ok(r.status?.completionTime !== undefined);
    assert.ok(events.some((e) => e.startsWith('RestoreSucceeded: KVCluster kv2 runs from')));
    // Final: nothing changes any more.
    kube.clusters.delete('ns/kv2');
    await reconciler.reconcile('ns/r1', log);
    assert.equal(r.status?.phase, 'Succeeded');
  });

  it('into a new cluster whose name is taken: Failed, the existing cluster untouched, no Job', async () => {
    const { kube, reconciler } = setup();
    const existing = kvCluster('kv2', true);
    kube.clusters.set('ns/kv2', existing);
    const before = JSON.stringify(existing);
    kube.restores.set('ns/r1', kvRestore('r1', NEW));
    await reconciler.reconcile('ns/r1', log);
    const r = kube.restore('r1');
    assert.equal(r.status?.phase, 'Failed');
    assert.match(r.status?.message ?? '', /KVCluster kv2 already exists; .* never touches an existing one/);
    assert.equal(kube.jobs.size, 0);
    assert.equal(JSON.stringify(existing), before);
  });

  it('a corrupted object fails at verification, before the cluster is touched', async () => {
    const { kube, reconciler, events } = setup();
    const kv = kvCluster('kv', true);
    kube.clusters.set('ns/kv', kv);
    kube.restores.set('ns/r1', kvRestore('r1', IN_PLACE));
    await reconciler.reconcile('ns/r1', log);
    kube.finishJob('ns', 'r1-verify', {
      failures: [`checksum mismatch: expected ${SHA} got ${'00'.repeat(32)}`],
    });
    await reconciler.reconcile('ns/r1', log);
    const r = kube.restore('r1');
    assert.equal(r.status?.phase, 'Failed');
    assert.match(
      r.status?.message ?? '',
      /cannot be restored: checksum mismatch: expected .*KVCluster kv was not touched/,
    );
    assert.equal(kv.metadata.annotations, undefined);
    assert.ok(events.some((e) => e.startsWith('RestoreFailed: ')));
  });

  it('in place: asks the KVCluster (annotation) once verified, and follows its restore by token', async () => {
    const { kube, reconciler } = setup();
    const kv = kvCluster('kv', true);
    kube.clusters.set('ns/kv', kv);
    kube.restores.set('ns/r1', kvRestore('r1', IN_PLACE));
    await reconciler.reconcile('ns/r1', log);
    assert.equal(
      job(kube, 'r1-verify').spec?.template.spec?.containers[0]?.image,
      'ghcr.io/cairn-dev/cairn:0.1.0',
    );
    assert.equal(kv.metadata.annotations, undefined, 'not before the snapshot is verified');
    kube.finishJob('ns', 'r1-verify', { failures: [], success: VERIFIED });
    await reconciler.reconcile('ns/r1', log);
    const r = kube.restore('r1');
    assert.equal(r.status?.phase, 'Restoring');
    assert.equal(kv.metadata.annotations?.['cairn.dev/restore-in-place'], 'r1');
    // An earlier restore's Restored plan (another token) is not this one's.
    kv.status = { ...kv.status, restore: { phase: 'Restored', objectURL: URL, token: 'kv-restore-other' } };
    await reconciler.reconcile('ns/r1', log);
    assert.equal(r.status?.phase, 'Restoring');
    kv.status = {
      ...kv.status,
      restore: { phase: 'Stopping', objectURL: URL, requestedBy: 'r1', token: 'kv-restore-r1-uid-0' },
    };
    await reconciler.reconcile('ns/r1', log);
    assert.equal(r.status?.phase, 'Restoring');
    kv.status = {
      ...kv.status,
      clusterID: '00000000000000d1',
      restore: {
        phase: 'Restored',
        objectURL: URL,
        revision: 42,
        requestedBy: 'r1',
        token: 'kv-restore-r1-uid-0',
      },
    };
    await reconciler.reconcile('ns/r1', log);
    assert.equal(r.status?.phase, 'Succeeded');
    assert.equal(r.status?.clusterID, '00000000000000d1');
  });

  it('waits for the in-place target to exist, for another restore of it, and for its backup; a failed backup fails it', async () => {
    const { kube, reconciler } = setup();
    kube.restores.set('ns/r1', kvRestore('r1', IN_PLACE));
    await reconciler.reconcile('ns/r1', log);
    assert.deepEqual(
      { phase: kube.restore('r1').status?.phase, progress: kube.restore('r1').status?.progress },
      { phase: 'Pending', progress: 'KVCluster kv not found' },
    );
    kube.clusters.set('ns/kv', kvCluster('kv', true));
    const other = kvRestore('r0', IN_PLACE);
    other.status = { phase: 'Restoring' };
    kube.restores.set('ns/r0', other);
    await reconciler.reconcile('ns/r1', log);
    assert.equal(
      kube.restore('r1').status?.progress,
      'waiting for KVRestore r0 of the same cluster to finish',
    );
    other.status = { phase: 'Succeeded' };
    const b = kube.backups.get('ns/b1');
    if (b !== undefined) b.status = { phase: 'Running' };
    await reconciler.reconcile('ns/r1', log);
    assert.equal(kube.restore('r1').status?.progress, 'KVBackup b1 is Running, not Succeeded');
    if (b !== undefined) b.status = { phase: 'Failed', message: 'backup failed after 4 attempt(s): boom' };
    await reconciler.reconcile('ns/r1', log);
    assert.equal(kube.restore('r1').status?.phase, 'Failed');
    assert.match(kube.restore('r1').status?.message ?? '', /KVBackup b1 failed: backup failed after 4/);
    assert.equal(kube.jobs.size, 0);
  });
});
