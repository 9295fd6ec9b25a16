// `cairnctl backup` against real parts: real cairn members (single and a 3-member cluster), the real
// cairnctl binary in a child process, and a real S3-protocol server (s3rver on 127.0.0.1 behind a SigV4
// check, see s3-server.ts). Credentials reach cairnctl only through AWS_* variables, as in a backup Job.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { SnapshotDigest } from '../../server/src/ctl/backup-digest.js';
import { S3Store } from '../../server/src/objectstore/s3-store.js';
import {
  bare,
  etcdctl,
  freePort,
  parseJson,
  REPO_ROOT,
  startCairn,
  startCluster,
  stopAll,
  type Cluster,
  type Member,
} from '../framework/index.js';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, startS3Server, type S3Server } from './s3-server.js';

const CAIRNCTL_JS = process.env['CAIRNCTL_BIN'] ?? join(REPO_ROOT, 'dist/server/src/cmd/cairnctl.js');
const bucket = 'backups';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The real cairnctl in a child process (async: s3rver runs in this process and must keep serving). */
function cairnctl(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('ETCDCTL_') && !k.startsWith('AWS_')) base[k] = v;
  }
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CAIRNCTL_JS, ...args],
      {
        env: { ...base, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
        timeout: 120_000,
      },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function sha256sum(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('sha256sum', [file], (err, stdout) => {
      if (err === null) resolve(stdout.split(' ')[0]!);
      else reject(new Error(`sha256sum ${file}: ${err.message}`));
    });
  });
}

interface SaveResult {
  objectURL: string;
  sizeBytes: number;
  sha256: string;
  revision: number;
  member: string;
  memberID: string;
  clusterID: string;
  startTime: string;
  completionTime: string;
}

function clusterIdOf(statusJson: string): string {
  const st = parseJson(statusJson) as { Status: { header: { cluster_id: number | string } } }[];
  return BigInt(st[0]!.Status.header.cluster_id).toString(16).padStart(16, '0');
}

