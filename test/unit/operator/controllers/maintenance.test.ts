// spec.maintenance in the KVCluster reconciler: the CronJobs it keeps (and removes), a bad schedule reported
// instead of applied, a finished defragmentation's result recorded once with an Event, and NOSPACE:
// reported, or recovered by one Job per episode that is not repeated when it could not help.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1CronJob, V1Job, V1Pod } from '@kubernetes/client-node';
import type { KVCluster, KVClusterSpec } from '../../../../operator/src/api/v1alpha1/index.js';
import { newOperatorLogger } from '../../../../operator/src/runtime/logger.js';
import { cluster, harness, withStatefulSet, type Harness } from './fakes.js';

const log = newOperatorLogger({ level: 'error' });
const MEMBERS = [{ ordinal: 0 }, { ordinal: 1 }, { ordinal: 2 }];

async function running(spec: Partial<KVClusterSpec>): Promise<Harness> {
  const h = harness(cluster({ version: '0.1.0', replicas: 3, ...spec }), MEMBERS, [0, 1, 2]);
  await withStatefulSet(h.kube, 3);
  return h;
}

function cronJob(h: Harness, name: string): V1CronJob {
  const c = h.kube.applied.get(`CronJob/${name}`);
  assert.ok(c !== undefined, `CronJob ${name} applied`);
  return c;
}

/** A Job of a maintenance kind that ended, with one pod whose termination message is `message`. */
function finishedJob(h: Harness, name: string, kind: string, ok: boolean, message: string): void {
  const job: V1Job = {
    metadata: {
      name,
      labels: { 'app.kubernetes.io/instance': 'kv', 'cairn.dev/maintenance': kind },
      creationTimestamp: new Date('2026-11-22T03:00:00Z'),
    },
    status: ok
      ? {
          succeeded: 1,
          completionTime: new Date('2026-11-22T03:00:20Z'),
          conditions: [{ type: 'Complete', status: 'True' }],
        }
      : { failed: 1, conditions: [{ type: 'Failed', status: 'True', message: 'BackoffLimitExceeded' }] },
  };
  const pod: V1Pod = {
    metadata: { name: `${name}-x` },
    status: {
      containerStatuses: [
        {
          name: kind,
          image: '',
          imageID: '',
          ready: false,
          restartCount: 0,
          state: {
            terminated: { exitCode: ok ? 0 : 1, message, finishedAt: new Date('2026-11-22T03:00:20Z') },
          },
        },
      ],
    },
  };
  h.kube.jobs = [...h.kube.jobs.filter((j) => j.metadata?.name !== name), job];
  h.kube.jobPods.set(name, [pod]);
}

const DEFRAG_RESULT = JSON.stringify({
  startTime: '2026-11-22T03:00:01Z',
  completionTime: '2026-11-22T03:00:19Z',
  members: [
    {
      name: 'kv-1',
      leader: false,
      defragmented: true,
      dbSizeBefore: 41943040,
      dbSizeAfter: 1258291,
      seconds: 2.5,
    },
    { name: 'kv-2', leader: false, defragmented: false, skipped: 'rule false' },
    {
      name: 'kv-0',
      leader: true,
      defragmented: true,
      dbSizeBefore: 41943040,
      dbSizeAfter: 1310720,
      seconds: 2.1,
    },
  ],
  disarmed: [],
});

