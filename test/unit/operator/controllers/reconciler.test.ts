// Each step of the KVCluster reconciler on fakes of the Kubernetes API and of the cluster: bootstrap,
// scale up through learners, promotion, scale down with MoveLeader first, the drift a crash between a Raft
// call and a Kubernetes call leaves behind, the health gate, the rolling update order, and the status.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KVCluster } from '../../../../operator/src/api/v1alpha1/index.js';
import { newOperatorLogger } from '../../../../operator/src/runtime/logger.js';
import { Crash, cluster, harness, pod, withStatefulSet } from './fakes.js';

const log = newOperatorLogger({ level: 'error' });

/** A healthy 3-member cluster whose pods are all at an old template revision; kv-0 leads. */
async function outdatedCluster(): Promise<ReturnType<typeof harness>> {
  const h = harness(
    cluster({ version: '0.1.0', replicas: 3 }),
    [{ ordinal: 0 }, { ordinal: 1 }, { ordinal: 2 }],
    [0, 1, 2],
  );
  await withStatefulSet(h.kube, 3);
  h.kube.updateRevision = 'rev-2';
  h.fake.leader = 0;
  return h;
}

describe('KVCluster reconciler', () => {
  it('bootstraps the seed alone with state new', async () => {
    const { kube, reconciler } = harness(cluster({ version: '0.1.0', replicas: 3 }), [], []);
    const result = await reconciler.reconcile('ns/kv', log);
    assert.equal(kube.stsReplicas(), 1);
    assert.deepEqual(kube.configMap(), {
      'initial-cluster': 'kv-0=http://kv-0.kv.ns.svc.cluster.local:2380',
      'initial-cluster-state': 'new',
    });
    assert.ok(kube.applied.has('Service/kv') && kube.applied.has('Service/kv-client'));
    assert.equal(kube.statuses.at(-1)?.phase, 'Bootstrapping');
    assert.ok((result.requeueAfterMs ?? 0) > 0);
  });

  it('adds the next member as a learner, then its pod, with the whole membership in the ConfigMap', async () => {
    const { kube, fake, reconciler } = harness(
      cluster({ version: '0.1.0', replicas: 3 }),
      [{ ordinal: 0 }],
      [0],
    );
    await withStatefulSet(kube, 1);
    await reconciler.reconcile('ns/kv', log);
    assert.deepEqual(fake.calls, ['addLearner http://kv-1.kv.ns.svc.cluster.local:2380']);
    assert.equal(kube.stsReplicas(), 2);
    assert.equal(kube.configMap()?.['initial-cluster-state'], 'existing');
    assert.match(
      kube.configMap()?.['initial-cluster'] ?? '',
      /^kv-0=.*,kv-1=http:\/\/kv-1\.kv\.ns\.svc\.cluster\.local:2380$/,
    );
    assert.equal(kube.statuses.at(-1)?.phase, 'Scaling');
  });

  it('creates the pod of a learner added just before a crash (after MemberAdd)', async () => {
    const { kube, fake, reconciler } = harness(
      cluster({ version: '0.1.0', replicas: 3 }),
      [{ ordinal: 0 }],
      [0],
      {
        crashAt: 'afterMemberAdd',
      },
    );
    await withStatefulSet(kube, 1);
    await assert.rejects(reconciler.reconcile('ns/kv', log), Crash);
    assert.equal(kube.stsReplicas(), 1, 'the crash came before the StatefulSet grew');
    // The next operator's pass: the learner exists without a pod → grow, no second MemberAdd.
    const next = harness(kube.kv as KVCluster, [], [0]);
    next.kube.applied = kube.applied;
    next.fake.members = fake.members;
    await next.reconciler.reconcile('ns/kv', log);
    assert.deepEqual(next.fake.calls, []);
    assert.equal(next.kube.stsReplicas(), 2);
  });

  it('promotes a learner once it has started, and waits while it catches up', async () => {
    const { kube, fake, reconciler } = harness(
      cluster({ version: '0.1.0', replicas: 2 }),
      [{ ordinal: 0 }, { ordinal: 1, isLearner: true }],
      [0, 1],
    );
    await withStatefulSet(kube, 2);
    fake.promoteRefusal = 'etcdserver: can only promote a learner member which is in sync with leader';
    await reconciler.reconcile('ns/kv', log);
    assert.deepEqual(fake.calls, [`promote ${fake.idOf(1)}`]);
    assert.equal(
      kube.statuses.at(-1)?.conditions?.find((c) => c.type === 'Progressing')?.reason,
      'LearnerCatchingUp',
    );
    fake.promoteRefusal = undefined;
    await reconciler.reconcile('ns/kv', log);
    assert.equal(fake.members.find((m) => m.ordinal === 1)?.isLearner, false);
  });

  it('does not promote a learner that has not started', async () => {
    const { kube, fake, reconciler } = harness(
      cluster({ version: '0.1.0', replicas: 2 }),
      [{ ordinal: 0 }, { ordinal: 1, isLearner: true, started: false }],
      [0, 1],
    );
    await withStatefulSet(kube, 2);
    await reconciler.reconcile('ns/kv', log);
    assert.deepEqual(fake.calls, [], 'no promote, and no other membership change while a learner is pending');
    assert.equal(kube.statuses.at(-1)?.phase, 'Scaling', 'waiting for the learner is still scaling');
    assert.equal(
      kube.statuses.at(-1)?.conditions?.find((c) => c.type === 'Progressing')?.reason,
      'LearnerCatchingUp',
    );
  });

  it('scales down from the highest ordinal, moving leadership away first', async () => {
    const { kube, fake, reconciler } = harness(
      cluster({ version: '0.1.0', replicas: 2 }),
      [{ ordinal: 0 }, { ordinal: 1 }, { ordinal: 2 }],
      [0, 1, 2],
    );
    await withStatefulSet(kube, 3);
    fake.leader = 2;
    await reconciler.reconcile('ns/kv', log);
    assert.deepEqual(
      fake.calls,
      [`moveLeader ${fake.idOf(0)}`],
      'the victim leads: move leadership, nothing else',
    );
    assert.equal(kube.stsReplicas(), 3);
    const victim = fake.idOf(2);
    await reconciler.reconcile('ns/kv', log);
    assert.deepEqual(fake.calls.slice(1), [`remove ${victim}`]);
    assert.equal(kube.stsReplicas(), 2);
  });

  it('scales away the pod of a member removed just before a crash (after MemberRemove)', async () => {
    const { kube, fake, reconciler } = harness(
      cluster({ version: '0.1.0', replicas: 2 }),
      [{ ordinal: 0 }, { ordinal: 1 }, { ordinal: 2 }],
      [0, 1, 2],
      {
        crashAt: 'afterMemberRemove',
      },
    );
    await withStatefulSet(kube, 3);
    await assert.rejects(reconciler.reconcile('ns/kv', log), Crash);
    assert.equal(kube.stsReplicas(), 3);
    const next = harness(kube.kv as KVCluster, [], [0, 1, 2]);
    next.kube.applied = kube.applied;
    next.fake.members = fake.members;
    await next.reconciler.reconcile('ns/kv', log);
    assert.deepEqual(next.fake.calls, [], 'no second MemberRemove');
    assert.equal(next.kube.stsReplicas(), 2);
  });

  it('changes no membership while a voter is unhealthy', async () => {
    const { kube, fake, reconciler } = harness(
      cluster({ version: '0.1.0', replicas: 5 }),
      [{ ordinal: 0 }, { ordinal: 1 }, { ordinal: 2, down: true }],
      [0, 1, 2],
    );
    await withStatefulSet(kube, 3);
    await reconciler.reconcile('ns/kv', log);
    assert.deepEqual(fake.calls, []);
    const status = kube.statuses.at(-1);
    assert.equal(status?.conditions?.find((c) => c.type === 'Degraded')?.status, 'True');
    assert.match(
      status?.conditions?.find((c) => c.type === 'Available')?.message ?? '',
      /^2\/3 voting members healthy/,
    );
    assert.equal(status?.conditions?.find((c) => c.type === 'Available')?.status, 'True');
  });

  it("reports a lost quorum from a member's own member list and changes nothing", async () => {
    const { kube, fake, reconciler } = harness(
      cluster({ version: '0.1.0', replicas: 3 }, { phase: 'Running' }),
      [{ ordinal: 0 }, { ordinal: 1, down: true }, { ordinal: 2, down: true }],
      [0, 1, 2, 3],
    );
    await withStatefulSet(kube, 4);
    fake.noQuorum = true;
    await reconciler.reconcile('ns/kv', log);
    assert.deepEqual(fake.calls, [], 'no membership change');
    assert.equal(kube.stsReplicas(), 4, 'the pod of a member missing from an unconfirmed list is kept');
    assert.deepEqual(kube.deletedPods, []);
    assert.deepEqual(kube.deletedClaims, []);
    const available = kube.statuses.at(-1)?.conditions?.find((c) => c.type === 'Available');
    assert.equal(available?.status, 'False');
    assert.equal(available?.reason, 'QuorumLost');
    assert.equal(kube.statuses.at(-1)?.phase, 'QuorumLost');
  });

  it('rolls outdated pods one at a time, followers first, the leader last after MoveLeader', async () => {
    const { kube, fake, reconciler } = await outdatedCluster();
    await reconciler.reconcile('ns/kv', log);
    assert.deepEqual(kube.deletedPods, ['kv-1'], 'a follower first, not the leader kv-0');
    kube.pods = [pod(0), pod(1, 'rev-2'), pod(2)];
    await reconciler.reconcile('ns/kv', log);
    assert.deepEqual(kube.deletedPods, ['kv-1', 'kv-2']);
    kube.pods = [pod(0), pod(1, 'rev-2'), pod(2, 'rev-2')];
    await reconciler.reconcile('ns/kv', log);
    assert.deepEqual(fake.calls, [`moveLeader ${fake.idOf(1)}`], 'the leader is last, after MoveLeader');
    assert.deepEqual(kube.deletedPods, ['kv-1', 'kv-2'], 'nothing restarted in the MoveLeader pass');
    await reconciler.reconcile('ns/kv', log);
    assert.deepEqual(kube.deletedPods, ['kv-1', 'kv-2', 'kv-0']);
    assert.equal(kube.statuses.at(-1)?.phase, 'Upgrading');
    // The last pod is being recreated: nothing is outdated any more, but the upgrade is not over.
    kube.pods = [pod(1, 'rev-2'), pod(2, 'rev-2')];
    await reconciler.reconcile('ns/kv', log);
    assert.equal(kube.statuses.at(-1)?.phase, 'Upgrading', 'still upgrading while kv-0 comes back');
    assert.equal(kube.statuses.at(-1)?.currentVersion, undefined, 'not every member runs it yet');
    kube.pods = [pod(0, 'rev-2'), pod(1, 'rev-2'), pod(2, 'rev-2')];
    await reconciler.reconcile('ns/kv', log);
    assert.equal(kube.statuses.at(-1)?.phase, 'Running');
    assert.equal(kube.statuses.at(-1)?.currentVersion, '0.1.0');
  });

  it('restarts the next pod only once the restarted one is Ready (the kubelet), not only answering', async () => {
    const { kube, reconciler } = await outdatedCluster();
    await reconciler.reconcile('ns/kv', log);
    assert.deepEqual(kube.deletedPods, ['kv-1']);
    // kv-1 is back and its member answers, but its readiness probe has not passed yet.
    const restarted = pod(1, 'rev-2');
    restarted.status = { ...restarted.status, conditions: [{ type: 'Ready', status: 'False' }] };
    kube.pods = [pod(0), restarted, pod(2)];
    await reconciler.reconcile('ns/kv', log);
    assert.deepEqual(kube.deletedPods, ['kv-1'], 'kv-2 waits for kv-1 to be Ready');
    assert.equal(kube.statuses.at(-1)?.phase, 'Upgrading');
    restarted.status.conditions = [{ type: 'Ready', status: 'True' }];
    await reconciler.reconcile('ns/kv', log);
    assert.deepEqual(kube.deletedPods, ['kv-1', 'kv-2']);
  });

  it('restarts the next pod only when every member has caught up with the leader', async () => {
    const { kube, fake, reconciler } = harness(
      cluster({ version: '0.1.0', replicas: 3 }),
      [
        { ordinal: 0, applied: 5_000 },
        { ordinal: 1, applied: 3_000 },
        { ordinal: 2, applied: 5_000 },
      ],
      [0, 1, 2],
    );
    await withStatefulSet(kube, 3);
    kube.updateRevision = 'rev-2';
    kube.pods = [pod(0), pod(1, 'rev-2'), pod(2)];
    fake.leader = 0;
    await reconciler.reconcile('ns/kv', log);
    assert.deepEqual(kube.deletedPods, [], 'kv-1 restarted and is 2000 entries behind: wait');
    assert.equal(kube.statuses.at(-1)?.phase, 'Upgrading', 'the upgrade is still under way');
    const member1 = fake.members.find((m) => m.ordinal === 1);
    if (member1 !== undefined) member1.applied = 4_990;
    await reconciler.reconcile('ns/kv', log);
    assert.deepEqual(kube.deletedPods, ['kv-2'], 'caught up: the next follower restarts');
  });

  it('holds back a version change that skips a minor version, and says why', async () => {
    const { kube, events, reconciler } = harness(
      cluster({ version: '0.3.0', replicas: 1 }, { currentVersion: '0.1.0' }),
      [{ ordinal: 0 }],
      [0],
    );
    await withStatefulSet(kube, 1);
    await reconciler.reconcile('ns/kv', log);
    const sts = kube.applied.get('StatefulSet/kv') as {
      spec: { template: { spec: { containers: { image: string }[] } } };
    };
    assert.equal(sts.spec.template.spec.containers[0]?.image, 'ghcr.io/cairn-dev/cairn:0.1.0');
    assert.ok(events.some((e) => /^UpgradeRefused: .*skips a minor version/.test(e)));
    assert.equal(
      kube.statuses.at(-1)?.conditions?.find((c) => c.type === 'Degraded')?.reason,
      'UpgradeRefused',
    );
  });

  it('warns about an even size (event and Degraded condition) and reports the members, leader and roles', async () => {
    const { kube, events, reconciler } = harness(
      cluster({ version: '0.1.0', replicas: 2 }),
      [{ ordinal: 0 }, { ordinal: 1 }],
      [0, 1],
    );
    await withStatefulSet(kube, 2);
    await reconciler.reconcile('ns/kv', log);
    assert.ok(
      events.some((e) => e.startsWith('EvenSize: 2 voting members tolerate no more failures than 1')),
    );
    const status = kube.statuses.at(-1);
    assert.equal(status?.conditions?.find((c) => c.type === 'Degraded')?.reason, 'EvenSize');
    assert.equal(status?.conditions?.find((c) => c.type === 'Available')?.status, 'True');
    assert.equal(status?.readyReplicas, 2);
    assert.equal(status?.leader, 'kv-0');
    assert.equal(status?.clusterID, '00000000000000c1');
    assert.deepEqual(
      status?.members?.map((m) => [m.name, m.isLeader, m.healthy]),
      [
        ['kv-0', true, true],
        ['kv-1', false, true],
      ],
    );
    assert.deepEqual(
      kube.pods.map((p) => p.metadata?.labels?.['cairn.dev/role']),
      ['voter', 'voter'],
    );
  });
});
