// Durability: kill -9 the server in the middle of a stream of concurrent puts, restart it on the same data
// dir, and check that every acknowledged put is there with its value at the revision it was acknowledged
// with, and that the store revision did not go backwards. Bounded: 8 writers, at most 2000 puts or ~2 s.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Etcd3 } from 'etcd3';
import { startCairn, type Member } from '../framework/index.js';

const WRITERS = 8;
const MAX_PUTS = 2000;
const MAX_STREAM_MS = 2000;
/** kill -9 once this many puts were acknowledged (or when the time budget is half used). */
const KILL_AFTER_ACKS = 400;

interface Ack {
  key: string;
  value: string;
  revision: bigint;
}

function newClient(m: Member): Etcd3 {
  return new Etcd3({
    hosts: m.clientUrl,
    dialTimeout: 2_000,
    // bounded: no call may hang on a dead server
    defaultCallOptions: () => ({ deadline: Date.now() + 3_000 }),
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

describe('durability: kill -9 during acknowledged puts', () => {
  let m: Member | undefined;
  let client: Etcd3 | undefined;

  before(async () => {
    m = await startCairn({ name: 'durability' });
  });
  after(async () => {
    client?.close();
    await m?.stop();
  });

  it('every acknowledged put survives kill -9 and restart', async (t) => {
    const member = m!;
    client = newClient(member);
    const acks: Ack[] = [];
    let failures = 0;
    let issued = 0;
    let killed = false;
    const started = Date.now();

    const writer = async (w: number): Promise<void> => {
      while (!killed && issued < MAX_PUTS && Date.now() - started < MAX_STREAM_MS * 2) {
        const n = issued++;
        const key = `k-${String(n).padStart(5, '0')}`;
        const value = `v-${n}-w${w}`;
        try {
          const res = await client!.put(key).value(value).exec();
          acks.push({ key, value, revision: BigInt(res.header.revision) });
        } catch {
          // Not acknowledged: may or may not be present afterwards. The server is going away (or has a
          // problem): this writer stops, so that no stream of failing puts follows the kill.
          failures++;
          return;
        }
      }
    };

    const killer = async (): Promise<void> => {
      const deadline = started + MAX_STREAM_MS / 2;
      while (acks.length < KILL_AFTER_ACKS && Date.now() < deadline && issued < MAX_PUTS) await sleep(5);
      await member.kill9(); // mid-stream: writers still have puts in flight
      killed = true;
    };

    await Promise.all([killer(), ...Array.from({ length: WRITERS }, (_, w) => writer(w))]);
    client.close();
    client = undefined;

    assert.ok(
      acks.length > 0,
      `no put was acknowledged before kill -9 (failures: ${failures})\n${member.logs().slice(-3000)}`,
    );
    assert.ok(killed);
    assert.ok(failures > 0, 'the kill did not interrupt the stream: no put failed');
    // Every acknowledged put got its own revision.
    const revs = new Set(acks.map((a) => a.revision));
    assert.equal(revs.size, acks.length, 'two acknowledged puts share a revision');
    const maxAcked = acks.reduce((mx, a) => (a.revision > mx ? a.revision : mx), 0n);

    await member.restart();
    client = newClient(member);
    const all = await client.getAll().prefix('k-').exec();
    const found = new Map(all.kvs.map((kv) => [kv.key.toString(), kv]));
    const currentRev = BigInt(all.header.revision);

    const missing: string[] = [];
    const wrong: string[] = [];
    for (const a of acks) {
      const kv = found.get(a.key);
      if (kv === undefined) {
        missing.push(a.key);
        continue;
      }
      // each key is written once: its value and mod revision are exactly what was acknowledged
      if (kv.value.toString() !== a.value || BigInt(kv.mod_revision) !== a.revision || kv.version !== '1') {
        wrong.push(
          `${a.key}: acked ${a.value}@${a.revision}, found ${kv.value.toString()}@${kv.mod_revision} v${kv.version}`,
        );
      }
    }
    assert.deepEqual(missing, [], `${missing.length} of ${acks.length} acknowledged puts lost after kill -9`);
    assert.deepEqual(wrong, [], 'acknowledged puts changed after kill -9');
    assert.ok(
      currentRev >= maxAcked,
      `revision went backwards: ${currentRev} < highest acknowledged ${maxAcked}`,
    );
    // Keys that were not acknowledged may exist (written, reply lost) but must hold the value that was sent.
    for (const [key, kv] of found) {
      const n = Number(key.slice(2));
      assert.match(kv.value.toString(), new RegExp(`^v-${n}-w\\d$`), `unexpected value for ${key}`);
    }

    // The restarted server keeps working, and continues from the recovered revision.
    t.diagnostic(
      `issued ${issued}, acknowledged ${acks.length}, failed ${failures}, highest acked revision ${maxAcked}, ` +
        `recovered revision ${currentRev}, keys found ${found.size}`,
    );
    const p = await client.put('after-restart').value('ok').exec();
    assert.equal(BigInt(p.header.revision), currentRev + 1n);
    assert.equal(await client.get('after-restart').string(), 'ok');
  });
});
