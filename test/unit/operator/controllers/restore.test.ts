// A KVCluster created from a snapshot (spec.bootstrap.restore): it waits for its backup, then starts every
// member at once with the restore init step (SHA-256, store flags, credentials by reference), reports a
// failed restore, and once every member is a healthy voter marks the restore done and clears restore-url.
// A running KVCluster restored in place (a KVRestore's request): stopped, then restored the same way with
// a new token and --replace.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import type { KVBackup, KVCluster, KVRestore } from '../../../../operator/src/api/v1alpha1/index.js';
import { newOperatorLogger } from '../../../../operator/src/runtime/logger.js';
import { cluster, harness, pod, withStatefulSet } from './fakes.js';

const log = newOperatorLogger({ level: 'error' });
const SHA = 'cd'.repeat(32);

function succeededBackup(): KVBackup {
  return {
    apiVersion: 'cairn.dev/v1alpha1',
    kind: 'KVBackup',
    metadata: { name: 'nightly', namespace: 'ns' },
    spec: {
      clusterName: 'old',
      destination: {
        s3: {
          bucket: 'b',
          endpoint: 'http://s3:9000',
          forcePathStyle: true,
          credentialsSecret: { name: 's3' },
        },
      },
    },
    status: { phase: 'Succeeded', objectURL: 's3://b/ns/old/nightly.db', sha256: SHA, revision: 10_042 },
  };
}

const restored = () =>
  cluster({ version: '0.1.0', replicas: 3, bootstrap: { restore: { backupName: 'nightly' } } });

describe('KVCluster restored from a snapshot', () => {
  it('waits for its backup to succeed', async () => {
    const { kube, reconciler } = harness(restored(), [], []);
    await reconciler.reconcile('ns/kv', log);
    assert.equal(kube.stsReplicas(), undefined, 'no StatefulSet yet');
    const s = kube.statuses.at(-1);
    assert.equal(s?.phase, 'Bootstrapping');
    assert.equal(s?.conditions?.find((c) => c.type === 'Progressing')?.reason, 'WaitingForBackup');
    assert.match(
      s?.conditions?.find((c) => c.type === 'Degraded')?.message ?? '',
      /KVBackup nightly not found/,
    );
  });

  it('starts every member at once, each restored by its init step with the whole membership', async () => {
    const { kube, reconciler, events } = harness(restored(), [], []);
    kube.backups.set('nightly', succeededBackup());
    await reconciler.reconcile('ns/kv', log);
    assert.equal(kube.stsReplicas(), 3);
    assert.deepEqual(kube.configMap(), {
      'initial-cluster':
        'kv-0=http://kv-0.kv.ns.svc.cluster.local:2380,kv-1=http://kv-1.kv.ns.svc.cluster.local:2380,kv-2=http://kv-2.kv.ns.svc.cluster.local:2380',
      'initial-cluster-state': 'new',
      'restore-url': 's3://b/ns/old/nightly.db',
    });
    const sts = kube.applied.get('StatefulSet/kv') as V1StatefulSet;
    const init = sts.spec?.template.spec?.initContainers?.[0];
    assert.equal(init?.name, 'restore');
    assert.deepEqual(init?.args, [
      '--data-dir=/var/lib/cairn/data',
      '--name=$(POD_NAME)',
      '--initial-cluster=$(CAIRN_INITIAL_CLUSTER)',
      '--initial-cluster-token=kv-aaaabbbb',
      '--initial-advertise-peer-urls=http://$(POD_NAME).kv.ns.svc.cluster.local:2380',
      `--sha256=${SHA}`,
      '--s3-endpoint=http://s3:9000',
      '--s3-region=us-east-1',
      '--s3-force-path-style',
    ]);
    const secretRefs = init?.env?.filter((e) => e.valueFrom?.secretKeyRef !== undefined).map((e) => e.name);
    assert.deepEqual(secretRefs, ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);
    const s = kube.statuses.at(-1);
    assert.equal(s?.restore?.phase, 'Restoring');
    assert.equal(s?.restore?.revision, 10_042);
    assert.ok(events.some((e) => e.startsWith('Restoring: 3 member(s) start from s3://b/ns/old/nightly.db')));
  });

  it('reports a failed restore step and changes nothing else', async () => {
    const { kube, fake, reconciler } = harness(restored(), [], []);
    kube.backups.set('nightly', succeededBackup());
    await reconciler.reconcile('ns/kv', log);
    const failing: V1Pod = {
      ...pod(1),
      status: {
        phase: 'Pending',
        initContainerStatuses: [
          {
            name: 'restore',
            image: '',
            imageID: '',
            ready: false,
            restartCount: 2,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: {
              terminated: { exitCode: 1, message: 'checksum mismatch: expected cdcd… got 0000…' },
            },
          },
        ],
      },
    };
    kube.pods = [failing];
    await reconciler.reconcile('ns/kv', log);
    const s = kube.statuses.at(-1);
    assert.equal(s?.restore?.phase, 'Failed');
    assert.match(s?.restore?.message ?? '', /kv-1: checksum mismatch/);
    assert.equal(s?.conditions?.find((c) => c.type === 'Degraded')?.reason, 'RestoreFailed');
    assert.deepEqual(fake.calls, []);
    assert.equal(kube.stsReplicas(), 3);
  });

  it('is done once every member is a healthy voter: restore-url leaves the ConfigMap, the template stays', async () => {
    const first = harness(restored(), [], []);
    first.kube.backups.set('nightly', succeededBackup());
    await first.reconciler.reconcile('ns/kv', log);
    const template = JSON.stringify(
      (first.kube.applied.get('StatefulSet/kv') as V1StatefulSet).spec?.template,
    );
    // The members have started from the snapshot: three healthy voters.
    const { kube, fake, reconciler, events } = harness(
      first.kube.kv as KVCluster,
      [{ ordinal: 0 }, { ordinal: 1 }, { ordinal: 2 }],
      [0, 1, 2],
    );
    kube.applied = first.kube.applied;
    await reconciler.reconcile('ns/kv', log);
    const s = kube.statuses.at(-1);
    assert.equal(s?.restore?.phase, 'Restored');
    assert.equal(kube.configMap()?.['restore-url'], undefined);
    assert.equal(kube.configMap()?.['initial-cluster-state'], 'existing');
    assert.ok(events.some((e) => e.startsWith('Restored: 3 member(s) restored')));
    assert.equal(
      JSON.stringify((kube.applied.get('StatefulSet/kv') as V1StatefulSet).spec?.template),
      template,
    );
    assert.deepEqual(fake.calls, [], 'no membership change');
  });
});

