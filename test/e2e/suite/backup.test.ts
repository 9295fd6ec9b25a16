// Backups on the real environment (issue 8): an S3-protocol server (s3rver behind a SigV4-checking front,
// in this process, on the bridge address the pods reach), a 3-member KVCluster holding 10,000 keys, a
// KVBackup taken by a cairnctl Job with credentials from a Secret → Succeeded with its size and SHA-256,
// the object in the bucket with exactly those bytes; a schedule every minute that keeps only keepLast; the
// cluster and its volumes deleted, then a KVRestore into a new cluster with every key, the same HashKV on
// every member and a new cluster id; a KVRestore in place that returns a running cluster to the backup's
// revision; and a corrupted object failing a KVRestore (cluster untouched) and a bootstrap restore cleanly.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Etcd3 } from 'etcd3';
import {
  apply,
  createNamespace,
  deleteNamespace,
  eventsOf,
  getJson,
  kubectl,
  runPod,
  waitFor,
} from '../framework/kube.js';
import {
  clientEndpoint,
  condition,
  deployOperator,
  getCluster,
  kvClusterManifest,
  removeOperator,
  settle,
} from '../framework/operator.js';
import {
  S3_ACCESS_KEY_ID,
  S3_SECRET_ACCESS_KEY,
  startS3Server,
  type S3Server,
} from '../../integration/s3-server.js';

const NS = 'e2e-backup';
const BUCKET = 'cairn-backups';
/** The bridge's address in the environment's network namespace: where pods reach this process. */
const BRIDGE_IP = '10.244.0.1';
const KEYS = 10_000;

interface BackupJson {
  metadata: { name: string; labels?: Record<string, string> };
  status?: {
    phase?: string;
    objectURL?: string;
    sizeBytes?: number;
    sha256?: string;
    revision?: number;
    member?: string;
    message?: string;
  };
}

function getBackup(name: string): Promise<BackupJson> {
  return getJson<BackupJson>(['get', 'kvbackup', name, '-n', NS]);
}

interface RestoreJson {
  status?: {
    phase?: string;
    clusterName?: string;
    sha256?: string;
    revision?: number;
    restoredRevision?: number;
    clusterID?: string;
    progress?: string;
    message?: string;
  };
}

/** Applies a KVRestore and waits for it to finish (Succeeded or Failed). */
async function runRestore(name: string, spec: Record<string, unknown>): Promise<RestoreJson> {
  await apply(
    NS,
    JSON.stringify({ apiVersion: 'cairn.dev/v1alpha1', kind: 'KVRestore', metadata: { name }, spec }),
  );
  return waitFor(
    `KVRestore ${name} to finish`,
    async () => {
      const r = await getJson<RestoreJson>(['get', 'kvrestore', name, '-n', NS]);
      return r.status?.phase === 'Succeeded' || r.status?.phase === 'Failed' ? r : undefined;
    },
    300_000,
    1_000,
  );
}

/** The uids of a cluster's member pods: the same list later means no member was restarted. */
function memberPodUIDs(cluster: string): Promise<string> {
  return kubectl([
    'get',
    'pods',
    '-n',
    NS,
    '-l',
    `app.kubernetes.io/name=cairn,app.kubernetes.io/instance=${cluster}`,
    '-o',
    'jsonpath={.items[*].metadata.uid}',
  ]);
}

async function writeKeys(endpoint: string, count: number): Promise<void> {
  const client = new Etcd3({ hosts: endpoint, dialTimeout: 5_000 });
  try {
    const batch = 100;
    for (let i = 0; i < count; i += batch) {
      await Promise.all(
        Array.from({ length: Math.min(batch, count - i) }, (_, j) =>
          client.put(`key/${String(i + j).padStart(5, '0')}`).value(`value-${i + j}`),
        ),
      );
    }
  } finally {
    client.close();
  }
}

/** HashKV of every member of a cluster at one revision, by endpoint, from `cairnctl endpoint hashkv --cluster`. */
async function hashes(cluster: string, revision: number): Promise<Map<string, number>> {
  const log = await runPod(
    NS,
    `hashkv-${cluster}`,
    'cairnctl',
    `cairnctl --endpoints=http://${cluster}-client:2379 endpoint hashkv --cluster --rev=${revision} -w json`,
    120_000,
  );
  const rows = JSON.parse(log.trim().split('\n').at(-1) ?? '[]') as {
    Endpoint: string;
    HashKV: { hash: number };
  }[];
  return new Map(rows.map((r) => [r.Endpoint, r.HashKV.hash]));
}

