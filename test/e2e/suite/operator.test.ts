// The operator on the real environment (issue 7): the cairn-operator image runs as a Deployment of two
// replicas (one leads), a KVCluster becomes an Available 3-member cluster that takes writes through its
// client Service, scales 3 → 5 through learners and back to 3, and a deleted pod comes back as the same
// member.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  apply,
  createNamespace,
  deleteNamespace,
  getJson,
  kubectl,
  runPod,
  waitFor,
} from '../framework/kube.js';
import {
  available,
  deployOperator,
  getCluster as getKVCluster,
  kvClusterManifest,
  operatorRolledOut,
  removeOperator,
  settle as settleCluster,
  type KVClusterJson,
} from '../framework/operator.js';

const NS = 'e2e-operator';

function getCluster(): Promise<KVClusterJson> {
  return getKVCluster(NS, 'kv');
}

function settle(voters: number, timeoutMs: number): ReturnType<typeof settleCluster> {
  return settleCluster(NS, 'kv', voters, timeoutMs);
}

describe('the operator runs a KVCluster', () => {
  before(async () => {
    await deployOperator();
    await createNamespace(NS);
  });
  after(async () => {
    await deleteNamespace(NS);
    await removeOperator();
  });

  it('bootstraps an Available 3-member cluster that takes writes through its client Service', async () => {
    await apply(NS, kvClusterManifest('kv', { version: '0.1.0', replicas: 3 }));
    const { kv, learnersSeen } = await settle(3, 180_000);
    assert.ok(learnersSeen.has('kv-1') || learnersSeen.has('kv-2'), 'members joined as learners');
    assert.equal(kv.status?.phase, 'Running');
    assert.match(
      kv.status?.conditions?.find((c) => c.type === 'Available')?.message ?? '',
      /^3\/3 voting members healthy/,
    );
    assert.equal(kv.status?.members?.filter((m) => m.isLeader).length, 1);
    const log = await runPod(
      NS,
      'writer',
      'cairnctl',
      [
        'set -e',
        'for i in $(seq 1 20); do cairnctl --endpoints=http://kv-client:2379 put key-$i value-$i >/dev/null; done',
        `echo "count $(cairnctl --endpoints=http://kv-client:2379 get key- --prefix --count-only -w fields | grep '"Count"' | cut -d: -f2)"`,
      ].join('\n'),
      120_000,
    );
    assert.match(log, /^count\s+20$/m);
  });

  it('scales 3 → 5 through learners and back to 3, leaving no learner and no extra pod', async () => {
    await kubectl(['scale', 'kvcluster', 'kv', '-n', NS, '--replicas=5']);
    const up = await settle(5, 180_000);
    assert.ok(
      up.learnersSeen.has('kv-3') || up.learnersSeen.has('kv-4'),
      `learners seen: ${[...up.learnersSeen].join(',')}`,
    );
    await kubectl(['scale', 'kvcluster', 'kv', '-n', NS, '--replicas=3']);
    const down = await settle(3, 180_000);
    assert.deepEqual(down.kv.status?.members?.map((m) => m.name).sort(), ['kv-0', 'kv-1', 'kv-2']);
    await waitFor(
      'pods kv-3 and kv-4 gone',
      async () =>
        (await kubectl(['get', 'pods', '-n', NS, '-l', 'app.kubernetes.io/instance=kv', '-o', 'name']))
          .trim()
          .split('\n').length === 3
          ? true
          : undefined,
      60_000,
    );
    // Their claims go with them (retentionPolicy.whenScaled defaults to Delete).
    await waitFor(
      'claims of kv-3 and kv-4 deleted',
      async () => {
        const claims = (await kubectl(['get', 'pvc', '-n', NS, '-o', 'name'])).trim().split('\n');
        return claims.some((c) => /data-kv-[34]$/.test(c)) ? undefined : true;
      },
      60_000,
    );
  });

  it('brings a deleted pod back as the same member', async () => {
    const before = await getCluster();
    const id = before.status?.members?.find((m) => m.name === 'kv-1')?.id;
    assert.ok(id !== undefined);
    const oldUid = (await kubectl(['get', 'pod', 'kv-1', '-n', NS, '-o', 'jsonpath={.metadata.uid}'])).trim();
    await kubectl(['delete', 'pod', 'kv-1', '-n', NS, '--wait=true', '--timeout=60s']);
    await waitFor(
      'a new kv-1 pod, Ready',
      async () => {
        const pod = await getJson<{
          metadata: { uid: string };
          status: { conditions?: { type: string; status: string }[] };
        }>(['get', 'pod', 'kv-1', '-n', NS]);
        const ready = pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
        return pod.metadata.uid !== oldUid && ready ? true : undefined;
      },
      120_000,
    );
    const { kv } = await settle(3, 120_000);
    assert.equal(kv.status?.members?.find((m) => m.name === 'kv-1')?.id, id, 'the same member id');
  });

  it('replaces a member whose volume was deleted with its pod: a new member joins as a learner', async () => {
    const before = await getCluster();
    const oldId = before.status?.members?.find((m) => m.name === 'kv-2')?.id;
    assert.ok(oldId !== undefined);
    // The claim stays until its pod is gone (pvc-protection); the StatefulSet then makes a new, empty one.
    await kubectl(['delete', 'pvc', 'data-kv-2', '-n', NS, '--wait=false']);
    await kubectl(['delete', 'pod', 'kv-2', '-n', NS, '--wait=true', '--timeout=60s']);
    const learnersSeen = new Set<string>();
    const replaced = await waitFor(
      'kv-2 back as a new, healthy voter',
      async () => {
        const got = await getCluster();
        for (const m of got.status?.members ?? []) if (m.isLearner) learnersSeen.add(m.name);
        const kv2 = got.status?.members?.find((m) => m.name === 'kv-2');
        const settled =
          available(got) &&
          got.status?.members?.length === 3 &&
          got.status.members.every((m) => !m.isLearner && m.healthy) &&
          kv2?.id !== undefined &&
          kv2.id !== oldId;
        return settled ? got : undefined;
      },
      300_000,
      500,
    );
    assert.ok(learnersSeen.has('kv-2'), 'the new member joined as a learner');
    assert.equal(replaced.status?.replacements?.find((r) => r.name === 'kv-2')?.attempts, 1);
    const log = await runPod(
      NS,
      'reader',
      'cairnctl',
      `echo "count $(cairnctl --endpoints=http://kv-2.kv:2379 get key- --prefix --count-only -w fields | grep '"Count"' | cut -d: -f2)"`,
      60_000,
    );
    assert.match(log, /^count\s+20$/m, 'the new member has every key');
  });

  it('repairs what an operator killed right after MemberAdd and right after MemberRemove left behind', async () => {
    const restarts = async (): Promise<number> => {
      const pods = await getJson<{ items: { status: { containerStatuses?: { restartCount: number }[] } }[] }>(
        ['get', 'pods', '-n', 'cairn-system', '-l', 'app=cairn-operator'],
      );
      return pods.items.reduce((n, p) => n + (p.status.containerStatuses?.[0]?.restartCount ?? 0), 0);
    };
    const setFailpoints = async (value: string): Promise<void> => {
      await kubectl([
        'set',
        'env',
        'deployment/cairn-operator',
        '-n',
        'cairn-system',
        `CAIRN_OPERATOR_FAILPOINTS=${value}`,
      ]);
      await operatorRolledOut();
    };
    // Every MemberAdd kills the leading operator before it grows the StatefulSet; the next leader must
    // create the learner's pod instead of adding another member.
    await setFailpoints('afterMemberAdd');
    const before = await restarts();
    await kubectl(['scale', 'kvcluster', 'kv', '-n', NS, '--replicas=4']);
    const up = await settle(4, 300_000);
    assert.deepEqual(up.kv.status?.members?.map((m) => m.name).sort(), ['kv-0', 'kv-1', 'kv-2', 'kv-3']);
    assert.ok((await restarts()) > before, 'an operator died at the failpoint');
    // Every MemberRemove kills it before the StatefulSet shrinks.
    await setFailpoints('afterMemberRemove');
    const beforeRemove = await restarts();
    await kubectl(['scale', 'kvcluster', 'kv', '-n', NS, '--replicas=3']);
    const down = await settle(3, 300_000);
    assert.deepEqual(down.kv.status?.members?.map((m) => m.name).sort(), ['kv-0', 'kv-1', 'kv-2']);
    assert.ok((await restarts()) > beforeRemove, 'an operator died at the failpoint');
    await waitFor(
      'pod kv-3 gone',
      async () =>
        (await kubectl(['get', 'pod', 'kv-3', '-n', NS, '--ignore-not-found'])).trim() === ''
          ? true
          : undefined,
      120_000,
    );
    await setFailpoints('');
  });
});
