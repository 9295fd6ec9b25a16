// cairnctl's maintenance for the operator on real 3-member clusters on 127.0.0.1: `defrag --cluster --safe`
// (every member defragmented one at a time, the leader last, the result JSON the operator reads), a
// rule false for every member (nothing touched, exit 0), a member down (the gate refuses, nothing touched,
// exit 1), and the NOSPACE cure: fill until the quota refuses puts, `compaction --keep-revisions 0
// --physical`, `defrag --cluster --safe --disarm-nospace`, and puts work again.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  etcdctl,
  kvClient,
  REPO_ROOT,
  startCluster,
  type Cluster,
  type ClusterMember,
  type EtcdctlResult,
} from '../framework/index.js';

const CAIRNCTL_JS = process.env['CAIRNCTL_BIN'] ?? join(REPO_ROOT, 'dist/server/src/cmd/cairnctl.js');

function cairnctl(endpoints: string, args: readonly string[]): Promise<EtcdctlResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CAIRNCTL_JS, `--endpoints=${endpoints}`, ...args],
      { timeout: 40_000, killSignal: 'SIGKILL', maxBuffer: 16 << 20, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function show(r: EtcdctlResult): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

interface ResultMember {
  name: string;
  endpoint: string;
  leader: boolean;
  dbSizeBefore: number;
  dbSizeInUseBefore: number;
  dbSizeAfter?: number;
  defragmented: boolean;
  seconds?: number;
  skipped?: string;
  error?: string;
}

interface Result {
  startTime: string;
  completionTime: string;
  members: ResultMember[];
  disarmed: string[];
  error?: string;
}

const dir = mkdtempSync(join(tmpdir(), 'cairnctl-defrag-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const resultPath = (): string => join(dir, `result-${++files}`);

function readResult(path: string): Result {
  const text = readFileSync(path, 'utf8');
  assert.ok(text.endsWith('}\n') && text.indexOf('\n') === text.length - 1, text);
  assert.ok(Buffer.byteLength(text) <= 4000);
  return JSON.parse(text) as Result;
}

/** How often each member's log says it finished a defragmentation (cairn's own log line). */
function defragCounts(c: Cluster): number[] {
  return c.members.map((m) => m.logs().split('finished defragmenting').length - 1);
}

/** Member names in member-list order. */
async function memberListNames(c: Cluster, via: ClusterMember): Promise<string[]> {
  return (await c.memberList(via)).map((m) => m.name);
}

describe('cairnctl defrag --cluster --safe on a 3-member cluster', () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster({ size: 3 });
  });
  after(() => c?.stop());

  it('defragments every member, followers in member-list order, the leader last; dbSize drops', async () => {
    const kv = kvClient(c.members, 10_000);
    try {
      const value = 'v'.repeat(2000);
      for (let i = 0; i < 2000; i += 100) {
        await Promise.all(
          Array.from({ length: 100 }, (_, j) => kv.put(`big/${String(i + j).padStart(5, '0')}`).value(value)),
        );
      }
      await kv.delete().prefix('big/');
    } finally {
      kv.close();
    }
    const via = c.members[0]!;
    const compacted = await cairnctl(via.clientUrl, ['compaction', '--keep-revisions', '0', '--physical']);
    assert.equal(compacted.code, 0, show(compacted));
    assert.match(compacted.stdout, /^compacted revision \d+\n$/);
    await c.waitConverged();
    const leader = await c.leader();
    const before = defragCounts(c);

    const file = resultPath();
    const r = await cairnctl(via.clientUrl, ['defrag', '--cluster', '--safe', `--result-file=${file}`]);
    assert.equal(r.code, 0, show(r));
    const res = readResult(file);
    const followers = (await memberListNames(c, via)).filter((n) => n !== leader.name);
    assert.deepEqual(
      res.members.map((m) => [m.name, m.leader]),
      [...followers.map((n) => [n, false]), [leader.name, true]],
    );
    const urlOf = (name: string): string => c.members.find((m) => m.name === name)!.clientUrl;
    assert.equal(
      r.stdout,
      res.members.map((m) => `Finished defragmenting etcd member[${urlOf(m.name)}]\n`).join(''),
    );
    for (const m of res.members) {
      assert.equal(m.endpoint, urlOf(m.name));
      assert.equal(m.defragmented, true, JSON.stringify(m));
      assert.ok(m.dbSizeAfter !== undefined && m.dbSizeAfter < m.dbSizeBefore / 4, JSON.stringify(m));
      assert.ok(m.dbSizeInUseBefore < m.dbSizeBefore, JSON.stringify(m));
      assert.ok(typeof m.seconds === 'number' && m.seconds >= 0 && m.seconds < 60, JSON.stringify(m));
    }
    assert.deepEqual(res.disarmed, []);
    assert.equal(res.error, undefined);
    assert.ok(Date.parse(res.startTime) <= Date.parse(res.completionTime));
    assert.deepEqual(
      defragCounts(c).map((n, i) => n - before[i]!),
      [1, 1, 1],
    );
    // The leader was still the leader when its turn came (it was planned last and done last).
    assert.equal((await c.leader()).name, leader.name);
  });

  it('a rule false for every member: nothing defragmented, exit 0, each member Skipped', async () => {
    const before = defragCounts(c);
    const file = resultPath();
    const r = await cairnctl(c.members[1]!.clientUrl, [
      'defrag',
      '--cluster',
      '--safe',
      '--defrag-rule',
      'dbQuotaUsage > 0.9 && dbSizeFree > 100*1024*1024',
      `--result-file=${file}`,
    ]);
    assert.equal(r.code, 0, show(r));
    const res = readResult(file);
    assert.equal(res.members.length, 3);
    for (const m of res.members) {
      assert.equal(m.defragmented, false);
      assert.equal(m.skipped, 'rule false');
      assert.equal(m.dbSizeAfter, undefined);
    }
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 3, r.stdout);
    for (const l of lines) {
      assert.match(
        l,
        /^Skipped defragmenting etcd member\[http:\/\/127\.0\.0\.1:\d+\] \(rule false: dbSize=\d+ .*\)$/,
      );
    }
    assert.deepEqual(defragCounts(c), before);
  });

  it('a member down: the gate refuses, nothing defragmented, exit 1, the reason in --result-file', async () => {
    const leader = await c.leader();
    const down = c.members.find((m) => m !== leader)!;
    await down.kill9();
    const before = defragCounts(c);
    const file = resultPath();
    const r = await cairnctl(leader.clientUrl, [
      '--command-timeout=2s',
      'defrag',
      '--cluster',
      '--safe',
      `--result-file=${file}`,
    ]);
    assert.equal(r.code, 1, show(r));
    assert.equal(r.stdout, '');
    const reason = `cluster not healthy, nothing defragmented: member ${down.name} (${down.clientUrl}) did not answer Status`;
    assert.ok(r.stderr.includes(`Error: ${reason}: `), show(r));
    const written = readFileSync(file, 'utf8');
    assert.ok(written.startsWith(reason) && written.indexOf('\n') === written.length - 1, written);
    assert.deepEqual(defragCounts(c), before);
  });
});