describe('KVCluster maintenance', () => {
  it('keeps a defrag and a compaction CronJob as the spec says, and removes one whose section goes', async () => {
    const h = await running({
      maintenance: {
        defrag: {
          schedule: '0 3 * * *',
          timeZone: 'Europe/Berlin',
          rule: 'dbSizeFree > 64*1024*1024',
          memberTimeout: '2m',
        },
        compaction: { schedule: '@hourly', keepRevisions: 5000, physical: true },
      },
    });
    await h.reconciler.reconcile('ns/kv', log);
    const defrag = cronJob(h, 'kv-defrag');
    assert.equal(defrag.spec?.schedule, '0 3 * * *');
    assert.equal(defrag.spec?.timeZone, 'Europe/Berlin');
    assert.equal(defrag.spec?.concurrencyPolicy, 'Forbid', 'never two runs at once');
    const c = defrag.spec?.jobTemplate.spec?.template.spec?.containers[0];
    assert.equal(c?.image, 'ghcr.io/cairn-dev/cairn:0.1.0');
    assert.deepEqual(c?.command, ['cairnctl']);
    assert.deepEqual(c?.args, [
      '--endpoints=http://kv-client.ns.svc.cluster.local:2379',
      'defrag',
      '--cluster',
      '--safe',
      '--defrag-rule=dbSizeFree > 64*1024*1024',
      '--member-timeout=2m',
      '--max-lag=1000',
      '--quota-backend-bytes=2147483648',
      '--disarm-nospace',
      '--result-file=/dev/termination-log',
    ]);
    // Its pods must never look like members to the StatefulSet's selector (app.kubernetes.io/name=cairn).
    assert.equal(
      defrag.spec?.jobTemplate.spec?.template.metadata?.labels?.['app.kubernetes.io/name'],
      'cairn-maintenance',
    );
    const compaction = cronJob(h, 'kv-compaction');
    assert.deepEqual(compaction.spec?.jobTemplate.spec?.template.spec?.containers[0]?.args, [
      '--endpoints=http://kv-client.ns.svc.cluster.local:2379',
      'compaction',
      '--keep-revisions=5000',
      '--physical',
    ]);
    const kv = h.kube.kv as KVCluster;
    await h.reconciler.reconcile('ns/kv', log);
    assert.deepEqual(h.kube.deleted, [], 'an unchanged spec deletes nothing');
    // The API server bumps the generation on a spec change.
    kv.spec = { ...kv.spec, maintenance: { compaction: { schedule: '@hourly', keepRevisions: 5000 } } };
    kv.metadata.generation = 2;
    await h.reconciler.reconcile('ns/kv', log);
    assert.deepEqual(h.kube.deleted, ['CronJob/kv-defrag']);
    assert.ok(h.kube.applied.has('CronJob/kv-compaction'));
    await h.reconciler.reconcile('ns/kv', log);
    assert.deepEqual(h.kube.deleted, ['CronJob/kv-defrag'], 'deleted once, on the new generation');
  });

  it('reports a bad schedule instead of applying it', async () => {
    const h = await running({ maintenance: { defrag: { schedule: '0 3 * *' } } });
    await h.reconciler.reconcile('ns/kv', log);
    assert.ok(!h.kube.applied.has('CronJob/kv-defrag'));
    const degraded = h.kube.statuses.at(-1)?.conditions?.find((c) => c.type === 'Degraded');
    assert.equal(degraded?.reason, 'InvalidMaintenanceSchedule');
    assert.match(
      degraded?.message ?? '',
      /spec\.maintenance\.defrag: invalid schedule "0 3 \* \*": expected 5 fields/,
    );
  });

  it('records a finished defragmentation once: each member in order, sizes, an Event', async () => {
    const h = await running({ maintenance: { defrag: { schedule: '0 3 * * *' } } });
    finishedJob(h, 'kv-defrag-29000000', 'defrag', true, DEFRAG_RESULT);
    await h.reconciler.reconcile('ns/kv', log);
    const last = h.kube.statuses.at(-1)?.maintenance?.lastDefrag;
    assert.equal(last?.jobName, 'kv-defrag-29000000');
    assert.equal(last?.succeeded, true);
    assert.deepEqual(
      last?.members?.map((m) => [m.name, m.defragmented, m.leader]),
      [
        ['kv-1', true, false],
        ['kv-2', false, false],
        ['kv-0', true, true],
      ],
    );
    assert.equal(
      last?.message,
      'kv-1 40.0 MiB → 1.2 MiB, kv-2 skipped (rule false), kv-0 (leader) 40.0 MiB → 1.3 MiB',
    );
    assert.equal(h.events.filter((e) => e.startsWith('Defragmented: Job kv-defrag-29000000')).length, 1);
    await h.reconciler.reconcile('ns/kv', log);
    assert.equal(h.events.filter((e) => e.startsWith('Defragmented:')).length, 1, 'recorded once');
    // A later run that failed replaces it, with the reason.
    finishedJob(
      h,
      'kv-defrag-29000060',
      'defrag',
      false,
      'cluster not healthy: kv-2 trails the leader by 5000 entries',
    );
    const failed = h.kube.jobs.find((j) => j.metadata?.name === 'kv-defrag-29000060');
    if (failed?.status?.conditions?.[0] !== undefined)
      failed.status.conditions[0].lastTransitionTime = new Date('2026-11-22T03:01:30Z');
    await h.reconciler.reconcile('ns/kv', log);
    const now = h.kube.statuses.at(-1)?.maintenance?.lastDefrag;
    assert.deepEqual([now?.jobName, now?.succeeded], ['kv-defrag-29000060', false]);
    assert.match(now?.message ?? '', /defragmentation failed: cluster not healthy: kv-2 trails the leader/);
    assert.ok(h.events.some((e) => e.startsWith('DefragFailed: Job kv-defrag-29000060')));
    // A run that stopped part way: its result JSON says what was done before.
    finishedJob(
      h,
      'kv-defrag-29000120',
      'defrag',
      false,
      JSON.stringify({
        startTime: '2026-11-22T03:02:01Z',
        completionTime: '2026-11-22T03:02:09Z',
        members: [{ name: 'kv-1', leader: false, defragmented: false, error: 'context deadline exceeded' }],
        disarmed: [],
        error: 'kv-1 failed; stopping (no --continue-on-error)',
      }),
    );
    const partial = h.kube.jobs.find((j) => j.metadata?.name === 'kv-defrag-29000120');
    if (partial?.status?.conditions?.[0] !== undefined)
      partial.status.conditions[0].lastTransitionTime = new Date('2026-11-22T03:02:30Z');
    await h.reconciler.reconcile('ns/kv', log);
    const stopped = h.kube.statuses.at(-1)?.maintenance?.lastDefrag;
    assert.equal(stopped?.jobName, 'kv-defrag-29000120');
    assert.equal(
      stopped?.message,
      'defragmentation failed: kv-1 failed; stopping (no --continue-on-error); kv-1 failed: context deadline exceeded',
    );
    assert.deepEqual(
      stopped?.members?.map((m) => [m.name, m.error]),
      [['kv-1', 'context deadline exceeded']],
    );
  });

  it('reports NOSPACE as Degraded, with the members and sizes, and runs nothing by default', async () => {
    const h = await running({});
    h.fake.noSpace.add(1);
    await h.reconciler.reconcile('ns/kv', log);
    const degraded = h.kube.statuses.at(-1)?.conditions?.find((c) => c.type === 'Degraded');
    assert.equal(degraded?.reason, 'NoSpace');
    assert.match(
      degraded?.message ?? '',
      /^NOSPACE alarm raised by kv-1 \(4\.0 KiB\), quota 2\.0 GiB: writes are refused/,
    );
    assert.ok(![...h.kube.applied.keys()].some((k) => k.startsWith('Job/')));
    assert.equal(h.kube.listJobsCalls, 0, 'no maintenance configured: no Job list on its passes');
  });

  it('recovers from NOSPACE with one Job per episode, and does not repeat one that could not help', async () => {
    const h = await running({
      maintenance: { noSpace: 'Recover', compaction: { schedule: '@daily', keepRevisions: 100 } },
    });
    h.fake.noSpace.add(0);
    await h.reconciler.reconcile('ns/kv', log);
    const job: V1Job | undefined = h.kube.applied.get('Job/kv-nospace-recovery');
    const c = job?.spec?.template.spec?.containers[0];
    assert.deepEqual(c?.command?.slice(0, 2), ['sh', '-c']);
    assert.deepEqual(c?.command?.slice(3, 7), [
      '--endpoints=http://kv-client.ns.svc.cluster.local:2379',
      '100',
      'defrag',
      '--cluster',
    ]);
    assert.ok(c?.command?.includes('--disarm-nospace'));
    assert.equal(h.kube.statuses.at(-1)?.maintenance?.noSpaceRecovery?.phase, 'Running');
    // Still alarmed while it runs: no second Job.
    await h.reconciler.reconcile('ns/kv', log);
    assert.equal([...h.kube.applied.keys()].filter((k) => k.startsWith('Job/')).length, 1);
    // It ended and the alarm is gone: the Job goes (the next episode gets a new one), the status says so.
    finishedJob(h, 'kv-nospace-recovery', 'nospace-recovery', true, DEFRAG_RESULT);
    h.fake.noSpace.clear();
    await h.reconciler.reconcile('ns/kv', log);
    assert.ok(h.kube.deleted.includes('Job/kv-nospace-recovery'));
    assert.equal(h.kube.statuses.at(-1)?.maintenance?.noSpaceRecovery?.phase, 'Succeeded');
    assert.ok(h.events.some((e) => e.startsWith('NoSpaceRecovered: kv-1 40.0 MiB')));
    assert.notEqual(
      h.kube.statuses.at(-1)?.conditions?.find((c) => c.type === 'Degraded')?.reason,
      'NoSpace',
    );
    // A new episode whose recovery ends with the alarm still there: Failed, said once, not repeated.
    h.fake.noSpace.add(2);
    await h.reconciler.reconcile('ns/kv', log);
    finishedJob(h, 'kv-nospace-recovery', 'nospace-recovery', true, DEFRAG_RESULT);
    await h.reconciler.reconcile('ns/kv', log);
    await h.reconciler.reconcile('ns/kv', log);
    const s = h.kube.statuses.at(-1);
    assert.equal(s?.maintenance?.noSpaceRecovery?.phase, 'Failed');
    assert.match(
      s?.conditions?.find((c) => c.type === 'Degraded')?.message ?? '',
      /did not bring the database under the quota\. Raise spec\.config\.quotaBackendBytes/,
    );
    assert.equal(h.events.filter((e) => e.startsWith('NoSpaceRecoveryFailed')).length, 1);
    assert.equal(
      h.kube.deleted.filter((d) => d === 'Job/kv-nospace-recovery').length,
      1,
      'the failed one is kept',
    );
  });
});
