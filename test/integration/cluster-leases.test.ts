// Leases in a cluster: only the leader keeps lease time, so a keep-alive sent to a follower must reach
// the leader (and extend the lease everywhere), an expiry decided by the leader removes the keys on every
// member, and a new leader (after kill -9 of the old one) keeps every lease alive with a full TTL.
// Runs against cairn, or Debian etcd with CAIRN_TEST_TARGET=etcd (same expectations).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startCluster, waitFor, type Cluster, type ClusterMember } from '../framework/index.js';

/** `lease grant <ttl>` through `via`; returns the lease id (hex, as etcdctl prints it). */
async function grant(via: ClusterMember, ttl: number): Promise<string> {
  const r = await via.ctl(['lease', 'grant', String(ttl)]);
  assert.equal(r.code, 0, `lease grant: ${r.stdout}${r.stderr}`);
  const m = /^lease ([0-9a-f]+) granted with TTL\(\d+s\)$/m.exec(r.stdout);
  assert.ok(m, r.stdout);
  return m[1]!;
}

/** Remaining TTL of a lease as `lease timetolive` through `via` reports it (-1: not found). */
async function remaining(via: ClusterMember, id: string): Promise<number> {
  const r = await via.ctl(['lease', 'timetolive', id]);
  assert.equal(r.code, 0, `lease timetolive: ${r.stdout}${r.stderr}`);
  if (/already expired/.test(r.stdout)) return -1;
  const m = /remaining\((-?\d+)s\)/.exec(r.stdout);
  assert.ok(m, r.stdout);
  return Number(m[1]);
}

async function keys(via: ClusterMember, prefix: string): Promise<string[]> {
  const r = await via.ctl(['get', prefix, '--prefix', '--keys-only', '--consistency=s']);
  assert.equal(r.code, 0, `get: ${r.stdout}${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l !== '');
}

describe('cluster: leases', () => {
  let cluster: Cluster | undefined;
  after(async () => {
    await cluster?.stop();
  });

  it(
    'keep-alive through a follower, expiry by the leader, leases survive a leader change',
    { timeout: 120_000 },
    async () => {
      cluster = await startCluster({ size: 3 });
      const c = cluster;
      const leader = await c.waitLeader();
      const followers = c.members.filter((m) => m !== leader);
      const [f1, f2] = [followers[0]!, followers[1]!];

      // A keep-alive through a follower renews the lease the leader keeps time for.
      const kept = await grant(f1, 6);
      const attach = await f1.ctl(['put', 'ka/key', 'v', '--lease', kept]);
      assert.equal(attach.code, 0, attach.stderr);
      await new Promise((r) => setTimeout(r, 2500));
      const before = await remaining(f2, kept);
      assert.ok(before >= 0 && before <= 4, `remaining before keep-alive: ${before}`);
      const ka = await f2.ctl(['lease', 'keep-alive', '--once', kept]);
      assert.equal(ka.code, 0, `keep-alive --once via a follower: ${ka.stdout}${ka.stderr}`);
      assert.match(ka.stdout, new RegExp(`^lease ${kept} keepalived with TTL\\(6\\)$`, 'm'));
      const afterKa = await remaining(leader, kept);
      assert.ok(afterKa >= 5, `remaining on the leader after a follower's keep-alive: ${afterKa}`);

      // Expiry: a short lease granted through a follower is revoked by the leader; its key vanishes
      // from every member.
      const short = await grant(f2, 2);
      assert.equal((await f2.ctl(['put', 'exp/key', 'v', '--lease', short])).code, 0);
      for (const m of c.members) assert.deepEqual(await waitKeys(m, 'exp/', ['exp/key']), ['exp/key']);
      for (const m of c.members)
        assert.deepEqual(await waitKeys(m, 'exp/', []), [], `${m.name} still has exp/key`);

      // A leader change keeps the lease and its key: the new leader gives it a full TTL again.
      const long = await grant(f1, 30);
      assert.equal((await f1.ctl(['put', 'long/key', 'v', '--lease', long])).code, 0);
      await leader.kill9();
      const next = await c.waitLeader([leader]);
      const ttl = await remaining(next, long);
      assert.ok(ttl >= 25, `remaining after the leader change: ${ttl}`);
      for (const m of c.members.filter((x) => x !== leader)) {
        assert.deepEqual(await keys(m, 'long/'), ['long/key'], `${m.name} lost long/key`);
      }
      // The old leader rejoins with the lease intact.
      await leader.restart();
      assert.deepEqual(await waitKeys(leader, 'long/', ['long/key']), ['long/key']);
    },
  );
});

/** Waits (bounded, 15 s) until `get --prefix` through `m` lists exactly `want`; returns what it saw last. */
async function waitKeys(m: ClusterMember, prefix: string, want: string[]): Promise<string[]> {
  let last: string[] = [];
  await waitFor(
    `${m.name}: keys under ${prefix} = ${JSON.stringify(want)}`,
    async () => {
      last = await keys(m, prefix);
      return JSON.stringify(last) === JSON.stringify(want);
    },
    15_000,
    100,
  ).catch(() => undefined);
  return last;
}
