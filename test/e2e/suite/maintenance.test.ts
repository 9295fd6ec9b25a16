// Maintenance on the real environment (issue 9): a 3-member KVCluster with spec.maintenance gets its
// compaction and defrag CronJobs; it is filled, its keys deleted, the compaction CronJob run, then the defrag
// CronJob run while a client writes through the client Service — every member is defragmented, one at a time
// and the leader last, each database shrinks, and not one write fails. Then a small-quota cluster with
// noSpace: Recover is filled until NOSPACE refuses writes: the operator reports it, compacts, defragments and
// disarms, and writes work again.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Etcd3 } from 'etcd3';
import {
  apply,
  createNamespace,
  deleteNamespace,
  eventsOf,
  getJson,
  kubectl,
  waitFor,
} from '../framework/kube.js';
import {
  clientEndpoint,
  deployOperator,
  getCluster,
  kvClusterManifest,
  removeOperator,
  settle,
  type KVClusterJson,
} from '../framework/operator.js';
import { lostWrites, startWriter } from '../framework/workload.js';

const NS = 'e2e-maintenance';
/** A schedule that never comes during the test: the runs are started by hand from the CronJobs. */
const NEVER = '0 0 1 1 *';
const QUOTA = 8 * 1024 * 1024;

interface MaintenanceJson {
  lastDefrag?: {
    jobName: string;
    succeeded: boolean;
    message?: string;
    members?: {
      name: string;
      leader?: boolean;
      defragmented: boolean;
      dbSizeBefore?: number;
      dbSizeAfter?: number;
    }[];
  };
  lastCompaction?: { jobName: string; succeeded: boolean; message?: string };
  noSpaceRecovery?: { jobName: string; phase: string; message?: string };
}

async function maintenance(name: string): Promise<MaintenanceJson> {
  const kv = await getJson<{ status?: { maintenance?: MaintenanceJson } }>([
    'get',
    'kvcluster',
    name,
    '-n',
    NS,
  ]);
  return kv.status?.maintenance ?? {};
}

/** Runs a CronJob now, as `kubectl create job --from=cronjob/…` does, and waits for its recorded result. */
async function runNow<T>(
  cronJob: string,
  job: string,
  recorded: (m: MaintenanceJson) => { jobName: string } | undefined,
): Promise<T> {
  await kubectl(['create', 'job', job, `--from=cronjob/${cronJob}`, '-n', NS]);
  return (await waitFor(
    `the result of ${job} in the status`,
    async () => {
      const r = recorded(await maintenance(cronJob.replace(/-(defrag|compaction)$/, '')));
      return r?.jobName === job ? r : undefined;
    },
    240_000,
    1_000,
  )) as T;
}

