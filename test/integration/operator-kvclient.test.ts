// The operator's cluster client (operator/src/kvclient, over the npm etcd3 client) against a real 3-member
// cluster: membership with hex ids, Status of each member, a learner added and removed, etcd's refusal to
// promote a learner that is not in sync, and MoveLeader. Target-agnostic: CAIRN_TEST_TARGET=etcd runs it
// against Debian etcd.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Etcd3ClusterClient, NO_LEADER } from '../../operator/src/kvclient/cluster-client.js';
import { startCluster, waitFor, type Cluster } from '../framework/index.js';

/** Retries `op` while the cluster answers "unhealthy cluster" (bounded). */
async function whenHealthy<T>(op: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      return await op();
    } catch (err) {
      if (!(err instanceof Error && /unhealthy cluster/.test(err.message)) || Date.now() > deadline)
        throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

describe('operator kvclient', () => {
  let cluster: Cluster | undefined;
  let client: Etcd3ClusterClient | undefined;
  after(async () => {
    client?.close();
    await cluster?.stop();
  });

  it('lists, adds, removes, reports status and moves the leader', { timeout: 120_000 }, async () => {
    cluster = await startCluster({ size: 3 });
    const c = cluster;
    await c.waitLeader();
    const endpoints = c.members.map((m) => m.clientUrl);
    client = new Etcd3ClusterClient(endpoints);
    const kv = client;

    const list = await kv.memberList();
    assert.match(list.clusterId, /^[0-9a-f]{16}$/);
    assert.equal(list.members.length, 3);
    assert.deepEqual(list.members.map((m) => m.name).sort(), c.members.map((m) => m.name).sort());
    for (const m of list.members) {
      assert.match(m.id, /^[0-9a-f]{16}$/);
      assert.equal(m.isLearner, false);
    }

    const statuses = await Promise.all(endpoints.map((e) => kv.status(e)));
    const leaders = new Set(statuses.map((s) => s.leader));
    assert.equal(leaders.size, 1, 'every member sees the same leader');
    const [leaderId] = [...leaders];
    assert.ok(leaderId !== undefined && leaderId !== NO_LEADER);
    assert.ok(
      list.members.some((m) => m.id === leaderId),
      'the leader is a member',
    );
    for (const s of statuses) {
      assert.equal(s.clusterId, list.clusterId);
      assert.ok(s.revision >= 1 && s.raftAppliedIndex >= 1 && s.dbSize > 0);
    }

    // A learner that never starts: listed as a learner without a name, and not promotable. Membership
    // changes wait until every voter has been connected for a while (etcd's "unhealthy cluster").
    const added = await whenHealthy(() => kv.addLearner('http://127.0.0.1:1'));
    assert.equal(added.member.isLearner, true);
    assert.equal(added.members.length, 4);
    assert.equal((await kv.memberList()).members.find((m) => m.id === added.member.id)?.name, '');
    await assert.rejects(
      kv.promote(added.member.id),
      /can only promote a learner member which is in sync with leader/,
    );
    await kv.remove(added.member.id);
    assert.equal((await kv.memberList()).members.length, 3);

    // MoveLeader goes to the leader and hands leadership to a follower.
    const leaderEndpoint = statuses.find((s) => s.memberId === leaderId)?.endpoint;
    const target = statuses.find((s) => s.memberId !== leaderId);
    assert.ok(leaderEndpoint !== undefined && target !== undefined);
    await kv.moveLeader(leaderEndpoint, target.memberId);
    await waitFor(
      'the follower leads',
      async () => (await kv.status(target.endpoint)).leader === target.memberId,
      10_000,
    );
  });
});
