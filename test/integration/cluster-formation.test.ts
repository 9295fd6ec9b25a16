// Cluster formation from etcd's bootstrap flags: 3- and 5-member clusters started with one
// --initial-cluster and a fresh token agree on a leader, every member answers `member list` alike (same
// ids, names, peer and client URLs — the ids are derived from the peer URLs and the token, so members
// that disagree on either would show it), and a write through any member is visible to a linearizable
// read through every other member (followers forward writes and serve reads through ReadIndex).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startCluster, type Cluster, type MemberInfo } from '../framework/index.js';

function sorted(list: MemberInfo[]): MemberInfo[] {
  return [...list]
    .map((m) => ({ ...m, peerURLs: [...m.peerURLs].sort(), clientURLs: [...m.clientURLs].sort() }))
    .sort((a, b) => (a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0));
}

for (const size of [3, 5]) {
  describe(`cluster formation: ${size} members`, () => {
    let cluster: Cluster | undefined;
    after(async () => {
      await cluster?.stop();
    });

    it(`forms, agrees on membership, and replicates writes`, { timeout: 60_000 }, async () => {
      cluster = await startCluster({ size });
      const c = cluster;
      assert.equal(c.members.length, size);

      // One leader, the same one seen by every member, and one cluster id.
      const leader = await c.waitLeader();
      const statuses = await Promise.all(c.members.map((m) => m.status()));
      const clusterIds = new Set<string>();
      for (const [i, s] of statuses.entries()) {
        assert.ok(
          typeof s === 'object',
          `${c.members[i]!.name}: endpoint status failed: ${JSON.stringify(s)}`,
        );
        assert.equal(s.leader, leader.id, `${c.members[i]!.name} sees another leader`);
        assert.equal(s.isLearner, false);
        clusterIds.add(s.clusterId);
      }
      assert.equal(clusterIds.size, 1, `members report different cluster ids: ${[...clusterIds].join(', ')}`);

      // member list through every member: identical, and exactly what the flags said.
      const lists = await Promise.all(c.members.map((m) => c.memberList(m)));
      const reference = sorted(lists[0]!);
      for (const [i, l] of lists.entries()) {
        assert.deepEqual(sorted(l), reference, `member list via ${c.members[i]!.name} differs from via m0`);
      }
      const expected = c.members
        .map((m) => ({
          ID: m.id!,
          name: m.name,
          peerURLs: [m.peerUrl],
          clientURLs: [m.clientUrl],
          isLearner: false,
        }))
        .sort((a, b) => (a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0));
      assert.deepEqual(reference, expected, 'member list does not match the members started');

      // A write through each member is read back, linearizably, through every other member.
      for (const writer of c.members) {
        const key = `formation/${writer.name}`;
        const put = await writer.ctl(['put', key, `written-via-${writer.name}`]);
        assert.equal(put.code, 0, `put via ${writer.name}: ${put.stderr}`);
        assert.equal(put.stdout, 'OK\n');
        for (const reader of c.members) {
          if (reader === writer) continue;
          const get = await reader.ctl(['get', key, '--print-value-only']);
          assert.equal(get.code, 0, `get via ${reader.name}: ${get.stderr}`);
          assert.equal(get.stdout, `written-via-${writer.name}\n`, `stale read of ${key} via ${reader.name}`);
        }
      }
      // ...and all members end on the same revision with the same KV hash.
      const h = await c.waitConverged();
      assert.equal(h.revision, 1 + size, 'one revision per put');
    });
  });
}
