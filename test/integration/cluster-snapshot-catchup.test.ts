// Catch-up by snapshot: with a small --snapshot-count the leader compacts its Raft log behind snapshots;
// a follower that is down while more entries are written than the leader keeps after a snapshot can no
// longer be sent the missing entries, so on restart it must receive the MVCC database as a snapshot over
// the peer transport. Checked by: the same revision and `endpoint hashkv` on all three members, every key
// readable on the follower, and the follower's etcd_network_snapshot_receive_success counter.
//
// Sizing (from etcd 3.4): after each snapshot the leader keeps SnapshotCatchUpEntries = 5000 entries
// (not configurable), so the follower must miss more than snapshot-count + 5000 entries; one put is one
// entry. cairn takes the same flags and is held to the same numbers.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { kvClient, startCluster, type Cluster } from '../framework/index.js';

const SNAPSHOT_COUNT = 100;
const CATCH_UP_ENTRIES = 5000;
const WRITES = SNAPSHOT_COUNT + CATCH_UP_ENTRIES + 600;
const CONCURRENCY = 32;

describe('cluster: a follower down past log compaction catches up by snapshot', () => {
  let cluster: Cluster | undefined;
  after(async () => {
    await cluster?.stop();
  });

  it('restarted follower installs a snapshot and converges', { timeout: 120_000 }, async (t) => {
    cluster = await startCluster({ size: 3, snapshotCount: SNAPSHOT_COUNT });
    const c = cluster;
    const leader = await c.leader();
    const follower = c.members.find((m) => m !== leader)!;

    const before = await follower.metricSum('etcd_network_snapshot_receive_success');
    assert.equal(before, 0, 'no snapshot received at formation');
    await follower.ctl(['put', 'snap/before', 'x']).then((r) => assert.equal(r.code, 0, r.stderr));
    await follower.stop(); // SIGTERM; data dir kept

    // Bounded load on the two remaining members: exactly WRITES puts, CONCURRENCY at a time.
    const client = kvClient(c.members.filter((m) => m !== follower));
    let next = 0;
    const t0 = Date.now();
    try {
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < WRITES) {
            const n = next++;
            await client
              .put(`snap/${String(n).padStart(6, '0')}`)
              .value(`v${n}`)
              .exec();
          }
        }),
      );
    } finally {
      client.close();
    }
    t.diagnostic(`${WRITES} puts in ${Date.now() - t0} ms while ${follower.name} was down`);

    await follower.restart();
    const h = await c.waitConverged(c.members, 60_000);
    assert.ok(h.revision >= WRITES + 2, `revision ${h.revision} after ${WRITES} puts`);

    // The follower got there through a snapshot, not by replaying entries the leader no longer has.
    const received = await follower.metricSum('etcd_network_snapshot_receive_success');
    assert.ok(
      received >= 1,
      `follower received no snapshot (etcd_network_snapshot_receive_success = ${received})`,
    );

    // Its own data is complete: a serializable (local) range's total count (etcd reports it despite --limit).
    const r = await follower.ctl(['get', 'snap/', '--prefix', '--limit=1', '--consistency=s', '-w', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { count: number }).count, WRITES + 1);
    const last = await follower.ctl([
      'get',
      `snap/${String(WRITES - 1).padStart(6, '0')}`,
      '--print-value-only',
    ]);
    assert.equal(last.stdout, `v${WRITES - 1}\n`);
  });
});
