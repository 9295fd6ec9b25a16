// The operator through a KVCluster's life (issue 7), on the real environment: of the two operator
// replicas only the Lease holder reconciles, and the other takes over when it goes; a version upgrade
// restarts the members one at a time, the leader last, under a running workload that loses no write;
// a lost quorum is reported and nothing is changed until it returns; volumes grow with storage.size;
// deleting a KVCluster removes what
// it owns and keeps or deletes the volumes as its retention policy says.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import {
  apply,
  containerPid,
  createNamespace,
  deleteNamespace,
  eventsOf,
  getJson,
  isReady,
  kubectl,
  listPods,
  waitFor,
  type EventJson,
  type PodJson,
} from '../framework/kube.js';
import {
  OPERATOR_NAMESPACE,
  clientEndpoint,
  condition,
  deployOperator,
  getCluster,
  kvClusterManifest,
  removeOperator,
  settle,
  type KVClusterJson,
} from '../framework/operator.js';
import { lostWrites, startWriter } from '../framework/workload.js';

const NS = 'e2e-lifecycle';
const MEMBERS = 'app.kubernetes.io/instance=kv';

interface LeaseJson {
  spec: { holderIdentity?: string; leaseTransitions?: number };
}

/** How many times events with these reasons were recorded (an Event repeated counts its repeats). */
function occurrences(events: readonly EventJson[], reasons: RegExp): number {
  return events
    .filter((e) => reasons.test(e.reason))
    .reduce((n, e) => n + Math.max(e.count ?? 1, e.series?.count ?? 1), 0);
}

const clusterEvents = (name: string): Promise<EventJson[]> => eventsOf(NS, name, 'KVCluster');

/** The operator pod holding the leader-election Lease (its identity is `<pod>_<pid>`). */
async function leaseHolder(): Promise<string | undefined> {
  const lease = await getJson<LeaseJson>(['get', 'lease', 'cairn-operator', '-n', OPERATOR_NAMESPACE]);
  return lease.spec.holderIdentity?.split('_')[0];
}

/** Sum of a metric's samples in a Prometheus text page. */
function metricSum(page: string, name: string): number {
  let sum = 0;
  for (const line of page.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.split(' ').at(-1));
  }
  return sum;
}

async function operatorMetrics(pod: PodJson): Promise<string> {
  const res = await fetch(`http://${pod.status.podIP ?? ''}:8080/metrics`);
  return res.text();
}

/** A merge patch of kv's spec. */
async function patchSpec(spec: string): Promise<void> {
  await kubectl(['patch', 'kvcluster', 'kv', '-n', NS, '--type=merge', '-p', `{"spec":${spec}}`]);
}

async function memberPods(): Promise<PodJson[]> {
  return (await listPods(NS, MEMBERS)).filter((p) => /^kv-\d+$/.test(p.metadata.name));
}

