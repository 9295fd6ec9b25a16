// Learners and membership changes through a real `etcdctl member add|promote|remove`:
// - a learner added with --learner and started with --initial-cluster-state=existing catches up; it serves
//   serializable reads but refuses linearizable reads and writes with etcd's "rpc not supported for
//   learner" (gRPC Unavailable); once in sync, `member promote` makes it a voter that serves both;
// - promoting a learner that has not caught up (its process never started) is refused with etcd's
//   "can only promote a learner member which is in sync with leader" (gRPC FailedPrecondition);
// - `member remove` of a running voter: the member list shrinks everywhere, and the removed member stops
//   serving — etcd 3.4 logs "the member has been permanently removed from the cluster" and its process
//   exits with code 0 (also when restarted on its data dir).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { kvClient, startCluster, waitFor, type Cluster } from '../framework/index.js';

const LEARNER_REFUSED = 'rpc error: code = Unavailable desc = etcdserver: rpc not supported for learner';
const NOT_IN_SYNC =
  'rpc error: code = FailedPrecondition desc = etcdserver: can only promote a learner member which is in sync with leader';
const PRELOAD = 500;

describe('cluster: learners, promote, remove', () => {
  let cluster: Cluster | undefined;
  after(async () => {
    await cluster?.stop();
  });

  it(
    'learner add → catch up → promote; lagging promote refused; removed member stops',
    { timeout: 120_000 },
    async () => {
      cluster = await startCluster({ size: 3 });
      const c = cluster;

      // Data for the learner to catch up on.
      const client = kvClient(c.members);
      try {
        for (let i = 0; i < PRELOAD; i += 50) {
          await Promise.all(
            Array.from({ length: 50 }, (_, j) =>
              client
                .put(`pre/${i + j}`)
                .value(`v${i + j}`)
                .exec(),
            ),
          );
        }
      } finally {
        client.close();
      }

      const learner = await c.addMember('learner1', { learner: true });
      let list = await c.memberList(c.members[0]!);
      const entry = list.find((m) => m.name === 'learner1');
      assert.ok(entry !== undefined, 'the started learner is in member list with its name');
      assert.equal(entry.isLearner, true);
      assert.equal(entry.ID, learner.id);
      assert.deepEqual(entry.peerURLs, [learner.peerUrl]);

      // Catches up: a serializable (local) read on the learner sees the last preloaded key.
      await waitFor(
        'the learner to catch up',
        async () =>
          (await learner.ctl(['get', `pre/${PRELOAD - 1}`, '--print-value-only', '--consistency=s']))
            .stdout === `v${PRELOAD - 1}\n`,
        20_000,
        100,
      );
      const st = await learner.status();
      assert.ok(
        typeof st === 'object' && st.isLearner,
        `a learner's endpoint status says isLearner: ${JSON.stringify(st)}`,
      );

      // Linearizable read and write through the learner are refused with etcd's error. etcdctl retries an
      // Unavailable read 100 times (~25 ms apart) before printing the last error, hence the long timeout.
      const lin = await learner.ctl(['--command-timeout=10s', 'get', `pre/0`], 20_000);
      assert.notEqual(lin.code, 0, 'a linearizable read on a learner must fail');
      assert.ok(
        lin.stderr.includes(LEARNER_REFUSED),
        `linearizable read on learner: ${lin.stderr.slice(-400)}`,
      );
      assert.match(lin.stderr, /^Error: etcdserver: rpc not supported for learner$/m);
      const put = await learner.ctl(['--command-timeout=2s', 'put', 'via-learner', 'x']);
      assert.notEqual(put.code, 0, 'a write through a learner must fail');
      assert.ok(put.stderr.includes(LEARNER_REFUSED), `put on learner: ${put.stderr.slice(-400)}`);

      // Promote (in sync now; retried, bounded, in case the leader has not yet seen its progress).
      let promoted = await c.promote(learner);
      for (let i = 0; i < 20 && promoted.code !== 0; i++) {
        await new Promise((r) => setTimeout(r, 250));
        promoted = await c.promote(learner);
      }
      // etcdctl prints ids with %16x: space-padded when shorter than 16 hex digits.
      assert.equal(promoted.code, 0, `promote of a caught-up learner: ${promoted.stderr}`);
      assert.match(promoted.stdout, /^Member +[0-9a-f]+ promoted in cluster +[0-9a-f]+\n$/);
      list = await c.memberList(c.members[1]!);
      assert.equal(list.find((m) => m.name === 'learner1')?.isLearner, false);
      // A voter now: linearizable reads and writes through it work.
      const lin2 = await learner.ctl(['get', 'pre/1', '--print-value-only']);
      assert.equal(lin2.stdout, 'v1\n', lin2.stderr);
      assert.equal((await learner.ctl(['put', 'via-promoted', 'y'])).code, 0);

      // A learner whose process never started has not caught up: promote is refused.
      const lagging = await c.addMember('learner2', { learner: true, start: false });
      const refused = await c.promote(lagging);
      assert.notEqual(refused.code, 0, 'promote of a lagging learner must fail');
      assert.ok(refused.stderr.includes(NOT_IN_SYNC), `promote of a lagging learner: ${refused.stderr}`);
      assert.match(
        refused.stderr,
        /^Error: etcdserver: can only promote a learner member which is in sync with leader$/m,
      );
      // Removing that never-started learner is allowed (it is not counted for quorum).
      const rmLagging = await c.removeMember(lagging);
      assert.equal(rmLagging.code, 0, `remove of the lagging learner: ${rmLagging.stderr}`);

      // Remove a running voter (the promoted learner): the cluster is 3 voters again, the member exits.
      const removed = await c.removeMember(learner);
      assert.equal(removed.code, 0, `member remove: ${removed.stderr}`);
      assert.match(removed.stdout, /^Member +[0-9a-f]+ removed from cluster +[0-9a-f]+\n$/);
      for (const m of c.members.slice(0, 3)) {
        const names = (await c.memberList(m)).map((x) => x.name).sort();
        assert.deepEqual(names, ['m0', 'm1', 'm2'], `member list via ${m.name} after removals`);
      }
      assert.ok(await learner.waitExit(15_000), 'the removed member keeps running');
      assert.deepEqual(learner.exitStatus, { code: 0, signal: null }, 'etcd exits with code 0 once removed');
      assert.match(learner.logs(), /the member has been permanently removed from the cluster/);
      const gone = await learner.ctl(
        ['--dial-timeout=1s', '--command-timeout=2s', 'get', 'pre/1', '--consistency=s'],
        10_000,
      );
      assert.notEqual(gone.code, 0, 'the removed member still serves reads');

      // Restarted on its old data dir, it stops again instead of serving.
      await learner.restart({ waitReady: false });
      assert.ok(await learner.waitExit(15_000), 'the removed member, restarted, keeps running');
      assert.deepEqual(learner.exitStatus, { code: 0, signal: null });

      // The remaining three still serve linearizable writes and reads.
      assert.equal((await c.members[0]!.ctl(['put', 'after-remove', 'z'])).code, 0);
      assert.equal((await c.members[2]!.ctl(['get', 'after-remove', '--print-value-only'])).stdout, 'z\n');
    },
  );
});
