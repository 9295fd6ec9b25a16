// Backups on the real environment (issue 8): an S3-protocol server (s3rver behind a SigV4-checking front,
// in this process, on the bridge address the pods reach), a 3-member KVCluster holding 10,000 keys, a
// KVBackup taken by a cairnctl Job with credentials from a Secret → Succeeded with its size and SHA-256,
// the object in the bucket with exactly those bytes; a schedule every minute that keeps only keepLast; the
// cluster and its volumes deleted, then a new cluster restored from the backup with every key, the same
// HashKV on every member and a new cluster id; and a corrupted object failing the restore cleanly.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Etcd3 } from 'etcd3';
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

async function clientEndpoint(cluster: string): Promise<string> {
  const ip = (
    await kubectl(['get', 'service', `${cluster}-client`, '-n', NS, '-o', 'jsonpath={.spec.clusterIP}'])
  ).trim();
  return `http://${ip}:2379`;
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
    const ip = (
      await kubectl(['get', 'service', 'kv-client', '-n', NS, '-o', 'jsonpath={.spec.clusterIP}'])
    ).trim();
    await writeKeys(`http://${ip}:2379`, KEYS);
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

  it('restores the backup into a new cluster after the old one and its volumes are gone: every key, one HashKV, a new cluster id', async () => {
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
    await apply(
      NS,
      kvClusterManifest('restored', {
        version: '0.1.0',
        replicas: 3,
        bootstrap: { restore: { backupName: 'first' } },
      }),
    );
    const { kv } = await settle(NS, 'restored', 3, 240_000);
    const restore = kv.status?.restore;
    assert.equal(restore?.phase, 'Restored');
    assert.equal(restore?.revision, first.status?.revision);
    const oldID = old.status?.clusterID;
    const newID = kv.status?.clusterID;
    assert.ok(newID !== undefined && newID !== oldID, `a new cluster id: ${oldID ?? ''} → ${newID ?? ''}`);
    const client = new Etcd3({ hosts: await clientEndpoint('restored'), dialTimeout: 5_000 });
    try {
      assert.equal(await client.getAll().prefix('key/').count(), KEYS);
      assert.equal(await client.get('key/04242').string(), 'value-4242');
    } finally {
      client.close();
    }
    const all = await hashes('restored', first.status?.revision ?? 0);
    assert.equal(all.size, 3);
    assert.equal(new Set(all.values()).size, 1, `HashKV per member: ${JSON.stringify([...all])}`);
  });

  it('fails a restore from a corrupted object with a clear status', async () => {
    const file = s3?.objectFile(BUCKET, `e2e/${NS}/kv/first.db`) ?? '';
    const bytes = readFileSync(file);
    bytes[4096] = (bytes[4096] ?? 0) ^ 0xff;
    writeFileSync(file, bytes);
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