function verifiedRestore(uid = '12345678-aaaa', phase: 'Verifying' | 'Restoring' = 'Restoring'): KVRestore {
  return {
    apiVersion: 'cairn.dev/v1alpha1',
    kind: 'KVRestore',
    metadata: { name: 'rollback', namespace: 'ns', uid },
    spec: { source: { backupName: 'nightly' }, target: { inPlace: { clusterName: 'kv' } } },
    status: { phase, objectURL: 's3://b/ns/old/nightly.db', sha256: SHA, revision: 10_042 },
  };
}

/** A running 3-member cluster annotated with an in-place restore request. */
function running(): ReturnType<typeof harness> {
  const kv = cluster({ version: '0.1.0', replicas: 3 });
  kv.metadata.annotations = { 'cairn.dev/restore-in-place': 'rollback' };
  const h = harness(kv, [{ ordinal: 0 }, { ordinal: 1 }, { ordinal: 2 }], [0, 1, 2]);
  h.kube.backups.set('nightly', succeededBackup());
  return h;
}

describe('KVCluster restored in place (a KVRestore)', () => {
  it('ignores a request whose KVRestore has not verified its snapshot: nothing stops', async () => {
    const { kube, fake, reconciler } = running();
    await withStatefulSet(kube, 3);
    kube.restores.set('rollback', verifiedRestore(undefined, 'Verifying'));
    await reconciler.reconcile('ns/kv', log);
    assert.equal(kube.stsReplicas(), 3);
    const s = kube.statuses.at(-1);
    assert.equal(s?.restore, undefined);
    assert.equal(s?.conditions?.find((c) => c.type === 'Degraded')?.reason, 'RestoreRequestIgnored');
    assert.deepEqual(fake.calls, []);
  });

  it('stops every member, restores them all with a new token and --replace, and clears the request', async () => {
    const { kube, fake, reconciler, events } = running();
    await withStatefulSet(kube, 3);
    kube.restores.set('rollback', verifiedRestore());
    const kv = kube.kv as KVCluster;

    // 1. Stop: the StatefulSet goes to 0, the claims stay; no membership call.
    await reconciler.reconcile('ns/kv', log);
    assert.equal(kube.stsReplicas(), 0);
    let s = kube.statuses.at(-1);
    assert.equal(s?.phase, 'Restoring');
    assert.deepEqual(
      { phase: s?.restore?.phase, by: s?.restore?.requestedBy, token: s?.restore?.token },
      { phase: 'Stopping', by: 'rollback', token: 'kv-restore-12345678' },
    );
    assert.ok(
      events.some((e) => e.startsWith('RestoringInPlace: KVRestore rollback: stopping every member')),
    );
    assert.deepEqual(fake.calls, []);

    // 2. Pods still terminating: it waits, and says so.
    await reconciler.reconcile('ns/kv', log);
    assert.equal(kube.stsReplicas(), 0);
    assert.equal(kube.statuses.at(-1)?.restore?.phase, 'Stopping');
    assert.equal(kube.configMap()?.['restore-url'], undefined);

    // 3. No pod left: all members start together from the snapshot.
    kube.pods = [];
    await reconciler.reconcile('ns/kv', log);
    assert.equal(kube.stsReplicas(), 3);
    assert.equal(kube.configMap()?.['restore-url'], 's3://b/ns/old/nightly.db');
    assert.equal(kube.configMap()?.['initial-cluster-state'], 'new');
    const init = (kube.applied.get('StatefulSet/kv') as V1StatefulSet).spec?.template.spec
      ?.initContainers?.[0];
    assert.ok(init?.args?.includes('--initial-cluster-token=kv-restore-12345678'));
    assert.ok(init?.args?.includes('--replace'));
    assert.ok(init?.args?.includes(`--sha256=${SHA}`));
    s = kube.statuses.at(-1);
    assert.equal(s?.restore?.phase, 'Restoring');
    assert.equal(s?.phase, 'Restoring');
    assert.equal(s?.conditions?.find((c) => c.type === 'Available')?.status, 'False');

    // 4. The restored members are healthy voters of a new cluster: done; the request goes next pass.
    kube.pods = [0, 1, 2].map((o) => pod(o));
    fake.clusterId = '00000000000000c2';
    await reconciler.reconcile('ns/kv', log);
    s = kube.statuses.at(-1);
    assert.equal(s?.restore?.phase, 'Restored');
    assert.equal(s?.clusterID, '00000000000000c2');
    assert.equal(kube.configMap()?.['restore-url'], undefined);
    assert.equal(kv.metadata.annotations?.['cairn.dev/restore-in-place'], 'rollback');
    await reconciler.reconcile('ns/kv', log);
    assert.equal(kv.metadata.annotations?.['cairn.dev/restore-in-place'], undefined);
    assert.equal(kube.statuses.at(-1)?.phase, 'Running');
    assert.deepEqual(fake.calls, [], 'no membership change');
  });

  it('goes on with a restore under way if its KVRestore is deleted; a new KVRestore of that name starts over', async () => {
    const { kube, reconciler } = running();
    await withStatefulSet(kube, 3);
    kube.restores.set('rollback', verifiedRestore());
    await reconciler.reconcile('ns/kv', log);
    kube.pods = [];
    kube.restores.delete('rollback');
    await reconciler.reconcile('ns/kv', log);
    assert.equal(kube.statuses.at(-1)?.restore?.phase, 'Restoring');
    assert.equal(kube.stsReplicas(), 3);
    kube.restores.set('rollback', verifiedRestore('87654321-bbbb'));
    await reconciler.reconcile('ns/kv', log);
    const s = kube.statuses.at(-1);
    assert.deepEqual(
      { phase: s?.restore?.phase, token: s?.restore?.token },
      { phase: 'Stopping', token: 'kv-restore-87654321' },
    );
    assert.equal(kube.stsReplicas(), 0);
  });
});
