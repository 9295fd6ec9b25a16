// Replacing a member whose data is lost (its claim replaced) or corrupt (it keeps failing on its data dir):
// removal while the others keep a quorum, the removed member's claim wiped, the name re-added as a learner
// on a fresh claim, and a bounded number of attempts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KVCluster, KVClusterStatus } from '../../../../operator/src/api/v1alpha1/index.js';
import { newOperatorLogger } from '../../../../operator/src/runtime/logger.js';
import { FakeKV, claim, cluster, harness, withStatefulSet, type FakeMember, type Harness } from './fakes.js';

const log = newOperatorLogger({ level: 'error' });

async function setup(kv: KVCluster, members: FakeMember[], pods: number[]): Promise<Harness> {
  const h = harness(kv, members, pods);
  await withStatefulSet(h.kube, 3);
  return h;
}

/** A status in which the operator saw every member healthy on claim `c-<ordinal>`. */
function recorded(fake: FakeKV, extra: Partial<KVClusterStatus> = {}): KVClusterStatus {
  return {
    phase: 'Running',
    members: fake.members.map((m) => ({
      name: `kv-${m.ordinal}`,
      id: m.id,
      isLearner: false,
      isLeader: false,
      healthy: true,
      dataClaimUID: `c-${m.ordinal}`,
    })),
    ...extra,
  };
}

const three: FakeMember[] = [{ ordinal: 0 }, { ordinal: 1 }, { ordinal: 2 }];

describe('member replacement', () => {
  it('records each healthy member claim, in the status and on the claim', async () => {
    const { kube, fake, reconciler } = await setup(
      cluster({ version: '0.1.0', replicas: 3 }),
      three,
      [0, 1, 2],
    );
    kube.claims = [claim(0, 'c-0'), claim(1, 'c-1'), claim(2, 'c-2')];
    await reconciler.reconcile('ns/kv', log);
    assert.deepEqual(
      kube.statuses.at(-1)?.members?.map((m) => m.dataClaimUID),
      ['c-0', 'c-1', 'c-2'],
    );
    assert.deepEqual(
      kube.claims.map((c) => c.metadata?.annotations?.['cairn.dev/member-id']),
      [fake.idOf(0), fake.idOf(1), fake.idOf(2)],
    );
    assert.deepEqual(fake.calls, []);
  });

  it('removes a member whose claim was replaced (its data is gone), marking the new claim stale first', async () => {
    const fake0 = new FakeKV(three);
    const kv = cluster({ version: '0.1.0', replicas: 3 }, recorded(fake0));
    const { kube, fake, reconciler, events } = await setup(kv, three, [0, 1, 2]);
    kube.claims = [claim(0, 'c-0'), claim(1, 'c-1-new'), claim(2, 'c-2')];
    const lost = fake.idOf(1);
    await reconciler.reconcile('ns/kv', log);
    assert.deepEqual(fake.calls, [`remove ${lost}`]);
    assert.equal(kube.claims[1]?.metadata?.annotations?.['cairn.dev/member-id'], lost);
    assert.ok(events.some((e) => /^MemberReplacing: kv-1 .*volume was replaced/.test(e)));
    const status = kube.statuses.at(-1);
    assert.equal(status?.phase, 'Replacing');
    assert.equal(status?.replacements?.[0]?.name, 'kv-1');
    assert.equal(status?.replacements?.[0]?.attempts, 1);
  });

  it('removes a member that keeps failing on a corrupt data dir', async () => {
    const { kube, fake, reconciler } = await setup(
      cluster({ version: '0.1.0', replicas: 3 }),
      [{ ordinal: 0 }, { ordinal: 1 }, { ordinal: 2, down: true }],
      [0, 1, 2],
    );
    const broken = kube.pods[2];
    assert.ok(broken?.status !== undefined);
    broken.status.containerStatuses = [
      {
        name: 'cairn',
        image: 'cairn',
        imageID: '',
        ready: false,
        restartCount: 3,
        state: { waiting: { reason: 'CrashLoopBackOff' } },
        lastState: {
          terminated: {
            exitCode: 1,
            message: 'cairn: data dir /var/lib/cairn/data is corrupt or unreadable: MDB_CORRUPTED',
          },
        },
      },
    ];
    const corrupt = fake.idOf(2);
    await reconciler.reconcile('ns/kv', log);
    assert.deepEqual(fake.calls, [`remove ${corrupt}`]);
  });

  it('wipes the claim of a removed member, then re-adds the name as a learner on a fresh claim', async () => {
    const { kube, fake, reconciler } = await setup(
      cluster({ version: '0.1.0', replicas: 3 }),
      [{ ordinal: 0 }, { ordinal: 1 }],
      [0, 1, 2],
    );
    kube.claims = [claim(0, 'c-0'), claim(1, 'c-1'), claim(2, 'c-2', 'deadbeefdeadbeef')];
    await reconciler.reconcile('ns/kv', log);
    assert.deepEqual(kube.deletedClaims, ['data-kv-2']);
    assert.deepEqual(kube.deletedPods, ['kv-2']);
    assert.deepEqual(fake.calls, [], 'no membership change while the stale data is still there');
    // The StatefulSet made a fresh claim and pod.
    kube.claims.push(claim(2, 'c-2-fresh'));
    await reconciler.reconcile('ns/kv', log);
    assert.deepEqual(fake.calls, ['addLearner http://kv-2.kv.ns.svc.cluster.local:2380']);
    assert.deepEqual(kube.deletedPods, ['kv-2', 'kv-2'], 'restarted to join at once');
    assert.equal(kube.configMap()?.['initial-cluster-state'], 'existing');
    assert.equal(kube.statuses.at(-1)?.phase, 'Replacing');
  });

  it('gives up after a few attempts and says so', async () => {
    const fake0 = new FakeKV(three);
    const kv = cluster(
      { version: '0.1.0', replicas: 3 },
      recorded(fake0, {
        replacements: [{ name: 'kv-1', attempts: 3, lastAttemptTime: '2026-11-21T00:00:00Z' }],
      }),
    );
    const { kube, fake, reconciler } = await setup(kv, three, [0, 1, 2]);
    kube.claims = [claim(0, 'c-0'), claim(1, 'c-1-new'), claim(2, 'c-2')];
    await reconciler.reconcile('ns/kv', log);
    assert.deepEqual(fake.calls, []);
    const degraded = kube.statuses.at(-1)?.conditions?.find((c) => c.type === 'Degraded');
    assert.equal(degraded?.reason, 'ReplacementGaveUp');
    assert.match(degraded?.message ?? '', /gave up replacing kv-1 after 3 attempts/);
  });

  it('does not replace a member when the others would not keep a quorum', async () => {
    const fake0 = new FakeKV(three);
    const kv = cluster({ version: '0.1.0', replicas: 3 }, recorded(fake0));
    const { kube, fake, reconciler } = await setup(
      kv,
      [{ ordinal: 0 }, { ordinal: 1 }, { ordinal: 2, down: true }],
      [0, 1, 2],
    );
    kube.claims = [claim(0, 'c-0'), claim(1, 'c-1-new'), claim(2, 'c-2')];
    await reconciler.reconcile('ns/kv', log);
    assert.deepEqual(fake.calls, []);
    assert.equal(
      kube.statuses.at(-1)?.conditions?.find((c) => c.type === 'Degraded')?.reason,
      'MembersUnhealthy',
    );
    assert.match(
      kube.statuses.at(-1)?.conditions?.find((c) => c.type === 'Degraded')?.message ?? '',
      /do not hold a quorum/,
    );
  });
});