describe('the operator through a KVCluster life', () => {
  before(async () => {
    await deployOperator();
    await createNamespace(NS);
    await apply(NS, kvClusterManifest('kv', { version: '0.1.0', replicas: 3 }));
    // A one-member cluster whose volumes go with it, for the deletion test at the end.
    await apply(
      NS,
      kvClusterManifest('solo', {
        version: '0.1.0',
        replicas: 1,
        storage: { retentionPolicy: { whenDeleted: 'Delete' } },
      }),
    );
    await settle(NS, 'kv', 3, 240_000);
    await settle(NS, 'solo', 1, 120_000);
  });
  after(async () => {
    await deleteNamespace(NS);
    await removeOperator();
  });

  it('has one operator replica act (the Lease holder); the other takes over when it goes', async () => {
    const holder = await waitFor('a Lease holder', leaseHolder, 30_000);
    const pods = await listPods(OPERATOR_NAMESPACE, 'app=cairn-operator');
    assert.equal(pods.length, 2);
    const leader = pods.find((p) => p.metadata.name === holder);
    const standby = pods.find((p) => p.metadata.name !== holder);
    assert.ok(leader !== undefined && standby !== undefined, `holder ${holder ?? ''} is one of the replicas`);
    const [leaderPage, standbyPage] = await Promise.all([operatorMetrics(leader), operatorMetrics(standby)]);
    assert.equal(metricSum(leaderPage, 'cairn_operator_leader'), 1);
    assert.ok(metricSum(leaderPage, 'cairn_operator_reconcile_total') > 0, 'the leader reconciles');
    assert.equal(metricSum(standbyPage, 'cairn_operator_leader'), 0);
    assert.equal(metricSum(standbyPage, 'cairn_operator_reconcile_total'), 0, 'the standby never reconciles');
    assert.ok(isReady(standby), 'a standby is Ready: it can take over');

    // The leader goes (SIGTERM releases the Lease); another replica (the standby, or the Deployment's
    // replacement if it is quicker) takes over and reconciles.
    await kubectl(['delete', 'pod', leader.metadata.name, '-n', OPERATOR_NAMESPACE, '--wait=false']);
    const next = await waitFor(
      'a new Lease holder',
      async () => {
        const h = await leaseHolder();
        return h !== undefined && h !== '' && h !== leader.metadata.name ? h : undefined;
      },
      30_000,
    );
    await waitFor(
      `${next} reconciling`,
      async () => {
        const pod = (await listPods(OPERATOR_NAMESPACE, 'app=cairn-operator')).find(
          (p) => p.metadata.name === next,
        );
        if (pod === undefined) return undefined;
        const page = await operatorMetrics(pod);
        return metricSum(page, 'cairn_operator_leader') === 1 &&
          metricSum(page, 'cairn_operator_reconcile_total') > 0
          ? true
          : undefined;
      },
      60_000,
    );
    await kubectl(
      ['rollout', 'status', 'deployment/cairn-operator', '-n', OPERATOR_NAMESPACE, '--timeout=120s'],
      {
        timeoutMs: 130_000,
      },
    );
  });

  it('upgrades the version one member at a time, the leader last, losing no write of a running workload', async () => {
    const start = await getCluster(NS, 'kv');
    const firstLeader = start.status?.leader;
    assert.ok(firstLeader !== undefined);
    const uids = new Map((await memberPods()).map((p) => [p.metadata.name, p.metadata.uid]));
    const endpoint = await clientEndpoint(NS, 'kv');
    const writer = startWriter(endpoint, 'upgrade/', { maxWrites: 20_000, maxMs: 600_000 });

    await patchSpec('{"version":"0.2.0"}');
    const restarted: string[] = [];
    let mostDown = 0;
    const phases: string[] = [];
    let done: KVClusterJson;
    try {
      done = await waitFor(
        'every member restarted at 0.2.0 and the cluster settled',
        async () => {
          const pods = await memberPods();
          for (const p of pods) {
            if (uids.get(p.metadata.name) !== p.metadata.uid && !restarted.includes(p.metadata.name))
              restarted.push(p.metadata.name);
          }
          mostDown = Math.max(mostDown, 3 - pods.filter(isReady).length);
          const kv = await getCluster(NS, 'kv');
          const phase = kv.status?.phase ?? '';
          if (phases.at(-1) !== phase) phases.push(phase);
          const settled =
            restarted.length === 3 &&
            kv.status?.currentVersion === '0.2.0' &&
            kv.status.phase === 'Running' &&
            kv.status.members?.every((m) => m.healthy && !m.isLearner) === true;
          return settled ? kv : undefined;
        },
        480_000,
        250,
      );
    } finally {
      const result = await writer.stop();
      // Every acknowledged write is there.
      assert.deepEqual(await lostWrites(endpoint, 'upgrade/', result.acked), []);
      assert.ok(result.acked > 0);
      console.log(
        `upgrade workload: ${result.acked} writes acknowledged, ${result.failedAttempts} attempts retried, ` +
          `longest gap ${result.longestGapMs} ms; restart order ${restarted.join(' → ')}; phases ${phases.join(' → ')}`,
      );
    }
    assert.equal(restarted.at(-1), firstLeader, `the leader ${firstLeader} restarts last`);
    assert.equal(mostDown, 1, 'one member at a time');
    assert.equal(done.status?.members?.length, 3);
    const images = (await memberPods()).map(
      (p) => (p as PodJson & { spec: { containers: { image: string }[] } }).spec.containers[0]?.image,
    );
    assert.ok(
      images.every((i) => i?.endsWith(':0.2.0')),
      images.join(','),
    );
    // While the upgrade ran the phase said so, and did not fall back to Running in between.
    const upgrading = phases.indexOf('Upgrading');
    assert.ok(upgrading >= 0, phases.join(' → '));
    assert.deepEqual(phases.slice(upgrading), ['Upgrading', 'Running'], phases.join(' → '));
    const events = await clusterEvents('kv');
    assert.ok(
      events.some((e) => e.reason === 'LeaderMoved'),
      'leadership moved before the leader restarted',
    );
    assert.equal(events.filter((e) => e.reason === 'MemberRestarted').length, 3);
  });

  it('reports a lost quorum and changes nothing until it returns', async () => {
    const membershipEvents = /^(Member(Removed|Replacing|Added|Restarted|DataWiped)|LeaderMoved)$/;
    const pods = await memberPods();
    const before = await getCluster(NS, 'kv');
    const ids = before.status?.members?.map((m) => m.id).sort();
    const leader = before.status?.leader;
    const changesBefore = occurrences(await clusterEvents('kv'), membershipEvents);
    // Stop two followers' processes: their pods stay, their members stop answering.
    const stopped = pods.filter((p) => p.metadata.name !== leader).map((p) => containerPid(p, 'cairn'));
    assert.equal(stopped.length, 2);
    const pids = stopped.filter((pid): pid is number => pid !== undefined);
    assert.equal(pids.length, 2, 'both container PIDs known');
    try {
      for (const pid of pids) process.kill(pid, 'SIGSTOP');
      const lost = await waitFor(
        'Available=False, QuorumLost',
        async () => {
          const kv = await getCluster(NS, 'kv');
          const c = condition(kv, 'Available');
          return c?.status === 'False' && c.reason === 'QuorumLost' ? kv : undefined;
        },
        90_000,
      );
      assert.equal(lost.status?.phase, 'QuorumLost');
      // The member left running answers, but without a quorum it soon has no leader either.
      assert.match(condition(lost, 'Available')?.message ?? '', /^[01]\/3 voting members healthy/);
      // Several operator passes later nothing has been changed.
      await sleep(20_000);
      const still = await getCluster(NS, 'kv');
      assert.equal(condition(still, 'Available')?.reason, 'QuorumLost');
      assert.deepEqual(still.status?.members?.map((m) => m.id).sort(), ids, 'no membership change');
      assert.deepEqual(
        (await memberPods()).map((p) => p.metadata.uid).sort(),
        pods.map((p) => p.metadata.uid).sort(),
        'no pod deleted',
      );
    } finally {
      for (const pid of pids) process.kill(pid, 'SIGCONT');
    }
    const { kv } = await settle(NS, 'kv', 3, 120_000);
    assert.deepEqual(kv.status?.members?.map((m) => m.id).sort(), ids);
    assert.equal(
      occurrences(await clusterEvents('kv'), membershipEvents),
      changesBefore,
      'no membership change',
    );
  });

  it('grows every member volume when storage.size grows, without restarting a member', async () => {
    const uids = (await memberPods()).map((p) => p.metadata.uid).sort();
    await patchSpec('{"storage":{"size":"3Gi"}}');
    await waitFor(
      'data-kv-0..2 at 3Gi',
      async () => {
        const claims = await getJson<{
          items: {
            spec: { resources: { requests: { storage: string } } };
            status: { capacity?: { storage: string } };
          }[];
        }>(['get', 'pvc', '-n', NS, '-l', MEMBERS]);
        const grown = claims.items.filter(
          (c) => c.spec.resources.requests.storage === '3Gi' && c.status.capacity?.storage === '3Gi',
        );
        return grown.length === 3 ? true : undefined;
      },
      60_000,
    );
    assert.deepEqual((await memberPods()).map((p) => p.metadata.uid).sort(), uids, 'no member restarted');
    const events = await clusterEvents('kv');
    const expanding = events.filter((e) => e.reason === 'VolumeExpanding').map((e) => e.message);
    assert.deepEqual(
      [...new Set(expanding)].sort(),
      [0, 1, 2].map((i) => `data-kv-${i}: 2Gi → 3Gi`),
    );
    await settle(NS, 'kv', 3, 60_000);
  });

  it('puts back an owned object deleted by hand at once (it watches them)', async () => {
    const uid = async (kind: string, name: string): Promise<string> =>
      (
        await kubectl(['get', kind, name, '-n', NS, '--ignore-not-found', '-o', 'jsonpath={.metadata.uid}'])
      ).trim();
    for (const [kind, name] of [
      ['service', 'kv-client'],
      ['poddisruptionbudget', 'kv'],
    ] as const) {
      const before = await uid(kind, name);
      await kubectl(['delete', kind, name, '-n', NS, '--wait=true']);
      // Well within the 30 s the operator waits between passes over a settled cluster.
      await waitFor(
        `${kind}/${name} recreated`,
        async () => {
          const now = await uid(kind, name);
          return now !== '' && now !== before ? true : undefined;
        },
        10_000,
        250,
      );
    }
  });

  it('deleting a KVCluster removes what it owns; its volumes stay or go as retentionPolicy.whenDeleted says', async () => {
    const owned = (name: string): string[] => [
      `statefulset/${name}`,
      `service/${name}`,
      `service/${name}-client`,
      `poddisruptionbudget/${name}`,
      `configmap/${name}-bootstrap`,
    ];
    const claimsOf = async (name: string): Promise<string[]> =>
      (await kubectl(['get', 'pvc', '-n', NS, '-l', `app.kubernetes.io/instance=${name}`, '-o', 'name']))
        .trim()
        .split('\n')
        .filter((l) => l !== '');
    assert.equal((await claimsOf('kv')).length, 3);
    assert.equal((await claimsOf('solo')).length, 1);
    await kubectl(['delete', 'kvcluster', 'kv', 'solo', '-n', NS, '--wait=true', '--timeout=60s']);
    for (const name of ['kv', 'solo']) {
      await waitFor(
        `${name}'s objects and pods gone`,
        async () => {
          const left = await kubectl(['get', ...owned(name), '-n', NS, '--ignore-not-found', '-o', 'name']);
          const pods = (await listPods(NS, `app.kubernetes.io/instance=${name}`)).length;
          return left.trim() === '' && pods === 0 ? true : undefined;
        },
        120_000,
      );
    }
    assert.deepEqual((await claimsOf('kv')).sort(), [
      'persistentvolumeclaim/data-kv-0',
      'persistentvolumeclaim/data-kv-1',
      'persistentvolumeclaim/data-kv-2',
    ]);
    await waitFor(
      "solo's claim deleted",
      async () => ((await claimsOf('solo')).length === 0 ? true : undefined),
      60_000,
    );
  });
});