describe('backups to object storage', () => {
  let s3: S3Server | undefined;
  /** HashKV of every member of the cluster restored from `first`, at first's revision. */
  let restoredHashes: Map<string, number> = new Map();

  before(async () => {
    s3 = await startS3Server([BUCKET], { host: BRIDGE_IP });
    await deployOperator();
    await createNamespace(NS);
    await kubectl([
      'create',
      'secret',
      'generic',
      's3-credentials',
      '-n',
      NS,
      `--from-literal=accessKeyID=${S3_ACCESS_KEY_ID}`,
      `--from-literal=secretAccessKey=${S3_SECRET_ACCESS_KEY}`,
    ]);
    await apply(NS, kvClusterManifest('kv', { version: '0.1.0', replicas: 3 }));
    await settle(NS, 'kv', 3, 240_000);
    await writeKeys(await clientEndpoint(NS, 'kv'), KEYS);
  });
  after(async () => {
    await deleteNamespace(NS);
    await removeOperator();
    await s3?.stop();
  });

  const destination = (): Record<string, unknown> => ({
    s3: {
      endpoint: s3?.endpoint,
      bucket: BUCKET,
      prefix: 'e2e',
      forcePathStyle: true,
      credentialsSecret: { name: 's3-credentials' },
    },
  });

  it('takes a KVBackup of 10,000 keys: Succeeded with size and SHA-256, the object holds exactly those bytes', async () => {
    await apply(
      NS,
      JSON.stringify({
        apiVersion: 'cairn.dev/v1alpha1',
        kind: 'KVBackup',
        metadata: { name: 'first' },
        spec: { clusterName: 'kv', destination: destination() },
      }),
    );
    const done = await waitFor(
      'backup first to finish',
      async () => {
        const b = await getBackup('first');
        return b.status?.phase === 'Succeeded' || b.status?.phase === 'Failed' ? b : undefined;
      },
      180_000,
    );
    assert.equal(done.status?.phase, 'Succeeded', done.status?.message);
    assert.equal(done.status?.objectURL, `s3://${BUCKET}/e2e/${NS}/kv/first.db`);
    assert.match(done.status?.member ?? '', /^kv-[012]$/);
    assert.ok((done.status?.revision ?? 0) > KEYS, `revision ${done.status?.revision}`);
    const bytes = readFileSync(s3?.objectFile(BUCKET, `e2e/${NS}/kv/first.db`) ?? '');
    assert.equal(bytes.length, done.status?.sizeBytes);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), done.status?.sha256);
    // The Job's pod gets the credentials from the Secret by reference: no value in the Job, none in the
    // status or Events.
    const job = await getJson<{
      spec: {
        template: {
          spec: { containers: { env?: { name: string; value?: string; valueFrom?: object }[] }[] };
        };
      };
    }>(['get', 'job', 'first-backup', '-n', NS]);
    const secretNames = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'];
    const env = (job.spec.template.spec.containers[0]?.env ?? []).filter((e) => secretNames.includes(e.name));
    assert.deepEqual(
      env.map((e) => [e.name, e.value === undefined, e.valueFrom !== undefined]),
      [
        ['AWS_ACCESS_KEY_ID', true, true],
        ['AWS_SECRET_ACCESS_KEY', true, true],
      ],
    );
    const events = await kubectl([
      'get',
      'events',
      '-n',
      NS,
      '--field-selector',
      'involvedObject.name=first',
      '-o',
      'json',
    ]);
    assert.match(events, /BackupSucceeded/);
    assert.ok(!events.includes(S3_SECRET_ACCESS_KEY) && !JSON.stringify(done).includes(S3_SECRET_ACCESS_KEY));
  });

  it('a schedule every minute makes backups and keeps only keepLast', async () => {
    await apply(
      NS,
      JSON.stringify({
        apiVersion: 'cairn.dev/v1alpha1',
        kind: 'KVBackupSchedule',
        metadata: { name: 'minutely' },
        spec: {
          clusterName: 'kv',
          schedule: '* * * * *',
          template: { destination: destination(), deletionPolicy: 'Delete' },
          retention: { keepLast: 2 },
        },
      }),
    );
    const seen = new Set<string>();
    const kept = await waitFor(
      'three scheduled backups, the oldest pruned with its object',
      async () => {
        const list = await getJson<{ items: BackupJson[] }>([
          'get',
          'kvbackups',
          '-n',
          NS,
          '-l',
          'cairn.dev/schedule=minutely',
        ]);
        for (const b of list.items) seen.add(b.metadata.name);
        const succeeded = list.items.filter((b) => b.status?.phase === 'Succeeded');
        return seen.size >= 3 && list.items.length === 2 && succeeded.length === 2
          ? succeeded.map((b) => b.metadata.name)
          : undefined;
      },
      300_000,
      2_000,
    );
    const names = [...seen].sort();
    const pruned = names[0] ?? '';
    // The pruned backup's object went with it (deletionPolicy Delete); the kept ones are still there.
    await waitFor(
      `the object of ${pruned} deleted`,
      () =>
        Promise.resolve(
          existsSync(s3?.objectFile(BUCKET, `e2e/${NS}/kv/${pruned}.db`) ?? '') ? undefined : true,
        ),
      60_000,
    );
    for (const name of kept)
      assert.ok(existsSync(s3?.objectFile(BUCKET, `e2e/${NS}/kv/${name}.db`) ?? ''), `${name} kept`);
    const status = await getJson<{ status: { lastSuccessfulTime?: string; nextScheduleTime?: string } }>([
      'get',
      'kvbackupschedule',
      'minutely',
      '-n',
      NS,
    ]);
    assert.ok(status.status.lastSuccessfulTime !== undefined);
    assert.ok(status.status.nextScheduleTime !== undefined);
    await kubectl([
      'patch',
      'kvbackupschedule',
      'minutely',
      '-n',
      NS,
      '--type=merge',
      '-p',
      '{"spec":{"suspend":true}}',
    ]);
  });

  it('KVRestore into a new cluster after the old one and its volumes are gone: every key, one HashKV, a new cluster id', async () => {
    const old = await getCluster(NS, 'kv');
    const first = await getBackup('first');
    await kubectl(['delete', 'kvbackupschedule', 'minutely', '-n', NS]);
    await kubectl(['delete', 'kvcluster', 'kv', '-n', NS, '--wait=true', '--timeout=60s']);
    await kubectl([
      'delete',
      'pvc',
      '-n',
      NS,
      '-l',
      'app.kubernetes.io/instance=kv',
      '--wait=true',
      '--timeout=60s',
    ]);
    const r = await runRestore('to-new', {
      source: { backupName: 'first' },
      target: { newCluster: { name: 'restored', spec: { version: '0.1.0', replicas: 3 } } },
    });
    assert.equal(r.status?.phase, 'Succeeded', r.status?.message);
    assert.equal(r.status?.clusterName, 'restored');
    assert.equal(r.status?.sha256, first.status?.sha256);
    assert.equal(r.status?.restoredRevision, first.status?.revision);
    const { kv } = await settle(NS, 'restored', 3, 120_000);
    assert.equal(kv.status?.restore?.phase, 'Restored');
    assert.equal(kv.status?.restore?.revision, first.status?.revision);
    const oldID = old.status?.clusterID;
    const newID = kv.status?.clusterID;
    assert.ok(newID !== undefined && newID !== oldID, `a new cluster id: ${oldID ?? ''} → ${newID ?? ''}`);
    assert.equal(r.status?.clusterID, newID);
    const client = new Etcd3({ hosts: await clientEndpoint(NS, 'restored'), dialTimeout: 5_000 });
    try {
      assert.equal(await client.getAll().prefix('key/').count(), KEYS);
      assert.equal(await client.get('key/04242').string(), 'value-4242');
    } finally {
      client.close();
    }
    restoredHashes = await hashes('restored', first.status?.revision ?? 0);
    assert.equal(restoredHashes.size, 3);
    assert.equal(
      new Set(restoredHashes.values()).size,
      1,
      `HashKV per member: ${JSON.stringify([...restoredHashes])}`,
    );
  });

  it('KVRestore in place returns a running cluster to the backup: later writes gone, its revision and HashKV, a new cluster id', async () => {
    const first = await getBackup('first');
    const before = await getCluster(NS, 'restored');
    const endpoint = await clientEndpoint(NS, 'restored');
    const client = new Etcd3({ hosts: endpoint, dialTimeout: 5_000 });
    try {
      await client.put('key/00000').value('changed after the backup');
      for (let i = 0; i < 50; i++) await client.put(`after/${i}`).value('x');
    } finally {
      client.close();
    }
    const r = await runRestore('rollback', {
      source: { backupName: 'first' },
      target: { inPlace: { clusterName: 'restored' } },
    });
    assert.equal(r.status?.phase, 'Succeeded', r.status?.message);
    assert.equal(r.status?.restoredRevision, first.status?.revision);
    const { kv } = await settle(NS, 'restored', 3, 120_000);
    assert.equal(kv.status?.restore?.phase, 'Restored');
    assert.equal(kv.status?.restore?.requestedBy, 'rollback');
    assert.equal(
      kv.metadata.annotations?.['cairn.dev/restore-in-place'],
      undefined,
      'the request is cleared',
    );
    const newID = kv.status?.clusterID;
    assert.ok(newID !== undefined && newID !== before.status?.clusterID, `a new cluster id: ${newID ?? ''}`);
    assert.equal(r.status?.clusterID, newID);
    // Every member is back at the backup's revision, with the backup's data.
    for (const m of kv.status?.members ?? []) assert.equal(m.revision, first.status?.revision, m.name);
    const after = new Etcd3({ hosts: await clientEndpoint(NS, 'restored'), dialTimeout: 5_000 });
    try {
      assert.equal(await after.get('key/00000').string(), 'value-0');
      assert.equal(await after.getAll().prefix('after/').count(), 0);
      assert.equal(await after.getAll().prefix('key/').count(), KEYS);
    } finally {
      after.close();
    }
    const now = await hashes('restored', first.status?.revision ?? 0);
    assert.deepEqual(
      [...new Set(now.values())],
      [...new Set(restoredHashes.values())],
      'the same HashKV as before',
    );
    const events = (await eventsOf(NS, 'restored', 'KVCluster')).map((e) => `${e.reason}: ${e.message}`);
    assert.ok(
      events.some((e) => e.startsWith('RestoringInPlace: KVRestore rollback')),
      events.join('\n'),
    );
    assert.ok(
      events.some((e) => e.startsWith('Restored: 3 member(s) restored')),
      events.join('\n'),
    );
  });

  it('a corrupted object fails a KVRestore at verification: the running cluster is not touched', async () => {
    const file = s3?.objectFile(BUCKET, `e2e/${NS}/kv/first.db`) ?? '';
    const bytes = readFileSync(file);
    bytes[4096] = (bytes[4096] ?? 0) ^ 0xff;
    writeFileSync(file, bytes);
    const before = await getCluster(NS, 'restored');
    const podsBefore = await memberPodUIDs('restored');
    const r = await runRestore('corrupt', {
      source: { backupName: 'first' },
      target: { inPlace: { clusterName: 'restored' } },
    });
    assert.equal(r.status?.phase, 'Failed');
    assert.match(r.status?.message ?? '', /cannot be restored: checksum mismatch: expected [0-9a-f]{64} got/);
    assert.match(r.status?.message ?? '', /KVCluster restored was not touched/);
    const kv = await getCluster(NS, 'restored');
    assert.equal(kv.status?.clusterID, before.status?.clusterID);
    assert.equal(condition(kv, 'Available')?.status, 'True');
    assert.equal(kv.metadata.annotations?.['cairn.dev/restore-in-place'], undefined);
    const podsAfter = await memberPodUIDs('restored');
    assert.equal(podsAfter, podsBefore, 'no member restarted');
  });

  it('a corrupted object fails a bootstrap restore (spec.bootstrap.restore) with a clear status', async () => {
    await apply(
      NS,
      kvClusterManifest('broken', {
        version: '0.1.0',
        replicas: 1,
        bootstrap: { restore: { backupName: 'first' } },
      }),
    );
    const failed = await waitFor(
      'the restore of broken to fail',
      async () => {
        const kv = await getCluster(NS, 'broken');
        const r = kv.status?.restore;
        return r?.phase === 'Failed' ? { kv, r } : undefined;
      },
      120_000,
    );
    assert.match(failed.r.message ?? '', /checksum mismatch/);
    assert.equal(condition(failed.kv, 'Degraded')?.reason, 'RestoreFailed');
    assert.equal(condition(failed.kv, 'Available')?.status, 'False');
    await kubectl(['delete', 'kvcluster', 'broken', '-n', NS, '--wait=true', '--timeout=60s']);
  });
});