describe('cairnctl backup against s3rver', () => {
  let s3: S3Server;
  let m: Member;
  const tmp = mkdtempSync(join(tmpdir(), 'cairn-backup-s3-'));
  const creds = { AWS_ACCESS_KEY_ID: S3_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: S3_SECRET_ACCESS_KEY };
  let s3Flags: string[];
  const ctl = (args: readonly string[], env: Record<string, string> = creds): Promise<Run> =>
    cairnctl([`--endpoints=${m.clientUrl}`, ...args, ...s3Flags], env);
  let first: SaveResult;

  before(async () => {
    s3 = await startS3Server([bucket]);
    s3Flags = ['--s3-endpoint', s3.endpoint, '--s3-force-path-style'];
    m = await startCairn({ name: 'backup-src' });
    for (let i = 0; i < 20; i++)
      assert.equal((await etcdctl(m.clientUrl, ['put', `k${i}`, `v${i}`])).code, 0);
  });
  after(async () => {
    await stopAll(m);
    await s3.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('save: one JSON line, the object with its metadata, a session token on every request', async () => {
    const resultFile = join(tmp, 'termination-log');
    const r = await ctl(['backup', 'save', `s3://${bucket}/c1/first.db`, '--result-file', resultFile], {
      ...creds,
      AWS_SESSION_TOKEN: 'session-token-123',
    });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 1, r.stdout);
    first = JSON.parse(lines[0]!) as SaveResult;
    assert.deepEqual(Object.keys(first), [
      'objectURL',
      'sizeBytes',
      'sha256',
      'revision',
      'member',
      'memberID',
      'clusterID',
      'startTime',
      'completionTime',
    ]);
    assert.equal(first.objectURL, `s3://${bucket}/c1/first.db`);
    assert.equal(first.member, 'backup-src');
    assert.equal(first.revision, 21);
    assert.match(first.memberID, /^[0-9a-f]{16}$/);
    assert.equal(
      first.clusterID,
      clusterIdOf((await etcdctl(bare(m.clientUrl), ['endpoint', 'status', '-w', 'json'])).stdout),
    );
    assert.match(first.startTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(first.completionTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(first.sizeBytes % 512, 32);
    assert.equal(readFileSync(resultFile, 'utf8'), r.stdout);
    assert.ok(r.stdout.length < 4096);
    // The bytes s3rver stored, and the user metadata it keeps for them.
    assert.equal(await sha256sum(s3.objectFile(bucket, 'c1/first.db')), first.sha256);
    const meta = JSON.parse(
      readFileSync(s3.objectFile(bucket, 'c1/first.db').replace(/object$/, 'metadata.json'), 'utf8'),
    ) as Record<string, string>;
    assert.equal(meta['x-amz-meta-sha256'], first.sha256);
    assert.equal(meta['x-amz-meta-revision'], '21');
    assert.equal(meta['x-amz-meta-member-id'], first.memberID);
    assert.equal(meta['x-amz-meta-cluster-id'], first.clusterID);
    const signed = s3.requests.filter((q) => q.path === `/${bucket}/c1/first.db`);
    assert.ok(signed.length >= 2);
    for (const q of signed) {
      assert.equal(q.securityToken, 'session-token-123');
      assert.ok(q.signatureOk);
    }
  });

  it('fetch: the file sha256sum prints equals the result; --sha256 mismatch leaves nothing', async () => {
    const file = join(tmp, 'fetched.db');
    const resultFile = join(tmp, 'fetch-result.json');
    const r = await ctl(['backup', 'fetch', first.objectURL, file, `--result-file=${resultFile}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await sha256sum(file), first.sha256);
    assert.deepEqual(JSON.parse(readFileSync(resultFile, 'utf8')), {
      objectURL: first.objectURL,
      sizeBytes: first.sizeBytes,
      sha256: first.sha256,
      revision: 21,
    });
    const bad = join(tmp, 'bad.db');
    const wrong = 'ab'.repeat(32);
    const r2 = await ctl([
      'backup',
      'fetch',
      first.objectURL,
      bad,
      '--sha256',
      wrong,
      `--result-file=${resultFile}`,
    ]);
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, new RegExp(`checksum mismatch: expected ${wrong} got ${first.sha256}`));
    assert.ok(!existsSync(bad) && !existsSync(`${bad}.part`));
    // The reason goes to the result file (the termination log in a Job).
    assert.equal(
      readFileSync(resultFile, 'utf8'),
      `checksum mismatch: expected ${wrong} got ${first.sha256}\n`,
    );
  });

  it('wrong credentials fail with the S3 error and never show the secret', async () => {
    const wrongSecret = await ctl(['backup', 'save', `s3://${bucket}/c1/nope.db`], {
      AWS_ACCESS_KEY_ID: S3_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: 'not-the-secret-xyz',
    });
    assert.equal(wrongSecret.code, 1);
    assert.match(
      wrongSecret.stderr,
      /Error: s3:\/\/backups\/c1\/nope\.db: SignatureDoesNotMatch: .* \(HTTP 403\)/,
    );
    assert.ok(!(wrongSecret.stdout + wrongSecret.stderr).includes('not-the-secret-xyz'));
    const unknownKey = await ctl(['backup', 'list', `s3://${bucket}/`], {
      AWS_ACCESS_KEY_ID: 'AKIDUNKNOWN123',
      AWS_SECRET_ACCESS_KEY: 'whatever-secret-456',
    });
    assert.equal(unknownKey.code, 1);
    assert.match(unknownKey.stderr, /InvalidAccessKeyId/);
    assert.ok(!(unknownKey.stdout + unknownKey.stderr).includes('whatever-secret-456'));
    assert.ok(!(unknownKey.stdout + unknownKey.stderr).includes('AKIDUNKNOWN123'));
  });

  it('restore: a server on the restored data dir serves every key under a new cluster id; twice is a no-op', async () => {
    const dataDir = join(tmp, 'restored', 'data');
    const peer = `http://127.0.0.1:${await freePort()}`;
    const restoreArgs = [
      'backup',
      'restore',
      first.objectURL,
      '--data-dir',
      dataDir,
      '--name',
      'restored',
      '--initial-cluster',
      `restored=${peer}`,
      '--initial-advertise-peer-urls',
      peer,
      '--initial-cluster-token',
      'restored-token',
    ];
    const r = await ctl(restoreArgs);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^Restored s3:\/\/backups\/c1\/first\.db \(revision 21, sha256 [0-9a-f]{64}\) into /,
    );
    const marker = JSON.parse(readFileSync(join(dataDir, 'restored-from.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.deepEqual(
      { url: marker['url'], sha256: marker['sha256'], revision: marker['revision'], token: marker['token'] },
      { url: first.objectURL, sha256: first.sha256, revision: 21, token: 'restored-token' },
    );
    assert.deepEqual(readdirSync(join(tmp, 'restored')).sort(), ['data']);
    const again = await ctl(restoreArgs);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^already restored/);
    const restored = await startCairn({ name: 'restored', dataDir });
    try {
      for (let i = 0; i < 20; i++) {
        const g = await etcdctl(restored.clientUrl, ['get', `k${i}`, '--print-value-only']);
        assert.equal(g.stdout, `v${i}\n`);
      }
      const newCluster = clusterIdOf(
        (await etcdctl(bare(restored.clientUrl), ['endpoint', 'status', '-w', 'json'])).stdout,
      );
      assert.notEqual(newCluster, first.clusterID);
    } finally {
      await restored.stop({ keepDataDir: true });
    }
    // Not empty, restored from something else, no --replace: refused, untouched.
    const before = readFileSync(join(dataDir, 'restored-from.json'), 'utf8');
    const other = await ctl(['backup', 'save', `s3://${bucket}/c1/second.db`]);
    assert.equal(other.code, 0, other.stderr);
    assert.equal((await etcdctl(m.clientUrl, ['put', 'after-first', 'x'])).code, 0);
    const third = await ctl(['backup', 'save', `s3://${bucket}/c1/third.db`]);
    assert.equal(third.code, 0, third.stderr);
    const thirdArgs = restoreArgs.map((a) => (a === first.objectURL ? `s3://${bucket}/c1/third.db` : a));
    const refused = await ctl(thirdArgs);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /is not empty and was not restored from s3:\/\/backups\/c1\/third\.db.*refusing/,
    );
    assert.equal(readFileSync(join(dataDir, 'restored-from.json'), 'utf8'), before);
    // --replace swaps it in, only once complete.
    const replaced = await ctl([...thirdArgs, '--replace']);
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.equal(
      (JSON.parse(readFileSync(join(dataDir, 'restored-from.json'), 'utf8')) as { url: string }).url,
      `s3://${bucket}/c1/third.db`,
    );
    assert.deepEqual(readdirSync(join(tmp, 'restored')).sort(), ['data']);
    const swapped = await startCairn({ name: 'restored', dataDir });
    try {
      const g = await etcdctl(swapped.clientUrl, ['get', 'after-first', '--print-value-only']);
      assert.equal(g.stdout, 'x\n');
    } finally {
      await swapped.stop({ keepDataDir: true });
    }
    // The same snapshot under a new cluster token (what an in-place restore does to a cluster that
    // started from it): rebuilt with --replace, not taken as already restored.
    const newToken = thirdArgs.map((a) => (a === 'restored-token' ? 'restored-token-2' : a));
    const rebuilt = await ctl([...newToken, '--replace']);
    assert.equal(rebuilt.code, 0, rebuilt.stderr);
    assert.match(rebuilt.stdout, /^Restored s3:\/\/backups\/c1\/third\.db /);
    assert.equal(
      (JSON.parse(readFileSync(join(dataDir, 'restored-from.json'), 'utf8')) as { token: string }).token,
      'restored-token-2',
    );
  });

  it('a corrupted object: fetch and restore fail with the mismatch and leave nothing / the data dir untouched', async () => {
    const r = await ctl(['backup', 'save', `s3://${bucket}/c1/corrupt.db`]);
    assert.equal(r.code, 0, r.stderr);
    const stored = s3.objectFile(bucket, 'c1/corrupt.db');
    const bytes = readFileSync(stored);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    writeFileSync(stored, bytes);
    const file = join(tmp, 'corrupt.db');
    const f = await ctl(['backup', 'fetch', `s3://${bucket}/c1/corrupt.db`, file]);
    assert.equal(f.code, 1);
    assert.match(f.stderr, /Error: checksum mismatch: expected [0-9a-f]{64} got [0-9a-f]{64}/);
    assert.ok(!existsSync(file) && !existsSync(`${file}.part`));
    // Into a new data dir: nothing is created.
    const fresh = join(tmp, 'corrupt-restore', 'data');
    const rr = await ctl(['backup', 'restore', `s3://${bucket}/c1/corrupt.db`, '--data-dir', fresh]);
    assert.equal(rr.code, 1);
    assert.match(rr.stderr, /checksum mismatch: expected/);
    assert.deepEqual(readdirSync(join(tmp, 'corrupt-restore')), []);
    // Over an existing data dir with --replace: untouched.
    const existing = join(tmp, 'restored', 'data');
    const markerBefore = readFileSync(join(existing, 'restored-from.json'), 'utf8');
    const rx = await ctl([
      'backup',
      'restore',
      `s3://${bucket}/c1/corrupt.db`,
      '--data-dir',
      existing,
      '--replace',
    ]);
    assert.equal(rx.code, 1);
    assert.match(rx.stderr, /checksum mismatch: expected/);
    assert.equal(readFileSync(join(existing, 'restored-from.json'), 'utf8'), markerBefore);
    assert.deepEqual(readdirSync(join(tmp, 'restored')).sort(), ['data']);
  });

  it('list (simple, table, json) and delete (twice)', async () => {
    const simple = await ctl(['backup', 'list', `s3://${bucket}/c1/`]);
    assert.equal(simple.code, 0, simple.stderr);
    assert.deepEqual(
      simple.stdout.split('\n').filter((l) => l !== ''),
      [
        `s3://${bucket}/c1/corrupt.db`,
        `s3://${bucket}/c1/first.db`,
        `s3://${bucket}/c1/second.db`,
        `s3://${bucket}/c1/third.db`,
      ],
    );
    const table = await ctl(['backup', 'list', `s3://${bucket}/c1/f`, '-w', 'table']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /\| +KEY +\| +SIZE +\| +LAST MODIFIED +\| +SHA256 +\| +REVISION +\|/);
    assert.match(
      table.stdout,
      new RegExp(`\\| c1/first\\.db +\\| +${first.sizeBytes} \\| .* \\| ${first.sha256} \\| +21 \\|`),
    );
    const json = await ctl(['backup', 'list', `s3://${bucket}/c1/first`, '-w', 'json']);
    const objects = (JSON.parse(json.stdout) as { objects: Record<string, unknown>[] }).objects;
    assert.equal(objects.length, 1);
    assert.equal(objects[0]!['sha256'], first.sha256);
    assert.equal(objects[0]!['size'], first.sizeBytes);
    const del = await ctl(['backup', 'delete', `s3://${bucket}/c1/second.db`]);
    assert.equal(del.code, 0, del.stderr);
    assert.equal(del.stdout, `Deleted s3://${bucket}/c1/second.db\n`);
    const gone = await ctl(['backup', 'delete', `s3://${bucket}/c1/second.db`]);
    assert.equal(gone.code, 0, gone.stderr);
    assert.equal(gone.stdout, `s3://${bucket}/c1/second.db was already gone\n`);
    const after = await ctl(['backup', 'list', `s3://${bucket}/c1/`]);
    assert.ok(!after.stdout.includes('second.db'));
  });

  it('a snapshot over 8 MiB goes up in parts (multipart), and comes back intact', async () => {
    const value = 'x'.repeat(100 * 1024);
    for (let i = 0; i < 120; i++) {
      assert.equal((await etcdctl(m.clientUrl, ['put', `big${String(i).padStart(3, '0')}`, value])).code, 0);
    }
    const from = s3.requests.length;
    const r = await ctl(['backup', 'save', `s3://${bucket}/c1/big.db`]);
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(r.stdout) as SaveResult;
    assert.ok(res.sizeBytes > 12 * 1024 * 1024, String(res.sizeBytes));
    const reqs = s3.requests.slice(from).filter((q) => q.path === `/${bucket}/c1/big.db`);
    assert.ok(
      reqs.some((q) => q.method === 'POST' && q.query.has('uploads')),
      'CreateMultipartUpload',
    );
    const parts = reqs
      .filter((q) => q.method === 'PUT' && q.query.has('partNumber'))
      .map((q) => q.query.get('partNumber'));
    assert.deepEqual(parts.sort(), ['1', '2']);
    assert.ok(
      reqs.some((q) => q.method === 'POST' && q.query.has('uploadId')),
      'CompleteMultipartUpload',
    );
    assert.equal(await sha256sum(s3.objectFile(bucket, 'c1/big.db')), res.sha256);
    const file = join(tmp, 'big.db');
    const f = await ctl(['backup', 'fetch', res.objectURL, file]);
    assert.equal(f.code, 0, f.stderr);
    assert.equal(await sha256sum(file), res.sha256);
  });

  it('a stream whose trailer does not match aborts the upload: nothing at the key (single part and multipart)', async () => {
    const store = new S3Store({ bucket, endpoint: s3.endpoint, forcePathStyle: true, env: creds });
    const saved = { ...process.env };
    Object.assign(process.env, creds, { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' });
    try {
      for (const size of [64 * 1024, 20 * 1024 * 1024]) {
        const body = Buffer.alloc(size + 32, 7); // 32 trailing bytes that are not the SHA-256
        const digest = new SnapshotDigest(true);
        Readable.from([body.subarray(0, size / 2), body.subarray(size / 2)]).pipe(digest);
        const key = `c1/bad-trailer-${size}.db`;
        await assert.rejects(
          store.put(key, digest, () => ({})),
          /snapshot checksum mismatch/,
        );
        assert.equal(await store.head(key), undefined);
      }
    } finally {
      process.env = saved;
      store.close();
    }
  });

  it('no member to take it from, --snapshot-timeout, a missing bucket: exit 1, clear message, no object', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const none = await cairnctl(
      [
        `--endpoints=${dead}`,
        '--command-timeout=1s',
        'backup',
        'save',
        `s3://${bucket}/c1/none.db`,
        ...s3Flags,
      ],
      creds,
    );
    assert.equal(none.code, 1);
    assert.match(none.stderr, new RegExp(`Error: no member with a leader answered Status at \\[${dead}\\]`));
    const resultFile = join(tmp, 'failed-termination-log');
    const timedOut = await ctl([
      'backup',
      'save',
      `s3://${bucket}/c1/late.db`,
      '--snapshot-timeout',
      '1ns',
      '--result-file',
      resultFile,
    ]);
    assert.equal(timedOut.code, 1);
    assert.match(timedOut.stderr, /Error: snapshot stream: --snapshot-timeout exceeded/);
    assert.equal(timedOut.stdout, '');
    assert.equal(readFileSync(resultFile, 'utf8'), 'snapshot stream: --snapshot-timeout exceeded\n');
    const noBucket = await ctl(['backup', 'save', 's3://no-such-bucket/c1/x.db']);
    assert.equal(noBucket.code, 1);
    assert.match(noBucket.stderr, /Error: s3:\/\/no-such-bucket\/c1\/x\.db: NoSuchBucket: /);
    const bad = await ctl(['backup', 'save', 'gs://b/k']);
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /unsupported backup URL "gs:\/\/b\/k": expected s3:\/\/<bucket>\/<key> or file:\/\/\/<absolute path>/,
    );
    const list = await ctl(['backup', 'list', `s3://${bucket}/c1/`]);
    assert.ok(!/none\.db|late\.db/.test(list.stdout), list.stdout);
  });

  it('file:// destinations end to end', async () => {
    const dir = join(tmp, 'pvc');
    mkdirSync(dir);
    const url = `file://${dir}/c1/one.db`;
    const r = await ctl(['backup', 'save', url], {});
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(r.stdout) as SaveResult;
    assert.equal(res.objectURL, url);
    assert.equal(await sha256sum(join(dir, 'c1', 'one.db')), res.sha256);
    const meta = JSON.parse(readFileSync(join(dir, 'c1', 'one.db.meta.json'), 'utf8')) as Record<
      string,
      string
    >;
    assert.equal(meta['sha256'], res.sha256);
    const list = await ctl(['backup', 'list', `file://${dir}/`], {});
    assert.equal(list.stdout, `${url}\n`);
    // An empty data dir (a fresh volume's mount point) is restored into, not refused.
    const dataDir = join(tmp, 'file-restore');
    mkdirSync(join(dataDir, 'lost+found'), { recursive: true });
    const rr = await ctl(['backup', 'restore', url, '--data-dir', dataDir, '--sha256', res.sha256], {});
    assert.equal(rr.code, 0, rr.stderr);
    assert.ok(existsSync(join(dataDir, 'member', 'db', 'data.mdb')));
    assert.deepEqual(readdirSync(dataDir).sort(), ['lost+found', 'member', 'restored-from.json']);
    assert.ok(!existsSync(`${dataDir}.restoring`) && !existsSync(`${dataDir}.restoring.db`));
    const del = await ctl(['backup', 'delete', url], {});
    assert.equal(del.code, 0);
    assert.deepEqual(readdirSync(join(dir, 'c1')), []);
  });
});

describe('cairnctl backup save picks a member among several endpoints', () => {
  let s3: S3Server;
  let cluster: Cluster;
  /** Long enough that an isolated follower still reports its leader while the test runs. */
  const electionMs = 3_000;
  before(async () => {
    s3 = await startS3Server([bucket]);
    cluster = await startCluster({ size: 3, namePrefix: 'bk', electionMs, env: { CAIRN_FAILPOINTS: '1' } });
  });
  after(async () => {
    await cluster.stop();
    await s3.stop();
  });

  it('skips an endpoint that is down and a lagging member; takes the highest revision, ties: the first listed', async () => {
    const leader = await cluster.waitLeader();
    const [lagging, other] = cluster.members.filter((x) => x !== leader);
    const dead = `http://127.0.0.1:${await freePort()}`;
    assert.equal((await etcdctl(leader.clientUrl, ['put', 'a', '1'])).code, 0);
    await cluster.waitConverged();
    // The isolated follower still has its leader (no election timeout yet) but misses the next writes.
    await cluster.isolate(lagging!, true);
    const started = Date.now();
    for (let i = 0; i < 3; i++)
      assert.equal((await etcdctl(leader.clientUrl, ['put', `b${i}`, 'x'])).code, 0);
    const r = await cairnctl(
      [
        `--endpoints=${lagging!.clientUrl},${other!.clientUrl},${leader.clientUrl},${dead}`,
        '--command-timeout=1s',
        'backup',
        'save',
        `s3://${bucket}/cluster/one.db`,
        '--s3-endpoint',
        s3.endpoint,
        '--s3-force-path-style',
      ],
      { AWS_ACCESS_KEY_ID: S3_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: S3_SECRET_ACCESS_KEY },
    );
    const statusTookMs = Date.now() - started;
    await cluster.isolate(lagging!, false);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`"msg":"member did not answer Status","endpoint":"${dead}"`));
    const statuses = r.stderr
      .split('\n')
      .filter((l) => l.includes('"msg":"member status"'))
      .map((l) => JSON.parse(l) as { endpoint: string; revision: number });
    const lagged = statuses.find((x) => x.endpoint === lagging!.clientUrl);
    // Only meaningful while the isolated member had not yet timed out its leader.
    if (statusTookMs < electionMs) assert.ok(lagged !== undefined && lagged.revision < 5, r.stderr);
    const res = JSON.parse(r.stdout) as SaveResult;
    assert.equal(res.revision, 5);
    assert.equal(res.member, other!.name, 'the first listed of the two members at the highest revision');
  });
});
