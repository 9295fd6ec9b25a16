// The cluster metrics of seed 003's list, by etcd's names, on every member's /metrics: one leader
// (etcd_server_is_leader), a leader everywhere (etcd_server_has_leader), leader changes seen, proposals
// committed and applied, none pending once idle, WAL fsyncs timed, peer round trips measured. The same
// assertions hold for Debian etcd 3.4 (CAIRN_TEST_TARGET=etcd), so dashboards and alerts written for
// etcd work on cairn unchanged.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startCluster, waitFor, type Cluster } from '../framework/index.js';

describe('cluster: metrics', () => {
  let cluster: Cluster | undefined;
  after(async () => {
    await cluster?.stop();
  });

  it("every member exports etcd's cluster metrics with consistent values", { timeout: 90_000 }, async () => {
    cluster = await startCluster({ size: 3 });
    const c = cluster;
    const leader = await c.waitLeader();
    for (let i = 0; i < 20; i++) {
      const r = await c.members[i % 3]!.ctl(['put', `metrics/${i}`, 'v']);
      assert.equal(r.code, 0, r.stderr);
    }
    for (const m of c.members) {
      assert.equal(await m.metricSum('etcd_server_has_leader'), 1, `${m.name} has_leader`);
      assert.equal(await m.metricSum('etcd_server_is_leader'), m === leader ? 1 : 0, `${m.name} is_leader`);
      assert.ok(
        (await m.metricSum('etcd_server_leader_changes_seen_total')) >= 1,
        `${m.name} leader changes`,
      );
      assert.ok((await m.metricSum('etcd_server_proposals_committed_total')) >= 20, `${m.name} committed`);
      assert.ok(
        (await m.metricSum('etcd_disk_wal_fsync_duration_seconds_count')) >= 1,
        `${m.name} wal fsyncs`,
      );
      // Applied catches up with committed once the writes are done; nothing stays pending.
      await waitFor(`${m.name}: applied = committed, none pending`, async () => {
        const committed = await m.metricSum('etcd_server_proposals_committed_total');
        const applied = await m.metricSum('etcd_server_proposals_applied_total');
        const pending = await m.metricSum('etcd_server_proposals_pending');
        return committed === applied && pending === 0;
      });
    }
    // Peer round trips are measured by the leader's transport (etcd probes every peer every few seconds).
    await waitFor(
      'a peer round-trip time observed',
      async () => (await leader.metricSum('etcd_network_peer_round_trip_time_seconds_count')) > 0,
      30_000,
      250,
    );
  });
});
