// kill -9 of the leader of a 3-member cluster under a write load from several concurrent clients (each
// bound to one member, so writes also arrive through followers): the two survivors elect a new leader
// within a few election timeouts, no acknowledged put is lost (every one is read back, linearizably,
// through every surviving member), writes go on after the kill, and the old leader, restarted on its data
// dir, rejoins and catches up (same revision and `endpoint hashkv` on all three).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { kvClient, startCluster, type Cluster, type ClusterMember } from '../framework/index.js';

const ELECTION_MS = 500;
const WRITERS_PER_MEMBER = 3;
/** kill -9 once this many puts were acknowledged. */
const KILL_AFTER_ACKS = 300;
/** After the kill, stop once this many more puts were acknowledged (or the time budget is spent). */
const ACKS_AFTER_KILL = 300;
const LOAD_BUDGET_MS = 20_000;

interface Ack {
  key: string;
  value: string;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function readAll(m: ClusterMember, prefix: string): Promise<Map<string, string>> {
  const client = kvClient(m, 10_000);
  try {
    const kvs = await client.getAll().prefix(prefix).strings();
    return new Map(Object.entries(kvs));
  } finally {
    client.close();
  }
}

describe('cluster: kill -9 the leader under a write load', () => {
  let cluster: Cluster | undefined;
  const clients: Etcd3[] = [];
  after(async () => {
    for (const cl of clients) cl.close();
    await cluster?.stop();
  });

  it(
    'elects a new leader, loses no acknowledged put, and the old leader catches up',
    { timeout: 120_000 },
    async (t) => {
      cluster = await startCluster({ size: 3, electionMs: ELECTION_MS });
      const c = cluster;
      const oldLeader = await c.leader();

      const acks: Ack[] = [];
      let failures = 0;
      let acksAtKill = -1;
      let seq = 0;
      let stop = false;
      const started = Date.now();

      const writer = async (client: Etcd3, w: number): Promise<void> => {
        while (!stop && Date.now() - started < LOAD_BUDGET_MS) {
          const n = seq++;
          const key = `load/${String(n).padStart(6, '0')}`;
          const value = `v${n}-w${w}`;
          try {
            await client.put(key).value(value).exec();
            acks.push({ key, value });
          } catch {
            // Not acknowledged (the leader died, or the client's member did): may or may not be stored.
            failures++;
            await sleep(25);
          }
          if (acksAtKill >= 0 && acks.length >= acksAtKill + ACKS_AFTER_KILL) stop = true;
        }
      };
      const writers: Promise<void>[] = [];
      let w = 0;
      for (const m of c.members) {
        for (let i = 0; i < WRITERS_PER_MEMBER; i++) {
          const client = kvClient(m, 2_000);
          clients.push(client);
          writers.push(writer(client, w++));
        }
      }

      const killer = async (): Promise<{
        killedAt: number;
        electedAfterMs: number;
        newLeader: ClusterMember;
      }> => {
        while (acks.length < KILL_AFTER_ACKS && Date.now() - started < LOAD_BUDGET_MS / 2) await sleep(5);
        assert.ok(acks.length >= KILL_AFTER_ACKS, `only ${acks.length} puts acknowledged before the kill`);
        acksAtKill = acks.length;
        const killedAt = Date.now();
        await oldLeader.kill9();
        const newLeader = await c.waitLeader([oldLeader], 20 * ELECTION_MS);
        return { killedAt, electedAfterMs: Date.now() - killedAt, newLeader };
      };
      const [{ electedAfterMs, newLeader }] = await Promise.all([killer(), ...writers]);
      stop = true;
      t.diagnostic(
        `acked ${acks.length} (${acksAtKill} before the kill), failed ${failures}, ` +
          `new leader ${newLeader.name} seen ${electedAfterMs} ms after kill -9 of ${oldLeader.name}`,
      );

      assert.notEqual(newLeader, oldLeader);
      // etcd's randomized election timeout is in [1, 2) × --election-timeout; allow detection and polling slack.
      assert.ok(
        electedAfterMs < 10 * ELECTION_MS,
        `new leader only after ${electedAfterMs} ms (election timeout ${ELECTION_MS} ms)`,
      );
      assert.ok(
        acks.length >= acksAtKill + ACKS_AFTER_KILL,
        `writes did not go on after the kill: ${acks.length - acksAtKill} acknowledged afterwards`,
      );

      // Every acknowledged put is on every survivor (a linearizable range through each member).
      const survivors = c.members.filter((m) => m !== oldLeader);
      for (const m of survivors) {
        const found = await readAll(m, 'load/');
        const lost = acks.filter((a) => found.get(a.key) !== a.value).map((a) => a.key);
        assert.deepEqual(
          lost.slice(0, 20),
          [],
          `${lost.length} of ${acks.length} acknowledged puts missing via ${m.name}`,
        );
      }

      // The old leader restarts on its data dir, rejoins as a follower and catches up.
      await oldLeader.restart();
      const final = await c.waitConverged(c.members, 30_000);
      const st = await oldLeader.status();
      assert.ok(typeof st === 'object', `status of the restarted member: ${JSON.stringify(st)}`);
      assert.notEqual(st.leader, '0', 'the restarted member knows a leader');
      const onOld = await readAll(oldLeader, 'load/');
      const lost = acks.filter((a) => onOld.get(a.key) !== a.value).map((a) => a.key);
      assert.deepEqual(
        lost.slice(0, 20),
        [],
        `${lost.length} acknowledged puts missing on the restarted member`,
      );
      t.diagnostic(`converged at revision ${final.revision}`);
    },
  );
});