describe('cairnctl NOSPACE cure: compaction --keep-revisions 0 --physical, defrag --safe --disarm-nospace', () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster({ size: 3, extraArgs: [`--quota-backend-bytes=${8 * 1024 * 1024}`] });
  });
  after(() => c?.stop());

  it('fills to NOSPACE, compacts and defragments the cluster, disarms, and puts work again', async () => {
    const via = c.members[0]!;
    const value = 'q'.repeat(100 * 1024);
    // Overwriting a few keys: the history fills the quota, the live data stays small.
    let refused: string | undefined;
    const kv = kvClient(via, 10_000);
    try {
      for (let i = 0; i < 400 && refused === undefined; i++) {
        try {
          await kv.put(`fill${i % 4}`).value(value);
        } catch (err) {
          refused = (err as Error).message;
        }
      }
    } finally {
      kv.close();
    }
    assert.ok(refused?.includes('database space exceeded'), String(refused));
    const put = await etcdctl(via.clientUrl, ['put', 'small', 'v']);
    assert.ok(put.stderr.endsWith('\nError: etcdserver: mvcc: database space exceeded\n'), put.stderr);
    const alarms = await etcdctl(via.clientUrl, ['alarm', 'list']);
    assert.match(alarms.stdout, /^(memberID:\d+ alarm:NOSPACE \n)+$/);

    const compacted = await cairnctl(via.clientUrl, ['compaction', '--keep-revisions', '0', '--physical']);
    assert.equal(compacted.code, 0, show(compacted));
    assert.match(compacted.stdout, /^compacted revision \d+\n$/);
    // Nothing new to compact: a second run says so and succeeds.
    const again = await cairnctl(via.clientUrl, ['compaction', '--keep-revisions', '0']);
    assert.equal(again.code, 0, show(again));
    assert.match(again.stdout, /^nothing to compact: revision \d+ is already compacted\n$/);
    await c.waitConverged();

    const file = resultPath();
    const r = await cairnctl(via.clientUrl, [
      'defrag',
      '--cluster',
      '--safe',
      '--disarm-nospace',
      `--result-file=${file}`,
    ]);
    assert.equal(r.code, 0, show(r));
    const res = readResult(file);
    assert.deepEqual(res.disarmed, ['NOSPACE']);
    assert.equal(res.members.length, 3);
    for (const m of res.members) {
      assert.equal(m.defragmented, true, JSON.stringify(m));
      assert.ok(m.dbSizeAfter !== undefined && m.dbSizeAfter < 8 * 1024 * 1024, JSON.stringify(m));
    }
    // The disarmed alarms, as `alarm disarm` prints them, after the Finished lines.
    assert.ok(r.stdout.endsWith(alarms.stdout), show(r));
    assert.equal((await etcdctl(via.clientUrl, ['alarm', 'list'])).stdout, '');
    const after = await etcdctl(via.clientUrl, ['put', 'small', 'v']);
    assert.equal(after.code, 0, `${after.stdout}${after.stderr}`);
    const got = await etcdctl(c.members[2]!.clientUrl, ['get', 'fill3', '--print-value-only']);
    assert.equal(got.stdout, `${value}\n`);
  });
});
