// The leader cut off from the majority, two ways:
// - isolated through cairn's transport failpoint (CAIRN_FAILPOINTS=1, `PUT <metrics>/debug/failpoints/
//   isolate`): it steps down by itself (check-quorum), linearizable reads and writes through it fail, the
//   majority elects a new leader and goes on; healed, it follows the new leader and converges. etcd has
//   no such failpoint: against etcd this test checks that the framework refuses clearly instead.
// - paused with SIGSTOP while the majority elects and takes a write, then resumed with SIGCONT: linearizable
//   reads through the old leader — including ones that reached it while it was paused — return the new
//   value or fail, never the old one (a deposed leader must not answer from its stale state).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startCluster, waitFor, type Cluster, type EtcdctlResult } from '../framework/index.js';

const ELECTION_MS = 500;

describe('cluster: the leader partitioned from the majority', () => {
  const clusters: Cluster[] = [];
  after(async () => {
    for (const c of clusters) await c.stop();
  });

  it(
    'isolated leader steps down, its linearizable requests fail, the majority goes on; heals',
    { timeout: 90_000 },
    async () => {
      const c = await startCluster({ size: 3, electionMs: ELECTION_MS, env: { CAIRN_FAILPOINTS: '1' } });
      clusters.push(c);
      const leader = await c.leader();
      if (c.kind === 'etcd') {
        // etcd has no partition failpoint; the partition itself is covered by the SIGSTOP test below.
        await assert.rejects(c.isolate(leader, true), /failpoint.*etcd has none/);
        return;
      }
      assert.equal((await leader.ctl(['put', 'p/k', 'v1'])).code, 0);
      await c.isolate(leader, true);
      try {
        const newLeader = await c.waitLeader([leader], 20 * ELECTION_MS);
        assert.notEqual(newLeader, leader);
        // check-quorum: without responses from a quorum for an election timeout the old leader steps down.
        await waitFor(
          'the isolated leader to step down',
          async () => {
            const s = await leader.status();
            return typeof s === 'object' && s.leader !== leader.id;
          },
          20 * ELECTION_MS,
          100,
        );
        const get = await leader.ctl(['--command-timeout=2s', 'get', 'p/k'], 10_000);
        assert.notEqual(
          get.code,
          0,
          `linearizable read through the isolated member succeeded: ${get.stdout}`,
        );
        const put = await leader.ctl(['--command-timeout=2s', 'put', 'p/k', 'minority'], 10_000);
        assert.notEqual(put.code, 0, 'a write through the isolated member succeeded');
        // The majority goes on.
        const put2 = await newLeader.ctl(['put', 'p/k', 'v2']);
        assert.equal(put2.code, 0, put2.stderr);
        const other = c.members.find((m) => m !== leader && m !== newLeader)!;
        assert.equal((await other.ctl(['get', 'p/k', '--print-value-only'])).stdout, 'v2\n');
      } finally {
        await c.isolate(leader, false);
      }
      // Healed: the old leader follows, converges, and serves the majority's value.
      await c.waitConverged(c.members, 30_000);
      await c.waitLeader([], 20 * ELECTION_MS);
      const after = await leader.ctl(['get', 'p/k', '--print-value-only']);
      assert.equal(after.stdout, 'v2\n', after.stderr);
    },
  );

  it(
    'a paused (SIGSTOP) leader resumed later serves no stale linearizable read',
    { timeout: 90_000 },
    async (t) => {
      const c = await startCluster({ size: 3, electionMs: ELECTION_MS });
      clusters.push(c);
      const leader = await c.leader();
      assert.equal((await leader.ctl(['put', 's/k', 'old'])).code, 0);

      leader.pause();
      let inFlight: Promise<EtcdctlResult>[] = [];
      try {
        const newLeader = await c.waitLeader([leader], 20 * ELECTION_MS);
        const put = await newLeader.ctl(['put', 's/k', 'new']);
        assert.equal(put.code, 0, `write on the majority: ${put.stderr}`);
        // Reads that reach the paused process now (the kernel accepts the connections) are answered
        // only after SIGCONT, when it still believes it leads an old term.
        inFlight = Array.from({ length: 4 }, () =>
          leader.ctl(
            ['--dial-timeout=8s', '--command-timeout=8s', 'get', 's/k', '--print-value-only'],
            20_000,
          ),
        );
        await new Promise((r) => setTimeout(r, 300));
      } finally {
        leader.resume();
      }
      const results: EtcdctlResult[] = await Promise.all(inFlight);
      // And reads right after resuming, one after another (bounded).
      for (let i = 0; i < 10; i++) {
        results.push(await leader.ctl(['--command-timeout=3s', 'get', 's/k', '--print-value-only'], 10_000));
      }
      const stale = results.filter((r) => r.code === 0 && r.stdout !== 'new\n');
      assert.deepEqual(
        stale.map((r) => r.stdout),
        [],
        'a linearizable read through the resumed old leader returned something other than the latest value',
      );
      const ok = results.filter((r) => r.code === 0).length;
      t.diagnostic(
        `${ok} of ${results.length} reads through the resumed member succeeded (all with the new value)`,
      );

      // It converges and then serves the latest value.
      await waitFor(
        'the resumed member to serve the new value',
        async () => (await leader.ctl(['get', 's/k', '--print-value-only'])).stdout === 'new\n',
        20_000,
        200,
      );
      await c.waitConverged(c.members, 30_000);
    },
  );
});