describe('maintenance: scheduled compaction and defragmentation, NOSPACE recovery', () => {
  before(async () => {
    await deployOperator();
    await createNamespace(NS);
    await apply(
      NS,
      kvClusterManifest('kv', {
        version: '0.1.0',
        replicas: 3,
        maintenance: {
          compaction: { schedule: NEVER, keepRevisions: 0, physical: true },
          defrag: { schedule: NEVER, rule: 'dbSizeFree > 1024*1024', memberTimeout: '2m' },
        },
      }),
    );
    await settle(NS, 'kv', 3, 240_000);
  });
  after(async () => {
    await deleteNamespace(NS);
    await removeOperator();
  });

  it('defragments every member one at a time, the leader last, shrinking each, while a workload loses no request', async () => {
    const cron = await getJson<{ spec: { schedule: string; concurrencyPolicy: string } }>([
      'get',
      'cronjob',
      'kv-defrag',
      '-n',
      NS,
    ]);
    assert.deepEqual([cron.spec.schedule, cron.spec.concurrencyPolicy], [NEVER, 'Forbid']);
    // About 12 MiB of values, then deleted: after compaction it is all free space.
    const endpoint = await clientEndpoint(NS, 'kv');
    const client = new Etcd3({ hosts: endpoint, dialTimeout: 5_000 });
    try {
      const value = 'x'.repeat(4096);
      for (let i = 0; i < 3000; i += 100)
        await Promise.all(
          Array.from({ length: 100 }, (_, j) =>
            client.put(`fill/${String(i + j).padStart(5, '0')}`).value(value),
          ),
        );
      await client.delete().prefix('fill/');
    } finally {
      client.close();
    }
    const compacted = await runNow<{ succeeded: boolean; message?: string }>(
      'kv-compaction',
      'compact-now',
      (m) => m.lastCompaction,
    );
    assert.equal(compacted.succeeded, true, compacted.message);
    const before: KVClusterJson = await getCluster(NS, 'kv');
    const sizeBefore = new Map((before.status?.members ?? []).map((m) => [m.name, m.dbSize ?? 0]));
    for (const [name, size] of sizeBefore)
      assert.ok(size > 10 * 1024 * 1024, `${name}: ${size} bytes before`);

    const writer = startWriter(endpoint, 'during-defrag/', { maxWrites: 100_000, maxMs: 300_000 });
    let defrag: NonNullable<MaintenanceJson['lastDefrag']>;
    try {
      defrag = await runNow('kv-defrag', 'defrag-now', (m) => m.lastDefrag);
    } finally {
      const result = await writer.stop();
      assert.ok(result.acked > 0);
      assert.equal(result.failedAttempts, 0, 'no request of the workload failed');
      assert.deepEqual(await lostWrites(endpoint, 'during-defrag/', result.acked), []);
      console.log(
        `defrag workload: ${result.acked} writes acknowledged, ${result.failedAttempts} failed, ` +
          `longest gap ${result.longestGapMs} ms`,
      );
    }
    assert.equal(defrag.succeeded, true, defrag.message);
    console.log(`defrag: ${defrag.message ?? ''}`);
    const members = defrag.members ?? [];
    assert.deepEqual(members.map((m) => m.name).sort(), ['kv-0', 'kv-1', 'kv-2'], 'every member, once');
    assert.deepEqual(
      members.map((m) => m.leader === true),
      [false, false, true],
      'followers first, the leader last',
    );
    for (const m of members) {
      assert.equal(m.defragmented, true, m.name);
      assert.ok(
        (m.dbSizeAfter ?? Infinity) < (m.dbSizeBefore ?? 0) / 2,
        `${m.name} shrank: ${JSON.stringify(m)}`,
      );
    }
    // The status the operator reports afterwards shows the smaller databases too.
    await waitFor(
      'every member reported smaller',
      async () => {
        const kv = await getCluster(NS, 'kv');
        const all = kv.status?.members ?? [];
        return all.length === 3 &&
          all.every((m) => (m.dbSize ?? Infinity) < (sizeBefore.get(m.name) ?? 0) / 2)
          ? true
          : undefined;
      },
      60_000,
    );
    const events = (await eventsOf(NS, 'kv', 'KVCluster')).map((e) => `${e.reason}: ${e.message}`);
    assert.ok(
      events.some((e) => e.startsWith('Defragmented: Job defrag-now: kv-')),
      events.join('\n'),
    );
    assert.ok(
      events.some((e) => e.startsWith('Compacted: Job compact-now')),
      events.join('\n'),
    );
  });

  it('recovers from NOSPACE: reports it, compacts, defragments and disarms, and writes work again', async () => {
    await apply(
      NS,
      kvClusterManifest('small', {
        version: '0.1.0',
        replicas: 3,
        config: { quotaBackendBytes: QUOTA },
        maintenance: { noSpace: 'Recover' },
      }),
    );
    await settle(NS, 'small', 3, 240_000);
    const endpoint = await clientEndpoint(NS, 'small');
    const client = new Etcd3({ hosts: endpoint, dialTimeout: 5_000 });
    const value = 'q'.repeat(100 * 1024);
    try {
      // Overwriting a few keys: the history fills the quota while the live data stays small.
      let refused: string | undefined;
      for (let i = 0; i < 400 && refused === undefined; i++) {
        try {
          await client.put(`fill${i % 4}`).value(value);
        } catch (err) {
          refused = (err as Error).message;
        }
      }
      assert.match(refused ?? '', /database space exceeded/);
      const recovered = await waitFor(
        'the NOSPACE recovery to succeed',
        async () => {
          const m = await maintenance('small');
          return m.noSpaceRecovery?.phase === 'Succeeded' || m.noSpaceRecovery?.phase === 'Failed'
            ? m.noSpaceRecovery
            : undefined;
        },
        240_000,
        1_000,
      );
      assert.equal(recovered.phase, 'Succeeded', recovered.message);
      const events = (await eventsOf(NS, 'small', 'KVCluster')).map((e) => `${e.reason}: ${e.message}`);
      assert.ok(
        events.some((e) => e.startsWith('NoSpaceRecovering: NOSPACE alarm raised by small-')),
        events.join('\n'),
      );
      assert.ok(
        events.some((e) => e.startsWith('NoSpaceRecovered: ')),
        events.join('\n'),
      );
    } finally {
      client.close();
    }
    // A new client: the filling one's circuit breaker may still be open from the refused writes.
    const after = new Etcd3({ hosts: endpoint, dialTimeout: 5_000 });
    try {
      await after.put('after-recovery').value('ok');
      assert.equal(await after.get('after-recovery').string(), 'ok');
      assert.equal(await after.get('fill3').string(), value, 'the live data is kept');
    } finally {
      after.close();
    }
    const { kv } = await settle(NS, 'small', 3, 60_000);
    assert.notEqual(
      kv.status?.conditions?.find((c) => c.type === 'Degraded')?.reason,
      'NoSpace',
      'no longer Degraded',
    );
  });
});
